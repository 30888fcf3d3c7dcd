package natsbus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Item 2 of issue 8: a subscription whose consumer disappears is recreated
// (groups) or ends with an error it reports (plain subscriptions).

// deleteSubscription removes the backend's side of a JetStream
// subscription through the JetStream API: a group's durable consumer by
// its ConsumerName, a plain subscription's consumer by its description.
// It is the natsbus value of bustest.Features.DeleteSubscription.
func deleteSubscription(t *testing.T, b *bus.Bus, pattern, group string) {
	t.Helper()
	var st jetstream.Stream
	if !b.As(&st) {
		t.Fatalf("deleteSubscription: %q is not on a JetStream bus", pattern)
	}
	name := ""
	if group != "" {
		name = natsbus.ConsumerName(group)
	} else {
		want := fmt.Sprintf("busway subscription on %q", pattern)
		list := st.ListConsumers(t.Context())
		for ci := range list.Info() {
			if ci.Config.Description == want {
				name = ci.Name
			}
		}
		require.NoError(t, list.Err())
	}
	require.NotEmpty(t, name, "no consumer for %q", pattern)
	require.NoError(t, st.DeleteConsumer(t.Context(), name), "delete consumer %s", name)
}

// ender is driver.Ender; every natsbus subscription implements it.
func ender(t *testing.T, s driver.Subscription) driver.Ender {
	t.Helper()
	e, ok := s.(driver.Ender)
	require.True(t, ok, "%T does not implement driver.Ender", s)
	return e
}

// delCollect subscribes through the driver and sends each delivery's
// data to the returned channel, acking it.
func delCollect(t *testing.T, c *natsbus.Conn, o driver.SubscribeOptions) (driver.Subscription, <-chan string) {
	t.Helper()
	ch := make(chan string, 64)
	s, err := c.Subscribe(t.Context(), o, func(m *driver.Message) {
		ch <- string(m.Data)
		if m.Acker != nil {
			_ = m.Acker.Ack(context.Background())
		}
	})
	require.NoError(t, err)
	return s, ch
}

func delPublish(t *testing.T, c *natsbus.Conn, subject, data string) {
	t.Helper()
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: subject, Data: []byte(data)}))
}

// TestJetStreamGroupConsumerDeletedIsRecreated: an operator deletes a
// group's consumer while a Router runs; the consumer is recreated with its
// filter, and messages published after the deletion (even at once, before
// the recreation) still arrive. The Router keeps running.
func TestJetStreamGroupConsumerDeletedIsRecreated(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("DELG", "delg.>"))
	g := newGrpCounts()
	r := bus.NewRouter(b)
	r.Handle("delg.a.>", g.handler("a"), bus.Group("g"), bus.Concurrency(2))
	r.Handle("delg.b.>", g.handler("b"), bus.Group("g"))
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	t.Cleanup(func() { stop(); jsTestRecv(t, ran, "Router.Run to return") })
	jsTestWait(t, "the group's consumer with both patterns", func() bool {
		c, err := e.js.Consumer(t.Context(), "DELG", natsbus.ConsumerName("g"))
		return err == nil && len(c.CachedInfo().Config.FilterSubjects) == 2
	})
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("delg.a.1", "before")))
	g.waitFor(t, "before")
	// Acked first: a message in flight when the consumer goes is
	// delivered again by the recreated one (at-least-once).
	e.settled(t, "DELG", natsbus.ConsumerName("g"), 1)
	e.waitPulling(t, "DELG", natsbus.ConsumerName("g"), 3)

	deleteSubscription(t, b, "delg.a.>", "g")
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("delg.a.1", "after-a")))
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("delg.b.1", "after-b")))
	g.waitFor(t, "after-a", "after-b")
	ci := e.consumerInfo(t, "DELG", natsbus.ConsumerName("g"))
	assert.ElementsMatch(t, []string{"delg.a.>", "delg.b.>"}, ci.Config.FilterSubjects, "recreated with the group's filter")
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("delg.b.1", "later")))
	g.waitFor(t, "later")
	assert.Equal(t, map[string]int{"before": 1, "after-a": 1, "after-b": 1, "later": 1}, g.all())
	select {
	case err := <-ran:
		t.Fatalf("Router.Run returned: %v", err)
	default:
	}
}

