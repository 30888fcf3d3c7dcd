package wmbus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus/driver"
)

// newConn returns a Conn over gc, closed when the test ends.
func newConn(t *testing.T, gc *gochannel.GoChannel) *wmbus.Conn {
	c, err := wmbus.NewConn(gc, gc, wmbus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	return c
}

// TestNewConnNeedsSomething: a Conn with nothing to publish or subscribe
// through is an error.
func TestNewConnNeedsSomething(t *testing.T) {
	_, err := wmbus.NewConn(nil, nil, wmbus.Options{})
	require.Error(t, err)
}

// TestPublishMapping: headers become metadata, a multi-valued header and a
// request fail, and a message without ce-id gets a new UUID.
func TestPublishMapping(t *testing.T) {
	gc := newGoChannel(t)
	c := newConn(t, gc)
	ctx := t.Context()
	raw, err := gc.Subscribe(ctx, "x.y")
	require.NoError(t, err)

	err = c.Publish(ctx, &driver.Message{Subject: "x.y", Header: map[string][]string{"K": {"1", "2"}}})
	require.ErrorIs(t, err, driver.ErrInvalidHeader)
	assert.Contains(t, err.Error(), "one value per key")

	err = c.Publish(ctx, &driver.Message{Subject: "x.y", Reply: "_INBOX.1"})
	require.ErrorIs(t, err, driver.ErrNotSupported)

	require.NoError(t, c.Publish(ctx, &driver.Message{Subject: "x.y", Data: []byte("a"),
		Header: map[string][]string{"K": {"v"}, "Empty": {}}}))
	m := recv(t, raw, "a message without ce-id")
	m.Ack()
	assert.NotEmpty(t, m.UUID, "a new UUID when there is no ce-id")
	assert.Equal(t, message.Metadata{"K": "v"}, m.Metadata)
	assert.Equal(t, "a", string(m.Payload))
}

// TestSubscribeRejects: wildcard patterns, and groups without
// Options.GroupSubscriber, are not supported.
func TestSubscribeRejects(t *testing.T) {
	c := newConn(t, newGoChannel(t))
	h := func(*driver.Message) {}
	for _, p := range []string{"a.*", "a.>", ">"} {
		_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: p}, h)
		assert.ErrorIs(t, err, driver.ErrNotSupported, p)
	}
	_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "a.b", Group: "g"}, h)
	assert.ErrorIs(t, err, driver.ErrNotSupported)
}

// TestDrainWaitsForInFlight: Drain stops intake at once, waits for the
// handler in flight, and the handler's settlement reaches Watermill.
func TestDrainWaitsForInFlight(t *testing.T) {
	gc := newGoChannel(t)
	c := newConn(t, gc)
	ctx := t.Context()
	started, release := make(chan struct{}), make(chan struct{})
	var wm atomic.Pointer[message.Message]
	sub, err := c.Subscribe(ctx, driver.SubscribeOptions{Subject: "d.e", Concurrency: 2},
		func(m *driver.Message) {
			w, ok := m.Native.(*message.Message)
			require.True(t, ok, "Native is the Watermill message")
			wm.Store(w)
			close(started)
			<-release
			assert.NoError(t, m.Acker.Ack(ctx))
		})
	require.NoError(t, err)
	require.NoError(t, c.Publish(ctx, &driver.Message{Subject: "d.e"}))
	recv(t, started, "the handler to start")

	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(context.Background()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned while a handler ran: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, recv(t, drained, "Drain"))
	select {
	case <-wm.Load().Acked():
	default:
		t.Fatal("the Watermill message was not acked")
	}
}

// TestDrainDeadlineWaitsForHandlers: when Drain's ctx ends first, Drain
// still returns only after the handler in flight (the bus cancels its own
// handlers' context then), and reports the deadline; the handler's nack
// reaches Watermill.
func TestDrainDeadlineWaitsForHandlers(t *testing.T) {
	gc := newGoChannel(t)
	c := newConn(t, gc)
	ctx := t.Context()
	started, release := make(chan struct{}), make(chan struct{})
	var wm atomic.Pointer[message.Message]
	sub, err := c.Subscribe(ctx, driver.SubscribeOptions{Subject: "f.g"},
		func(m *driver.Message) {
			wm.Store(m.Native.(*message.Message))
			close(started)
			<-release
			assert.NoError(t, m.Acker.Nak(ctx))
		})
	require.NoError(t, err)
	require.NoError(t, c.Publish(ctx, &driver.Message{Subject: "f.g"}))
	recv(t, started, "the handler to start")
	dctx, cancel := context.WithTimeout(ctx, 0) // over before Drain starts
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(dctx) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned while a handler ran: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.ErrorIs(t, recv(t, drained, "Drain"), context.DeadlineExceeded)
	select {
	case <-wm.Load().Nacked():
	default:
		t.Fatal("the Watermill message was not nacked")
	}
	require.ErrorIs(t, sub.Drain(context.Background()), context.DeadlineExceeded, "a second Drain returns the first's result")
}

