package natsbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus/driver"
)

// wmTestCoreFeatures are the honest tests.Features of core NATS behind the
// Watermill face (wmbus.NewPublisher, wmbus.NewSubscriber, Concurrency 1).
var wmTestCoreFeatures = tests.Features{
	// Watermill's consumer groups are durable: TestConsumerGroups
	// subscribes a group, closes it, publishes, and expects the group's
	// next member to get what was published meanwhile. Core NATS queue
	// groups exist only while a member is subscribed (TestCoreConcurrency
	// and the conformance suite cover them), so the claim would be false.
	ConsumerGroups: false,
	// At-most-once: a message is delivered once or, with nobody
	// subscribed, not at all.
	ExactlyOnceDelivery: false,
	// Per publisher; the face hands the next message over only after the
	// previous one was acked or nacked.
	GuaranteedOrder:                     true,
	GuaranteedOrderWithSingleSubscriber: true,
	// Nothing is stored: a subscriber that comes later gets nothing.
	Persistent:                       false,
	NewSubscriberReceivesOldMessages: false,
	// The suite publishes before it subscribes; only the subscriber that
	// subscribed ahead (SubscribeInitialize) holds the messages. A
	// subscriber from another constructor call, made after the publish,
	// would see none: that is no persistence, not a bug.
	RequireSingleInstance: true,
	// TestCoreReconnectDeliversBufferedPublish tests reconnects instead.
	RestartServiceCommand: nil,
	// A message's context carries Subscribe's ctx, not the publisher's.
	ContextPreserved: false,
}

// wmTestCoreSkips names the tests of tests.TestPubSub that no Features
// flag turns off for a broker that neither stores nor redelivers, and says
// why core NATS cannot pass each.
var wmTestCoreSkips = map[string]string{
	"TestResendOnError": "nacks two messages and expects them again; core NATS is at-most-once: " +
		"a Nack cannot bring a message back (JetStream passes this test)",
	"TestContinueAfterErrors": "nacks 50 messages 100 times on one subscription; " +
		"core NATS does not redeliver a nacked message",
	"TestConcurrentClose": "publishes with no subscriber, then expects a new subscriber to get the messages; " +
		"core NATS drops a message nobody subscribes to",
	"TestSubscribeCtx": "cancels the subscription holding the messages, then expects a new " +
		"subscription to get them; core NATS keeps no messages for later subscriptions",
}

// wmTestStream captures the topics of the suite on JetStream; the suite
// names them through wmTestJetStreamFeatures.GenerateTopicFunc.
func wmTestStream() *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{
		Stream: natsbus.StreamConfig{Name: "WATERMILL", Subjects: []string{"wm.>"}},
		// Plain (fan-out) subscribers read the stream from its start, as
		// Kafka consumers without committed offsets do.
		Start: natsbus.StartAll,
	}
}

// wmTestJetStreamFeatures are the honest tests.Features of JetStream behind
// the Watermill face, with wmTestStream's settings.
var wmTestJetStreamFeatures = tests.Features{
	// A group is a durable consumer: it keeps its position while no member
	// is subscribed.
	ConsumerGroups: true,
	// At-least-once: a message not acked comes again.
	ExactlyOnceDelivery: false,
	// Stream order, one message at a time through the face; only a
	// redelivery reorders, and the suite's order test nacks nothing.
	GuaranteedOrder:                     true,
	GuaranteedOrderWithSingleSubscriber: true,
	Persistent:                          true,
	// With start=all every new plain subscription replays the stream.
	NewSubscriberReceivesOldMessages: true,
	// JetStream does not need it: TestConcurrentClose,
	// TestContinueAfterSubscribeClose, TestContinueAfterErrors,
	// TestNewSubscriberReceivesOldMessages and TestConsumerGroups read
	// with subscribers of other constructor calls and pass. With false,
	// TestConcurrentSubscribe and TestPublishSubscribeInOrder read through
	// the suite's internal/subscriber.NewMultiplier, whose goroutines each
	// block forever holding a message once the test stops reading; on a
	// stream every fan-out subscriber gets every message, so they do, and
	// goleak (TestMain) fails the package. Those two tests pass with false
	// otherwise.
	RequireSingleInstance: true,
	RestartServiceCommand: nil,
	ContextPreserved:      false,
	// Topics must be inside the stream's subjects ("wm.>"); the suite's
	// own names ("topic-<uuid>", "-1" suffixes) are single tokens.
	GenerateTopicFunc: func(tctx tests.TestContext) string { return "wm.topic-" + tctx.TestID.String() },
}

