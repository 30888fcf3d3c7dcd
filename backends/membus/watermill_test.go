package membus_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/backends/wmbus"
)

// watermillFeatures are the honest tests.Features of mem behind the
// Watermill face (wmbus.NewPublisher, wmbus.NewSubscriber with
// Concurrency 1).
var watermillFeatures = tests.Features{
	// Watermill's consumer groups are durable: TestConsumerGroups
	// subscribes a group, closes it, publishes, and expects the group's
	// next member to get the messages (Kafka, JetStream durables). mem has
	// NATS queue groups, which exist only while a member is subscribed.
	// TestWatermillFaceGroups below covers mem's competing consumers.
	ConsumerGroups: false,
	// At-least-once: a nacked or abandoned message comes again.
	ExactlyOnceDelivery: false,
	// Per publisher, per subscriber with Concurrency 1; a Nak puts the
	// message back at the head of the queue, so redelivery keeps order too.
	GuaranteedOrder:                     true,
	GuaranteedOrderWithSingleSubscriber: true,
	// Messages live only in subscription queues: nothing is kept for a
	// subscriber that comes later.
	Persistent:                       false,
	NewSubscriberReceivesOldMessages: false,
	// Every constructor call makes a new named broker shared by its
	// publisher and subscriber (see newWatermillPubSub): with no retention,
	// a subscriber from another call would not see earlier messages.
	RequireSingleInstance: true,
	// No broker process to restart.
	RestartServiceCommand: nil,
	// A message's context carries Subscribe's ctx, not the publisher's.
	ContextPreserved: false,
}

// needsRetention names the tests of tests.TestPubSub that expect a broker
// to keep messages for a subscription made after they were published, and
// says why each cannot pass on mem. tests.Features has no flag for a
// broker without retention that is not gochannel (which skips
// TestConcurrentClose by claiming ExactlyOnceDelivery and passes the other
// two by replaying every message to each new subscriber), so they are
// skipped here, by name, with the reason.
var needsRetention = map[string]string{
	"TestConcurrentClose": "publishes with no subscriber on the broker, closes, then expects a new " +
		"subscriber to get the messages; mem, like NATS, drops a message nobody subscribes to",
	"TestContinueAfterErrors": "nacks on one subscription, then expects a second, later subscription " +
		"on the same topic to get every earlier message; mem redelivers to the subscription that nacked",
	"TestSubscribeCtx": "cancels a subscription holding the messages, then expects a new " +
		"subscription to get them; mem does not replay old messages to new subscriptions",
}

// skipIfNeedsRetention skips the suite's test t when it is one of
// needsRetention. t is the suite's innermost subtest:
// TestPubSub/<test>/<id>.
func skipIfNeedsRetention(t *testing.T) {
	parts := strings.Split(t.Name(), "/")
	if len(parts) < 2 {
		return
	}
	if why, ok := needsRetention[parts[len(parts)-2]]; ok {
		t.Skip("mem keeps no messages for later subscribers: this test " + why)
	}
}

var brokerSeq atomic.Int64

// newWatermillPubSub opens a new named mem broker with two Conns on it,
// one behind a Watermill publisher and one behind a Watermill subscriber.
// The Conns close when the test ends; the Watermill values never close
// them (the suite closes those itself).
func newWatermillPubSub(t *testing.T, cfg wmbus.SubscriberConfig) (message.Publisher, message.Subscriber) {
	skipIfNeedsRetention(t)
	name := fmt.Sprintf("watermill-%d", brokerSeq.Add(1))
	pubConn, err := membus.Open(membus.Options{Name: name})
	require.NoError(t, err)
	subConn, err := membus.Open(membus.Options{Name: name})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, subConn.Close(context.Background()))
		assert.NoError(t, pubConn.Close(context.Background()))
	})
	return wmbus.NewPublisher(pubConn), wmbus.NewSubscriber(subConn, cfg)
}

// TestPubSub runs Watermill's universal Pub/Sub test suite on mem through
// the Watermill face of package wmbus.
func TestPubSub(t *testing.T) {
	tests.TestPubSub(t, watermillFeatures,
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return newWatermillPubSub(t, wmbus.SubscriberConfig{})
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			return newWatermillPubSub(t, wmbus.SubscriberConfig{Group: group})
		},
	)
}

