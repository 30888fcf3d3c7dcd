package membus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cancelled(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// untilDrainEnds blocks the handler of m until a drain of m's subscription
// (Drain, or Close of its Conn) has begun and the context it was given has
// ended, as a handler of package bus returns once the bus cancels its
// context at the drain's deadline (membus gives handlers no context). With
// messages still queued, the drain is then a hard stop. m must have an
// Acker.
func untilDrainEnds(m *driver.Message) {
	s := m.Acker.(*delivery).sub
	<-s.closing
	<-s.drainCtx.Done() // set before closing was closed
}

// untilStopped blocks the handler of m until m's subscription has stopped
// (a hard stop, since the handler holds the drain up until then). It waits
// on the workers' condition variable, which stop broadcasts; the
// subscription must have one worker (this handler's), so that no wake-up
// meant for an idle worker is taken. m must have an Acker.
func untilStopped(m *driver.Message) {
	s := m.Acker.(*delivery).sub
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.state != subStopped {
		s.work.Wait()
	}
}

func TestDrainFinishesQueuedAndInFlight(t *testing.T) {
	c := open(t, Options{})
	gate := make(chan struct{})
	var acked atomic.Int32
	started := make(chan string, 32)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "d", Concurrency: 2},
		func(m *driver.Message) {
			started <- string(m.Data)
			<-gate
			assert.NoError(t, m.Acker.Ack(context.Background()))
			acked.Add(1)
		})
	const msgs = 10
	for i := range msgs {
		publish(t, c, "d", fmt.Sprint(i))
	}
	recv(t, started)
	recv(t, started) // two in flight, eight queued
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(context.Background()) }()
	<-sub.(*subscription).closing
	publish(t, c, "d", "after drain") // not routed any more
	close(gate)
	require.NoError(t, recv(t, drained))
	assert.EqualValues(t, msgs, acked.Load())
	for len(started) > 0 {
		assert.NotEqual(t, "after drain", <-started)
	}
	require.NoError(t, sub.Drain(t.Context()), "Drain again is a no-op")
	assert.Zero(t, c.subs.Len())
}

// A Close whose context ends first stops the subscriptions hard: queued
// fan-out messages are discarded, a handler's nak after the stop too, and
// Close reports both once the handler has returned.
func TestCloseHardStop(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	nakErr := make(chan error, 8)
	started := make(chan struct{}, 8)
	var calls atomic.Int32
	subscribe(t, c, driver.SubscribeOptions{Subject: "h"}, func(m *driver.Message) {
		calls.Add(1)
		started <- struct{}{}
		untilDrainEnds(m)
		nakErr <- m.Acker.Nak(context.Background()) // nobody else can take it
	})
	for range 3 {
		publish(t, c, "h", "x")
	}
	recv(t, started)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	err = c.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrDiscarded)
	assert.ErrorContains(t, err, "2 queued and 1 naked after the stop discarded")
	require.ErrorIs(t, recv(t, nakErr), driver.ErrClosed, "a fan-out nak after the stop")
	assert.EqualValues(t, 1, calls.Load(), "queued fan-out messages are discarded")
	require.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "h"}), driver.ErrClosed)
}

func TestHardStopHandsGroupMessagesToLiveMember(t *testing.T) {
	const name = "TestHardStopHandsGroupMessages"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	started := make(chan string, 8)
	stopping := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			started <- string(m.Data)
			untilDrainEnds(m) // returns unsettled: a nak
		})
	for i := range 4 {
		publish(t, c1, "g", fmt.Sprint(i))
	}
	require.Equal(t, "0", recv(t, started)) // 1, 2, 3 queued
	got := make(chan seen, 8)
	live := subscribe(t, c2, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			assert.NoError(t, m.Acker.Ack(context.Background()))
		})
	err := stopping.Drain(cancelled(t))
	require.ErrorIs(t, err, context.Canceled)
	want := map[seen]bool{{"0", 2}: true, {"1", 1}: true, {"2", 1}: true, {"3", 1}: true}
	for range len(want) {
		s := recv(t, got)
		assert.True(t, want[s], "unexpected %+v", s)
		delete(want, s)
	}
	assert.Empty(t, want)
	drain(t, live)
	close(got)
	assert.Empty(t, collectSeen(got))
}