// wmTestSkip skips the suite's test t when skips names it. t is the
// suite's innermost subtest: <Test>/<suite test>/<test id>.
func wmTestSkip(t *testing.T, skips map[string]string) {
	parts := strings.Split(t.Name(), "/")
	if len(parts) < 2 {
		return
	}
	if why, ok := skips[parts[len(parts)-2]]; ok {
		t.Skip("core NATS: this test " + why)
	}
}

// wmTestPubSub opens two Conns on srv, one behind a Watermill publisher,
// one behind a Watermill subscriber. When the test ends the subscriber is
// closed (if the suite did not), then the Conns.
func wmTestPubSub(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig, cfg wmbus.SubscriberConfig) (message.Publisher, message.Subscriber) {
	t.Helper()
	open := func() driver.Conn {
		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet})
		require.NoError(t, err)
		return c
	}
	pubConn, subConn := open(), open()
	cfg.Logger = quiet
	pub, sub := wmbus.NewPublisher(pubConn), wmbus.NewSubscriber(subConn, cfg)
	t.Cleanup(func() {
		assert.NoError(t, sub.Close())
		ctx, cancel := context.WithTimeout(context.Background(), coreTestWait)
		defer cancel()
		assert.NoError(t, subConn.Close(ctx))
		assert.NoError(t, pubConn.Close(ctx))
	})
	return pub, sub
}

// wmTestRun runs Watermill's universal suite on srv.
func wmTestRun(t *testing.T, srv *embedded.Server, js func() *natsbus.JetStreamConfig, f tests.Features, skips map[string]string) {
	tests.TestPubSub(t, f,
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			wmTestSkip(t, skips)
			return wmTestPubSub(t, srv, js(), wmbus.SubscriberConfig{})
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			wmTestSkip(t, skips)
			return wmTestPubSub(t, srv, js(), wmbus.SubscriberConfig{Group: group})
		},
	)
}

// TestWatermillPubSubCore runs Watermill's universal Pub/Sub test suite on
// core NATS through the Watermill face of package wmbus.
func TestWatermillPubSubCore(t *testing.T) {
	srv := startEmbedded(t)
	wmTestRun(t, srv, func() *natsbus.JetStreamConfig { return nil }, wmTestCoreFeatures, wmTestCoreSkips)
}

// TestWatermillPubSubJetStream runs Watermill's universal Pub/Sub test
// suite on JetStream through the Watermill face of package wmbus.
func TestWatermillPubSubJetStream(t *testing.T) {
	srv := startEmbedded(t)
	wmTestRun(t, srv, wmTestStream, wmTestJetStreamFeatures, nil)
}

// TestWatermillFaceCoreQueueGroup checks what core NATS does offer for
// groups, through the Watermill face: two subscribers in one group share
// the messages published while they are subscribed, each message going to
// one of them, while a fan-out subscriber gets them all.
func TestWatermillFaceCoreQueueGroup(t *testing.T) {
	srv := startEmbedded(t)
	pub, member1 := wmTestPubSub(t, srv, nil, wmbus.SubscriberConfig{Group: "billing"})
	_, member2 := wmTestPubSub(t, srv, nil, wmbus.SubscriberConfig{Group: "billing"})
	_, fanOut := wmTestPubSub(t, srv, nil, wmbus.SubscriberConfig{})
	const topic, n = "orders.created", 100
	var chans []<-chan *message.Message
	for _, s := range []message.Subscriber{member1, member2, fanOut} {
		ch, err := s.Subscribe(t.Context(), topic)
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	sent := tests.PublishSimpleMessages(t, n, pub, topic)

	got, perMember := map[string]int{}, [2]int{}
	for len(got) < n {
		select {
		case m := <-chans[0]:
			got[m.UUID]++
			perMember[0]++
			m.Ack()
		case m := <-chans[1]:
			got[m.UUID]++
			perMember[1]++
			m.Ack()
		case <-time.After(coreTestWait):
			t.Fatalf("the group got %d of %d messages", len(got), n)
		}
	}
	for _, m := range sent {
		assert.Equal(t, 1, got[m.UUID], "message %s", m.UUID)
	}
	assert.Positive(t, perMember[0], "member 1 had a share")
	assert.Positive(t, perMember[1], "member 2 had a share")
	all := message.Messages{}
	for len(all) < n {
		select {
		case m := <-chans[2]:
			all = append(all, m)
			m.Ack()
		case <-time.After(coreTestWait):
			t.Fatalf("the fan-out subscriber got %d of %d messages", len(all), n)
		}
	}
	tests.AssertAllMessagesReceived(t, sent, all)
}
