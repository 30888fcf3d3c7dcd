package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// untilCancelled returns a handler whose deliveries (sentinels aside)
// signal entered and then wait for the handler's context to end, report
// its error on cancelled and return it: a handler that stops only when
// told to.
func untilCancelled(entered chan<- string, cancelled chan<- error) bus.Handler {
	return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		if isSentinel(m) {
			return nil
		}
		select {
		case entered <- m.Event.ID:
		default:
		}
		<-ctx.Done()
		select {
		case cancelled <- ctx.Err():
		default:
		}
		return ctx.Err()
	})
}

// testHardStopHandBack: a message in flight when a drain's deadline passes
// is handed back, not failed: the next member of the group gets it (even
// with MaxAttempts(1)), and nothing is dead-lettered.
func testHardStopHandBack(e *env) {
	t := e.t
	if !e.f.Redelivery || !e.f.Groups {
		t.Skip("needs redelivery and groups: the group's next member gets what a stopped one handed back")
	}
	stopping, pub := e.bus(), e.bus()
	subj, dlq, group := e.subject("handback"), e.subject("handback", "dlq"), bus.Group(e.group("handback"))
	dl := Recorder(t, pub, dlq)
	entered, cancelled := make(chan string, 1), make(chan error, 1)
	s, err := stopping.Subscribe(t.Context(), subj, untilCancelled(entered, cancelled), group,
		bus.MaxAttempts(1), bus.DeadLetter(dlq))
	require.NoError(t, err)
	m := e.publish(t, pub, numbered(subj, 1))
	recv(t, e.timeout, entered, "the message to reach the handler")
	ctx, cancel := context.WithTimeout(context.Background(), negativeWait)
	defer cancel()
	assert.ErrorIs(t, s.Drain(ctx), context.DeadlineExceeded, "a drain past its deadline")
	assert.ErrorIs(t, recv(t, e.timeout, cancelled, "the handler's context to end"), context.Canceled)

	c := newCollector()
	_, err = e.bus().Subscribe(t.Context(), subj, c.handler(""), group)
	require.NoError(t, err)
	ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	assert.Equal(t, []string{m.Event.ID}, ids(ms), "the handed-back message reached the next member, once")
	dls, _ := e.settled(t, dl.col, e.publish(t, pub, sentinel(dlq)).Event.ID, 0)
	assert.Empty(t, dls, "a message handed back at a hard stop is not dead-lettered")
}

// testSecondDrain: a second Drain while one is under way is bounded by its
// own context, and a Drain after the first returned gets the first's
// result; at the bus, the second's deadline also cancels the handlers of
// the drain under way (whoever started it, each caller's deadline bounds
// the shutdown). With Features.RawConn the backend's own Drain is checked
// too: bounded by its ctx, the first's result afterwards (driver.Once).
// Bus.Close twice behaves the same; it is not run here because a bounded
// second Close makes the first's result (and the OpenFunc cleanup's
// Close) an error.
func testSecondDrain(e *env) {
	e.t.Run("Bus", func(t *testing.T) {
		b, pub := e.bus(), e.bus()
		subj := e.subject("drain2")
		entered, cancelled := make(chan string, 1), make(chan error, 1)
		s, err := b.Subscribe(t.Context(), subj, untilCancelled(entered, cancelled))
		require.NoError(t, err)
		e.publish(t, pub, numbered(subj, 1))
		recv(t, e.timeout, entered, "the message to reach the handler")
		results := make(chan error, 2)
		go func() { results <- s.Drain(context.Background()) }() // first: no deadline of its own
		notYet(t, results, "Drain returned while a handler was in flight")
		ctx, cancel := context.WithTimeout(context.Background(), negativeWait)
		defer cancel()
		go func() { results <- s.Drain(ctx) }()
		assert.ErrorIs(t, recv(t, e.timeout, cancelled, "the handlers' context to end at the second's deadline"), context.Canceled)
		r1 := recv(t, e.timeout, results, "a Drain to return")
		r2 := recv(t, e.timeout, results, "the other Drain to return")
		assert.ErrorIs(t, r1, context.DeadlineExceeded)
		assert.ErrorIs(t, r2, context.DeadlineExceeded)
		assert.Contains(t, []error{r1, r2}, s.Drain(context.Background()), "a later Drain returns the first's result")
	})
	e.t.Run("Driver", func(t *testing.T) {
		if e.f.RawConn == nil {
			t.Skip("Features.RawConn is nil: the suite cannot reach the backend's subscription")
		}
		rawSecondDrain(t, e, e.f.RawConn(t))
	})
}