func TestHardStopReportsFanOutDiscards(t *testing.T) {
	c := open(t, Options{})
	started := make(chan string, 8)
	nakErr := make(chan error, 1)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "x"}, func(m *driver.Message) {
		if string(m.Data) == "later" {
			assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(context.Background(), time.Hour))
			return
		}
		started <- string(m.Data)
		untilDrainEnds(m)
		nakErr <- m.Acker.(driver.DelayNaker).NakWithDelay(context.Background(), time.Millisecond)
	})
	for _, data := range []string{"later", "a", "b", "c", "d"} {
		publish(t, c, "x", data)
	}
	require.Equal(t, "a", recv(t, started)) // "later" is scheduled; b, c, d are queued
	err := sub.Drain(cancelled(t))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrDiscarded)
	assert.EqualError(t, err, `membus: drain of subscription "x": context canceled; `+
		"3 queued, 1 awaiting redelivery and 1 naked after the stop discarded")
	require.ErrorIs(t, recv(t, nakErr), driver.ErrClosed)
	assert.Empty(t, started)
}

func TestHardStopKeepsGroupMessagesForNextMember(t *testing.T) {
	const name = "TestHardStopKeepsGroupMessages"
	c1 := open(t, Options{Name: name})
	started := make(chan string, 8)
	first := subscribe(t, c1, driver.SubscribeOptions{Subject: "g.*", Group: "q"},
		func(m *driver.Message) {
			started <- string(m.Data)
			untilDrainEnds(m)
			// Nak once the stop has kept the two queued messages, so
			// that this one is kept after them.
			assert.Eventually(t, func() bool { return len(orphanSubjects(c1.b, "q")) == 2 },
				testTimeout, time.Millisecond)
			assert.NoError(t, m.Acker.Nak(context.Background()), "kept for the group")
		})
	for _, data := range []string{"0", "1", "2"} {
		publish(t, c1, "g.a", data)
	}
	require.Equal(t, "0", recv(t, started)) // 1 and 2 queued
	err := first.Drain(cancelled(t))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrDiscarded, "group messages are kept, not discarded")

	c2 := open(t, Options{Name: name})
	elsewhere, other := collect(t, c2, "g.b", "q") // does not match the orphans
	assert.Len(t, orphanSubjects(c2.b, "q"), 3)
	got := make(chan seen, 8)
	next := subscribe(t, c2, driver.SubscribeOptions{Subject: "g.a", Group: "q"},
		func(m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			assert.NoError(t, m.Acker.Ack(context.Background()))
		})
	publish(t, c2, "g.a", "3")
	// Queued messages were kept first, then the one naked after the stop.
	for _, want := range []seen{{"1", 1}, {"2", 1}, {"0", 2}, {"3", 1}} {
		assert.Equal(t, want, recv(t, got), "orphans first, in order, then new messages")
	}
	drain(t, next)
	drain(t, other)
	assert.Empty(t, elsewhere)
	assert.Empty(t, orphanSubjects(c2.b, "q"))
}

// orphanSubjects returns the subjects of the orphans b keeps for group.
func orphanSubjects(b *broker, group string) []string {
	b.orphans.mu.Lock()
	defer b.orphans.mu.Unlock()
	var out []string
	if q := b.orphans.groups[group]; q != nil {
		for i := range q.len() {
			out = append(out, q.buf[(q.head+i)%len(q.buf)].env.subject)
		}
	}
	return out
}

func TestOrphansBoundedAndReportedWithBroker(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	c.b.orphans.mu.Lock()
	c.b.orphans.max = 2
	c.b.orphans.mu.Unlock()
	started := make(chan string, 8)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			started <- string(m.Data)
			untilDrainEnds(m) // unsettled: kept for the group
		})
	for _, data := range []string{"0", "1", "2", "3"} {
		publish(t, c, "g", data)
	}
	require.Equal(t, "0", recv(t, started))
	err = sub.Drain(cancelled(t))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrDiscarded, "the full orphan queue dropped its oldest")
	assert.ErrorContains(t, err, "2 orphaned group message(s) discarded")

	err = c.Close(t.Context())
	require.ErrorIs(t, err, ErrDiscarded, "the orphans left die with the broker")
	assert.ErrorContains(t, err, "2 orphaned group message(s) discarded")
}

