package wmbus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus"
)

// TestMain fails the package's tests when they leak goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds waits that only fail when the code is broken.
const testTimeout = 10 * time.Second

// newGoChannel returns a gochannel Pub/Sub closed when the test ends (after
// the bus over it, as cleanups run last-in first-out).
func newGoChannel(t *testing.T) *gochannel.GoChannel {
	gc := gochannel.NewGoChannel(gochannel.Config{}, nil)
	t.Cleanup(func() { assert.NoError(t, gc.Close()) })
	return gc
}

// newBus opens a bus over a Conn on gc and closes it when the test ends.
func newBus(t *testing.T, gc *gochannel.GoChannel, opts wmbus.Options) *bus.Bus {
	conn, err := wmbus.NewConn(gc, gc, opts)
	require.NoError(t, err)
	b := bus.New(conn)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	return b
}

// recv returns the next value from ch, failing t after testTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// TestGoChannelThroughBus runs the bus over Watermill's gochannel: publish
// with bus.Publish, receive with a bus handler, a handler error makes
// gochannel redeliver, request/reply is not supported, and the CloudEvents
// attributes travel as ce- metadata and come back intact.
func TestGoChannelThroughBus(t *testing.T) {
	gc := newGoChannel(t)
	b := newBus(t, gc, wmbus.Options{})
	ctx := t.Context()
	const subject = "orders.eu.created"

	// A raw Watermill subscriber on the same topic sees what travels.
	raw, err := gc.Subscribe(ctx, subject)
	require.NoError(t, err)

	var calls atomic.Int32
	got := make(chan *bus.Message, 1)
	_, err = b.Subscribe(ctx, subject, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if calls.Add(1) == 1 {
			return errors.New("transient failure")
		}
		got <- m
		return nil
	}), bus.RetryBackoff(bus.ConstantBackoff(time.Millisecond)))
	require.NoError(t, err)

	sent := bus.NewMessage(subject, "com.example.order.created.v1", []byte(`{"id":42}`))
	sent.Event.Subject = "order-42"
	sent.Event.DataContentType = "application/json"
	sent.Event.Extensions = map[string]string{"tenant": "acme"}
	sent.Header.Set("Trace-Id", "abc123")
	require.NoError(t, b.Publish(ctx, sent))

	w := recv(t, raw, "the raw Watermill message")
	w.Ack()
	assert.Equal(t, sent.Event.ID, w.UUID, "the Watermill UUID is the event id")
	assert.Equal(t, sent.Event.ID, w.Metadata.Get("ce-id"))
	assert.Equal(t, "com.example.order.created.v1", w.Metadata.Get("ce-type"))
	assert.Equal(t, "acme", w.Metadata.Get("ce-tenant"))
	assert.Equal(t, "abc123", w.Metadata.Get("Trace-Id"))
	assert.Equal(t, `{"id":42}`, string(w.Payload))

	m := recv(t, got, "the redelivered message")
	assert.EqualValues(t, 2, calls.Load(), "the failed delivery was redelivered")
	assert.Equal(t, subject, m.Subject)
	assert.Equal(t, sent.Event.ID, m.Event.ID)
	assert.Equal(t, sent.Event.Source, m.Event.Source)
	assert.Equal(t, sent.Event.Type, m.Event.Type)
	assert.Equal(t, "order-42", m.Event.Subject)
	assert.Equal(t, "application/json", m.Event.DataContentType)
	assert.True(t, sent.Event.Time.Equal(m.Event.Time), "time %v != %v", m.Event.Time, sent.Event.Time)
	assert.Equal(t, map[string]string{"tenant": "acme"}, m.Event.Extensions)
	assert.Equal(t, `{"id":42}`, string(m.Event.Data))
	assert.Equal(t, "abc123", m.Header.Get("Trace-Id"))

	_, err = b.Request(ctx, bus.NewMessage("orders.eu.get", "com.example.order.get.v1", nil))
	assert.ErrorIs(t, err, bus.ErrNotSupported)

	var gcOut *gochannel.GoChannel
	require.True(t, b.As(&gcOut))
	assert.Same(t, gc, gcOut)
}

// TestGoChannelGroups: without Options.GroupSubscriber a group subscription
// is not supported; with it, the Conn subscribes through the factory's
// subscriber and closes it when the subscription is drained.
func TestGoChannelGroups(t *testing.T) {
	gc := newGoChannel(t)
	ctx := t.Context()
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })

	_, err := newBus(t, gc, wmbus.Options{}).Subscribe(ctx, "a.b", noop, bus.Group("g"))
	require.ErrorIs(t, err, bus.ErrNotSupported)

	var made, closed atomic.Int32
	b := newBus(t, gc, wmbus.Options{GroupSubscriber: func(group string) (message.Subscriber, error) {
		assert.Equal(t, "billing", group)
		made.Add(1)
		return closeCounter{gc, &closed}, nil
	}})
	got := make(chan *bus.Message, 1)
	sub, err := b.Subscribe(ctx, "a.b", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}), bus.Group("billing"))
	require.NoError(t, err)
	require.NoError(t, b.Publish(ctx, bus.NewMessage("a.b", "t.v1", nil)))
	recv(t, got, "the group's message")
	require.NoError(t, sub.Drain(ctx))
	assert.EqualValues(t, 1, made.Load())
	assert.EqualValues(t, 1, closed.Load(), "the group subscriber is the Conn's to close")
}

// closeCounter is a Watermill subscriber that counts Close calls instead
// of closing the shared gochannel.
type closeCounter struct {
	message.Subscriber
	n *atomic.Int32
}

// Close counts the call.
func (c closeCounter) Close() error {
	c.n.Add(1)
	return nil
}

// TestMessageAsWatermill: a handler reaches the Watermill message it was
// delivered as through bus.Message.As, and that message is the one the bus
// settles; other types are refused.
func TestMessageAsWatermill(t *testing.T) {
	gc := newGoChannel(t)
	b := newBus(t, gc, wmbus.Options{})
	ctx := t.Context()
	type seen struct {
		wm    *message.Message
		ok    bool
		other bool
	}
	got := make(chan seen, 1)
	_, err := b.Subscribe(ctx, "as.wm", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		var s seen
		s.ok = m.As(&s.wm)
		var gcOut *gochannel.GoChannel
		s.other = m.As(&gcOut)
		got <- s
		return nil
	}))
	require.NoError(t, err)
	sent := bus.NewMessage("as.wm", "com.example.as.v1", []byte("x"))
	require.NoError(t, b.Publish(ctx, sent))

	s := recv(t, got, "the delivery")
	require.True(t, s.ok, "As sets a *message.Message")
	assert.False(t, s.other, "As refuses a type the delivery is not")
	assert.Equal(t, sent.Event.ID, s.wm.UUID)
	assert.Equal(t, "com.example.as.v1", s.wm.Metadata.Get("ce-type"))
	recv(t, s.wm.Acked(), "the bus to ack the Watermill message")

	var wm *message.Message
	assert.False(t, sent.As(&wm), "a message built for publishing has no native message")
}