// TestWatermillFaceGroups checks mem's competing consumers through the
// Watermill face: two subscribers in one group share the messages, each
// message going to one of them, while a fan-out subscriber gets them all.
func TestWatermillFaceGroups(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, conn.Close(context.Background())) })

	const n = 100
	topic := "orders.created"
	member1 := wmbus.NewSubscriber(conn, wmbus.SubscriberConfig{Group: "billing"})
	member2 := wmbus.NewSubscriber(conn, wmbus.SubscriberConfig{Group: "billing"})
	fanOut := wmbus.NewSubscriber(conn, wmbus.SubscriberConfig{})
	ch1, err := member1.Subscribe(t.Context(), topic)
	require.NoError(t, err)
	ch2, err := member2.Subscribe(t.Context(), topic)
	require.NoError(t, err)
	all, err := fanOut.Subscribe(t.Context(), topic)
	require.NoError(t, err)

	sent := tests.PublishSimpleMessages(t, n, wmbus.NewPublisher(conn), topic)

	got := map[string]int{}
	fromMember := [2]int{}
	for range n {
		select {
		case m := <-ch1:
			got[m.UUID]++
			fromMember[0]++
			m.Ack()
		case m := <-ch2:
			got[m.UUID]++
			fromMember[1]++
			m.Ack()
		case <-time.After(10 * time.Second):
			t.Fatalf("group got %d of %d messages", len(got), n)
		}
	}
	for _, m := range sent {
		assert.Equal(t, 1, got[m.UUID], "message %s", m.UUID)
	}
	assert.Positive(t, fromMember[0])
	assert.Positive(t, fromMember[1])

	received, ok := readN(all, n)
	require.True(t, ok, "fan-out subscriber got %d of %d", len(received), n)
	tests.AssertAllMessagesReceived(t, sent, received)

	for _, s := range []message.Subscriber{member1, member2, fanOut} {
		require.NoError(t, s.Close())
	}
}

// readN reads and acks n messages or gives up after 10s of silence.
func readN(ch <-chan *message.Message, n int) (message.Messages, bool) {
	var got message.Messages
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				return got, false
			}
			got = append(got, m)
			m.Ack()
		case <-time.After(10 * time.Second):
			return got, false
		}
	}
	return got, true
}

// TestWatermillFaceNackRedelivers checks that a Nack through the face
// becomes a Nak on mem: the same message comes again, with its UUID and
// metadata, and the ack of the redelivery settles it.
func TestWatermillFaceNackRedelivers(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, conn.Close(context.Background())) })
	sub := wmbus.NewSubscriber(conn, wmbus.SubscriberConfig{NackDelay: time.Millisecond})
	t.Cleanup(func() { assert.NoError(t, sub.Close()) })
	msgs, err := sub.Subscribe(t.Context(), "jobs.run")
	require.NoError(t, err)

	sent := message.NewMessage(watermill.NewUUID(), []byte("payload"))
	sent.Metadata.Set("tenant", "acme")
	require.NoError(t, wmbus.NewPublisher(conn).Publish("jobs.run", sent))

	for i := range 3 {
		select {
		case m := <-msgs:
			assert.True(t, sent.Equals(m), "delivery %d: %+v", i+1, m)
			if i < 2 {
				m.Nack()
			} else {
				m.Ack()
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d did not come", i+1)
		}
	}
	select {
	case m := <-msgs:
		t.Fatalf("acked message came again: %s", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestWatermillRouterOnMem runs a Watermill message.Router on mem through
// the face: a handler error makes the message come again, and closing the
// router closes the face subscriber, not the Conn.
func TestWatermillRouterOnMem(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, conn.Close(context.Background())) })

	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	require.NoError(t, err)
	var calls atomic.Int32
	done := make(chan string, 1)
	router.AddConsumerHandler("count", "events.counted",
		wmbus.NewSubscriber(conn, wmbus.SubscriberConfig{}),
		func(m *message.Message) error {
			if calls.Add(1) == 1 {
				return fmt.Errorf("first attempt fails")
			}
			done <- string(m.Payload)
			return nil
		})
	ran := make(chan error, 1)
	go func() { ran <- router.Run(context.Background()) }()
	<-router.Running()

	pub := wmbus.NewPublisher(conn)
	require.NoError(t, pub.Publish("events.counted", message.NewMessage(watermill.NewUUID(), []byte("hello"))))
	select {
	case got := <-done:
		assert.Equal(t, "hello", got)
	case <-time.After(10 * time.Second):
		t.Fatal("the router's handler did not get the message")
	}
	assert.EqualValues(t, 2, calls.Load())
	require.NoError(t, router.Close())
	require.NoError(t, <-ran)
	require.NoError(t, pub.Publish("events.counted", message.NewMessage(watermill.NewUUID(), nil)),
		"the Conn stays open")
}