// TestNakWithDelayCutShortByDrain: a delayed nack waits in the reader, and
// Drain cuts the wait short: the message is nacked at once.
func TestNakWithDelayCutShortByDrain(t *testing.T) {
	gc := newGoChannel(t)
	c := newConn(t, gc)
	ctx := t.Context()
	started := make(chan *message.Message, 1)
	naked := make(chan error, 1)
	sub, err := c.Subscribe(ctx, driver.SubscribeOptions{Subject: "h.i"},
		func(m *driver.Message) {
			started <- m.Native.(*message.Message)
			naked <- m.Acker.(driver.DelayNaker).NakWithDelay(ctx, time.Hour)
		})
	require.NoError(t, err)
	require.NoError(t, c.Publish(ctx, &driver.Message{Subject: "h.i"}))
	w := recv(t, started, "the handler to start")
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(ctx) }()
	require.NoError(t, recv(t, naked, "the delayed nack, cut short"))
	require.NoError(t, recv(t, drained, "Drain"))
	select {
	case <-w.Nacked():
	default:
		t.Fatal("the Watermill message was not nacked")
	}
}

// TestCloseUnderlying: the Watermill values are the caller's unless
// CloseUnderlying is set; then a value that is both is closed once.
func TestCloseUnderlying(t *testing.T) {
	for _, own := range []bool{false, true} {
		var pubClosed, subClosed atomic.Int32
		gc := newGoChannel(t)
		c, err := wmbus.NewConn(pubCounter{gc, &pubClosed}, closeCounter{gc, &subClosed},
			wmbus.Options{CloseUnderlying: own})
		require.NoError(t, err)
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, c.Close(context.Background()), "Close is idempotent")
		want := int32(0)
		if own {
			want = 1
		}
		assert.Equal(t, want, pubClosed.Load(), "publisher, own=%v", own)
		assert.Equal(t, want, subClosed.Load(), "subscriber, own=%v", own)
		err = c.Publish(t.Context(), &driver.Message{Subject: "a"})
		assert.ErrorIs(t, err, driver.ErrClosed)
	}

	both := &pubSubCounter{GoChannel: newGoChannel(t)}
	c, err := wmbus.NewConn(both, both, wmbus.Options{CloseUnderlying: true})
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
	assert.EqualValues(t, 1, both.n.Load(), "one value given as both is closed once")
}

// TestCloseWhileClosing: a Close during another waits for it, bounded by
// its own ctx; once the first is done, Close returns the first's result.
func TestCloseWhileClosing(t *testing.T) {
	gc := newGoChannel(t)
	c, err := wmbus.NewConn(gc, gc, wmbus.Options{})
	require.NoError(t, err)
	ctx := t.Context()
	started, draining, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	_, err = c.Subscribe(ctx, driver.SubscribeOptions{Subject: "j.k"}, func(m *driver.Message) {
		close(started)
		// The delayed nack returns when the drain of the first Close
		// begins; the handler then holds that Close until released.
		assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(ctx, time.Hour))
		close(draining)
		<-release
	})
	require.NoError(t, err)
	require.NoError(t, c.Publish(ctx, &driver.Message{Subject: "j.k"}))

	recv(t, started, "the handler to start")
	first := make(chan error, 1)
	go func() { first <- c.Close(context.Background()) }()
	recv(t, draining, "the first Close to drain")
	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	require.ErrorIs(t, c.Close(expired), context.DeadlineExceeded, "a second Close is bounded by its own ctx")
	assert.ErrorIs(t, c.Publish(ctx, &driver.Message{Subject: "j.k"}), driver.ErrClosed)
	close(release)
	require.NoError(t, recv(t, first, "the first Close"))
	require.NoError(t, c.Close(context.Background()), "a later Close returns the first's result")
}