// rawSecondDrain checks driver.Subscription.Drain called twice while a
// callback is in flight: whichever call came first waits for the
// callback; the other returns by its (expired) ctx; a later Drain gets the
// first's result.
func rawSecondDrain(t *testing.T, e *env, raw driver.Conn) {
	subj := e.subject("rawdrain2")
	started, gate := make(chan struct{}, 1), make(chan struct{})
	release := closer(t, gate)
	s, err := raw.Subscribe(t.Context(), driver.SubscribeOptions{Subject: subj, Concurrency: 1}, func(m *driver.Message) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
		if m.Acker != nil {
			_ = m.Acker.Ack(context.Background())
		}
	})
	require.NoError(t, err)
	require.NoError(t, raw.Publish(t.Context(), &driver.Message{Subject: subj, Data: []byte("x")}))
	recv(t, e.timeout, started, "the callback to start")
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- s.Drain(expired) }()
	}
	assert.ErrorIs(t, recv(t, e.timeout, results, "a Drain bounded by its expired ctx"), context.DeadlineExceeded)
	select {
	case err := <-results:
		t.Fatalf("both Drains returned (%v) while a callback ran", err)
	default:
	}
	release()
	first := recv(t, e.timeout, results, "the first Drain, once the callback returned")
	require.ErrorIs(t, first, context.DeadlineExceeded, "a Drain whose ctx ended first")
	assert.Equal(t, first, s.Drain(context.Background()), "a later Drain returns the first's result")
}

// testSubscriptionDisappears: when the backend's side of a subscription
// is removed (Features.DeleteSubscription), a group subscription comes
// back (the backend recreates its durable side) and gets what is
// published once it is back; a plain one ends, saying so (Done, Err), and
// a Router running it returns the error, naming the route.
func testSubscriptionDisappears(e *env) {
	if e.f.DeleteSubscription == nil {
		e.t.Skip("Features.DeleteSubscription is nil: the backend has no subscription state to remove")
	}
	b, pub := e.bus(), e.bus()
	e.t.Run("GroupRecreated", func(t *testing.T) { e.groupRecreated(t, b, pub) })
	e.t.Run("PlainEnds", func(t *testing.T) {
		subj := e.subject("gone", "plain")
		s, err := b.Subscribe(t.Context(), subj, bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }))
		require.NoError(t, err)
		e.f.DeleteSubscription(t, b, subj, "")
		recv(t, e.timeout, s.Done(), "Done once the backend side is gone")
		assert.Error(t, s.Err(), "Err says why")
	})
	e.t.Run("RouterReturns", func(t *testing.T) {
		subj := e.subject("gone", "route")
		r := bus.NewRouter(b, bus.DrainTimeout(e.timeout))
		r.HandleFunc(subj, func(context.Context, *bus.Message) error { return nil })
		_, runErr := e.startRouter(t, r)
		e.f.DeleteSubscription(t, b, subj, "")
		err := recv(t, e.timeout, runErr, "Run to return once a route's subscription is gone")
		require.Error(t, err)
		assert.ErrorContains(t, err, subj)
	})
}

// groupRecreated: a group subscription whose backend side was removed
// comes back, and every message published once it is back arrives once.
func (e *env) groupRecreated(t *testing.T, b, pub *bus.Bus) {
	subj, group := e.subject("gone", "group"), e.group("gone")
	c := newCollector()
	s, err := b.Subscribe(t.Context(), subj, c.handler(""), bus.Group(group))
	require.NoError(t, err)
	e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 0)
	e.f.DeleteSubscription(t, b, subj, group)
	e.untilBack(t, c, pub, subj)
	want := e.publishN(t, pub, subj, 5)
	ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, len(want))
	got := map[string]int{}
	for _, m := range ms {
		got[m.Event.ID]++
	}
	for i, id := range want {
		assert.Equal(t, 1, got[id], "message %d published after the group came back", i)
	}
	assert.NoError(t, s.Err(), "a recreated subscription lives on")
}

// untilBack publishes probes to subject until one reaches c, or fails t
// after the timeout: what is published before the backend recreated the
// subscription may be lost (that depends on the backend); what comes
// after must not be.
func (e *env) untilBack(t *testing.T, c *collector, p bus.Publisher, subject string) {
	t.Helper()
	deadline := time.Now().Add(e.timeout)
	probes := map[string]bool{}
	for time.Now().Before(deadline) {
		probes[e.publish(t, p, bus.NewMessage(subject, sentinelType, []byte("probe"))).Event.ID] = true
		_, _, ok := c.waitUntil(200*time.Millisecond, func(ms []*bus.Message, _ []string) bool {
			for _, m := range ms {
				if probes[m.Event.ID] {
					return true
				}
			}
			return false
		})
		if ok {
			return
		}
	}
	t.Fatalf("the group subscription to %q did not come back within %v", subject, e.timeout)
}