// TestJetStreamPlainConsumerDeletedEndsSubscription: a plain subscription's
// consumer cannot be recreated where it was (its position is gone), so the
// subscription ends with an error wrapping ErrConsumerDeleted.
func TestJetStreamPlainConsumerDeletedEndsSubscription(t *testing.T) {
	e := jsTestStart(t)
	c := openConn(t, e.srv, jsTestStream("DELP", "delp.>"))
	b := bus.New(c, bus.Logger(quiet))
	s, got := delCollect(t, c, driver.SubscribeOptions{Subject: "delp.>", Concurrency: 2})
	delPublish(t, c, "delp.x", "one")
	assert.Equal(t, "one", jsTestRecv(t, got, "the first message"))
	end := ender(t, s)
	select {
	case <-end.Done():
		t.Fatal("Done closed on a live subscription")
	default:
	}
	assert.NoError(t, end.Err())

	deleteSubscription(t, b, "delp.>", "")
	jsTestRecv(t, end.Done(), "Done to close")
	assert.ErrorIs(t, end.Err(), natsbus.ErrConsumerDeleted)
	assert.Contains(t, end.Err().Error(), "delp.>")
	assert.NoError(t, s.Drain(t.Context()), "Drain after the end")
}

// TestJetStreamStreamDeletedEndsGroupSubscription: when the stream itself
// is deleted, a group's consumer cannot be recreated: the subscription
// ends with an error wrapping ErrConsumerDeleted.
func TestJetStreamStreamDeletedEndsGroupSubscription(t *testing.T) {
	e := jsTestStart(t)
	c := openConn(t, e.srv, jsTestStream("DELS", "dels.>"))
	s, got := delCollect(t, c, driver.SubscribeOptions{Subject: "dels.>", Group: "g"})
	delPublish(t, c, "dels.x", "one")
	assert.Equal(t, "one", jsTestRecv(t, got, "the first message"))
	require.NoError(t, e.js.DeleteStream(t.Context(), "DELS"))
	end := ender(t, s)
	jsTestRecv(t, end.Done(), "Done to close")
	assert.ErrorIs(t, end.Err(), natsbus.ErrConsumerDeleted)
	assert.ErrorIs(t, end.Err(), jetstream.ErrStreamNotFound)
	assert.True(t, strings.Contains(end.Err().Error(), natsbus.ConsumerName("g")), "names the consumer: %v", end.Err())
}

// TestJetStreamGroupConsumerDeletedSubscriptionsRecover: after the
// recreation, a Drain and a Close work as usual (no stale pull loop left
// behind: goleak checks the package at exit).
func TestJetStreamGroupConsumerDeletedThenDrained(t *testing.T) {
	e := jsTestStart(t)
	c := openConn(t, e.srv, jsTestStream("DELD", "deld.>"))
	b := bus.New(c, bus.Logger(quiet))
	s, got := delCollect(t, c, driver.SubscribeOptions{Subject: "deld.>", Group: "g", Concurrency: 3})
	for range 3 {
		// Deleted while every loop's pull waits on it (a pull that reaches
		// the server after the deletion is noticed by the missing
		// heartbeats instead, seconds later).
		e.waitPulling(t, "DELD", natsbus.ConsumerName("g"), 3)
		deleteSubscription(t, b, "deld.>", "g")
		delPublish(t, c, "deld.x", "again")
		assert.Equal(t, "again", jsTestRecv(t, got, "a message after the deletion"))
	}
	assert.NoError(t, s.Drain(t.Context()))
	end := ender(t, s)
	jsTestRecv(t, end.Done(), "Done to close after Drain")
	assert.NoError(t, end.Err(), "Err after a Drain")
}

// TestCoreSubscriptionEndsWhenConnectionClosesForGood: when nats.go gives
// up reconnecting, every subscription ends with an error wrapping
// bus.ErrClosed and nats.ErrConnectionClosed.
func TestCoreSubscriptionEndsWhenConnectionClosesForGood(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	defer srv.Stop() // after a failure before the Stop below; a second Stop is a no-op
	ends := map[string]driver.Ender{}
	for name, js := range map[string]*natsbus.JetStreamConfig{"core": nil, "jetstream": jsTestStream("GONE", "gone.>")} {
		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet,
			MaxReconnects: 1, ReconnectWait: 10 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		s, _ := delCollect(t, c, driver.SubscribeOptions{Subject: "gone.x", Group: "g"})
		ends[name] = ender(t, s)
	}
	srv.Stop()
	for name, end := range ends {
		jsTestRecv(t, end.Done(), name+": Done to close")
		assert.ErrorIs(t, end.Err(), bus.ErrClosed, name)
		assert.ErrorIs(t, end.Err(), nats.ErrConnectionClosed, name)
	}
}
