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

func TestDrainFinishesQueuedAndInFlight(t *testing.T) {
	c := open(t, Options{})
	gate := make(chan struct{})
	var acked atomic.Int32
	started := make(chan string, 32)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "d", Concurrency: 2},
		func(ctx context.Context, m *driver.Message) {
			started <- string(m.Data)
			<-gate
			require.NoError(t, ctx.Err())
			require.NoError(t, m.Acker.Ack(ctx))
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
	c.mu.Lock()
	assert.Empty(t, c.subs)
	c.mu.Unlock()
}

func TestCloseHardStopCancelsHandlers(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	handlerErr := make(chan error, 1)
	started := make(chan struct{}, 8)
	var calls atomic.Int32
	subscribe(t, c, driver.SubscribeOptions{Subject: "h"}, func(ctx context.Context, m *driver.Message) {
		calls.Add(1)
		started <- struct{}{}
		<-ctx.Done()
		handlerErr <- ctx.Err()
		require.NoError(t, m.Acker.Nak(ctx)) // discarded: the subscriber stops
	})
	for range 3 {
		publish(t, c, "h", "x")
	}
	recv(t, started)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	err = c.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, recv(t, handlerErr), context.Canceled)
	assert.EqualValues(t, 1, calls.Load(), "queued fan-out messages are discarded")
	require.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "h"}), driver.ErrClosed)
}

func TestHardStopHandsGroupMessagesToLiveMember(t *testing.T) {
	const name = "TestHardStopHandsGroupMessages"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	started := make(chan string, 8)
	stopping := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(ctx context.Context, m *driver.Message) {
			started <- string(m.Data)
			<-ctx.Done() // returns unsettled: a nak
		})
	for i := range 4 {
		publish(t, c1, "g", fmt.Sprint(i))
	}
	require.Equal(t, "0", recv(t, started)) // 1, 2, 3 queued
	got := make(chan seen, 8)
	live := subscribe(t, c2, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(ctx context.Context, m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			require.NoError(t, m.Acker.Ack(ctx))
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

func TestHardStopHandsDelayedGroupMessage(t *testing.T) {
	const name = "TestHardStopHandsDelayed"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	naked := make(chan struct{})
	stopping := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(ctx context.Context, m *driver.Message) {
			require.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(ctx, 5*time.Millisecond))
			close(naked)
		})
	publish(t, c1, "g", "x")
	recv(t, naked)
	got := make(chan seen, 8)
	live := subscribe(t, c2, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(ctx context.Context, m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			require.NoError(t, m.Acker.Ack(ctx))
		})
	require.ErrorIs(t, stopping.Drain(cancelled(t)), context.Canceled)
	assert.Equal(t, seen{"x", 2}, recv(t, got))
	drain(t, live)
}

func TestDrainSendsGroupNakToLiveMember(t *testing.T) {
	const name = "TestDrainSendsGroupNak"
	c1 := open(t, Options{Name: name})
	c2 := open(t, Options{Name: name})
	gate := make(chan struct{})
	started := make(chan struct{})
	draining := subscribe(t, c1, driver.SubscribeOptions{Subject: "g", Group: "q"},
		func(ctx context.Context, m *driver.Message) {
			close(started)
			<-gate
			require.NoError(t, m.Acker.Nak(ctx))
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
			func(ctx context.Context, m *driver.Message) {
				handled.Add(1)
				require.NoError(t, m.Acker.Ack(ctx))
			})
	}
	for range 50 {
		publish(t, c, "x", "")
	}
	require.NoError(t, c.Close(t.Context()))
	assert.EqualValues(t, 150, handled.Load())
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "x"}, func(context.Context, *driver.Message) {})
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
			func(ctx context.Context, m *driver.Message) {
				if m.Attempt == 1 && m.Subject == "c.1" {
					_ = m.Acker.Nak(ctx)
					return
				}
				_ = m.Acker.Ack(ctx)
			})
		if i%3 == 0 {
			ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
			_ = s.Drain(ctx)
			cancel()
		}
	}
	<-done
}