func TestHardStopHandsDelayedGroupMessage(t *testing.T) {
	const name = "TestHardStopHandsDelayed"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	started := make(chan string, 2)
	stopping := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			if string(m.Data) == "x" {
				assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(context.Background(), 5*time.Millisecond))
				return
			}
			started <- string(m.Data)
			untilStopped(m) // in flight at the hard stop
		})
	publish(t, c1, "g", "x")
	publish(t, c1, "g", "y")
	require.Equal(t, "y", recv(t, started)) // x is scheduled
	got := make(chan seen, 8)
	live := subscribe(t, c2, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			assert.NoError(t, m.Acker.Ack(context.Background()))
		})
	require.ErrorIs(t, stopping.Drain(cancelled(t)), context.Canceled)
	want := map[seen]bool{{"x", 2}: true, {"y", 2}: true}
	for range len(want) {
		s := recv(t, got)
		assert.True(t, want[s], "unexpected %+v", s)
		delete(want, s)
	}
	drain(t, live)
}

func TestGracefulDrainDoesNotWaitForDelayedRedelivery(t *testing.T) {
	const name = "TestGracefulDrainDoesNotWait"
	c := open(t, Options{Name: name})
	naked := make(chan string, 4)
	h := func(m *driver.Message) {
		assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(context.Background(), time.Minute))
		naked <- m.Subject
	}
	group := subscribe(t, c, driver.SubscribeOptions{Subject: "g", Group: "q"}, h)
	fanOut := subscribe(t, c, driver.SubscribeOptions{Subject: "f"}, h)
	publish(t, c, "g", "x")
	publish(t, c, "f", "y")
	recv(t, naked)
	recv(t, naked)

	// A generous deadline: had Drain waited for the minute, ctx would end.
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	require.NoError(t, group.Drain(ctx), "the group redelivery is kept for the group")
	err := fanOut.Drain(ctx)
	require.ErrorIs(t, err, ErrDiscarded)
	assert.EqualError(t, err, `membus: drain of subscription "f": 1 awaiting redelivery discarded`)
	require.NoError(t, ctx.Err(), "Drain returned before its context ended")

	ch, next := collect(t, c, "g", "q")
	m := receive(t, ch)
	assert.Equal(t, "x", string(m.Data))
	assert.Equal(t, 2, m.Attempt)
	drain(t, next)
}

func TestDrainSendsGroupNakToLiveMember(t *testing.T) {
	const name = "TestDrainSendsGroupNak"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	gate := make(chan struct{})
	started := make(chan struct{})
	draining := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(m *driver.Message) {
			close(started)
			<-gate
			assert.NoError(t, m.Acker.Nak(context.Background()))
		})
	publish(t, c1, "g", "x")
	recv(t, started)
	ch, live := collect(t, c2, "g", "q")
	drained := make(chan error, 1)
	go func() { drained <- draining.Drain(context.Background()) }()
	<-draining.(*subscription).closing
	close(gate)
	require.NoError(t, recv(t, drained))
	m := receive(t, ch)
	assert.Equal(t, 2, m.Attempt)
	drain(t, live)
}

func TestCloseDrainsGracefully(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	var handled atomic.Int32
	for range 3 {
		subscribe(t, c, driver.SubscribeOptions{Subject: "x", Concurrency: 2},
			func(m *driver.Message) {
				handled.Add(1)
				assert.NoError(t, m.Acker.Ack(context.Background()))
			})
	}
	for range 50 {
		publish(t, c, "x", "")
	}
	require.NoError(t, c.Close(t.Context()))
	assert.EqualValues(t, 150, handled.Load())
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "x"}, func(*driver.Message) {})
	require.ErrorIs(t, err, driver.ErrClosed)
}

func TestConcurrentPublishSubscribeDrain(t *testing.T) {
	const name = "TestConcurrentPublishSubscribeDrain"
	pub := open(t, Options{Name: name})
	subs := open(t, Options{Name: name, Buffer: 8})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			err := pub.Publish(context.Background(),
				&driver.Message{Subject: fmt.Sprintf("c.%d", i%3), Data: []byte("x")})
			if err != nil { // a full subscription was drained while we waited
				assert.ErrorIs(t, err, driver.ErrClosed)
			}
		}
	}()
	for i := range 20 {
		s := subscribe(t, subs, driver.SubscribeOptions{Subject: "c.*", Group: []string{"", "q"}[i%2]},
			func(m *driver.Message) {
				if m.Attempt == 1 && m.Subject == "c.1" {
					_ = m.Acker.Nak(context.Background())
					return
				}
				_ = m.Acker.Ack(context.Background())
			})
		if i%3 == 0 {
			ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
			_ = s.Drain(ctx)
			cancel()
		}
	}
	<-done
}