// pubSubCounter is a Watermill Pub/Sub that counts Close calls.
type pubSubCounter struct {
	*gochannel.GoChannel
	n atomic.Int32
}

// Close counts the call.
func (p *pubSubCounter) Close() error {
	p.n.Add(1)
	return nil
}

// pubCounter is a Watermill publisher that counts Close calls instead of
// closing the shared gochannel.
type pubCounter struct {
	message.Publisher
	n *atomic.Int32
}

// Close counts the call.
func (p pubCounter) Close() error {
	p.n.Add(1)
	return nil
}

// TestAttemptCounting: a subscription counts the deliveries of each
// Watermill UUID into Attempt: 1, then 2 and 3 for nacked redeliveries (a
// message left unsettled is nacked and counts too); an acked message is
// forgotten, so the same UUID published again starts at 1; a fan-out
// subscription counts apart; a negative AttemptMemory turns counting off.
func TestAttemptCounting(t *testing.T) {
	gc := newGoChannel(t)
	c := newConn(t, gc)
	ctx := t.Context()
	type delivery struct {
		id      string
		attempt int
	}
	// handler records each delivery on got and settles it by script.
	handler := func(got chan<- delivery, settle func(m *driver.Message) error) driver.Handler {
		return func(m *driver.Message) {
			got <- delivery{m.Header["ce-id"][0], m.Attempt}
			if settle != nil {
				assert.NoError(t, settle(m))
			}
		}
	}
	failTwice := func(m *driver.Message) error {
		switch m.Attempt {
		case 1:
			return m.Acker.Nak(ctx)
		case 2:
			return nil // left unsettled: the Conn nacks it
		default:
			return m.Acker.Ack(ctx)
		}
	}
	got, other := make(chan delivery, 16), make(chan delivery, 16)
	sub, err := c.Subscribe(ctx, driver.SubscribeOptions{Subject: "n.a", Concurrency: 3}, handler(got, failTwice))
	require.NoError(t, err)
	otherSub, err := c.Subscribe(ctx, driver.SubscribeOptions{Subject: "n.a"},
		handler(other, func(m *driver.Message) error { return m.Acker.Ack(ctx) }))
	require.NoError(t, err)
	publish := func(c *wmbus.Conn, subject, id string) {
		t.Helper()
		require.NoError(t, c.Publish(ctx, &driver.Message{Subject: subject,
			Header: map[string][]string{"ce-id": {id}}}))
	}

	publish(c, "n.a", "m1")
	for want := 1; want <= 3; want++ {
		assert.Equal(t, delivery{"m1", want}, recv(t, got, "delivery "+strconv.Itoa(want)))
	}
	assert.Equal(t, delivery{"m1", 1}, recv(t, other, "the fan-out copy"), "another subscription counts apart")

	publish(c, "n.a", "m1")
	assert.Equal(t, delivery{"m1", 1}, recv(t, got, "the UUID again, after its ack"), "an acked message is forgotten")
	assert.Equal(t, delivery{"m1", 2}, recv(t, got, "its redelivery"))
	assert.Equal(t, delivery{"m1", 3}, recv(t, got, "its second redelivery"))
	assert.Equal(t, delivery{"m1", 1}, recv(t, other, "the second fan-out copy"))
	require.NoError(t, sub.Drain(ctx))
	require.NoError(t, otherSub.Drain(ctx))

	off, err := wmbus.NewConn(gc, gc, wmbus.Options{AttemptMemory: -1})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, off.Close(context.Background())) })
	var naks atomic.Int32
	offGot := make(chan delivery, 4)
	_, err = off.Subscribe(ctx, driver.SubscribeOptions{Subject: "n.b"}, handler(offGot, func(m *driver.Message) error {
		if naks.Add(1) == 1 {
			return m.Acker.Nak(ctx)
		}
		return m.Acker.Ack(ctx)
	}))
	require.NoError(t, err)
	publish(off, "n.b", "m2")
	assert.Equal(t, delivery{"m2", 0}, recv(t, offGot, "a delivery without counting"))
	assert.Equal(t, delivery{"m2", 0}, recv(t, offGot, "a redelivery without counting"))
}
