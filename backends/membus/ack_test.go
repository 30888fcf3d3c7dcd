package membus

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type seen struct {
	data    string
	attempt int
}

func subscribe(t testing.TB, c *Conn, opts driver.SubscribeOptions, h driver.Handler) driver.Subscription {
	t.Helper()
	sub, err := c.Subscribe(t.Context(), opts, h)
	require.NoError(t, err)
	return sub
}

func TestNakRedeliversFirstWithAttempt(t *testing.T) {
	c := open(t, Options{})
	gate := make(chan struct{})
	got := make(chan seen, 16)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "n"}, func(m *driver.Message) {
		got <- seen{string(m.Data), m.Attempt}
		if string(m.Data) == "a" && m.Attempt < 3 {
			<-gate // b and c are queued meanwhile
			assert.NoError(t, m.Acker.Nak(t.Context()))
			return
		}
		assert.NoError(t, m.Acker.Ack(t.Context()))
	})
	publish(t, c, "n", "a")
	require.Equal(t, seen{"a", 1}, recv(t, got))
	publish(t, c, "n", "b")
	publish(t, c, "n", "c")
	gate <- struct{}{}
	require.Equal(t, seen{"a", 2}, recv(t, got), "a nak is redelivered ahead of queued messages")
	gate <- struct{}{}
	require.Equal(t, seen{"a", 3}, recv(t, got))
	require.Equal(t, seen{"b", 1}, recv(t, got))
	require.Equal(t, seen{"c", 1}, recv(t, got))
	drain(t, sub)
	assert.Empty(t, got)
}

// TestNakWithDelay checks order, not time: messages published after a
// NakWithDelay are handled before the redelivery, which does come, with
// attempt 2. It runs in a synctest bubble, so that the delay passes only
// once every goroutine is blocked: the order is deterministic.
func TestNakWithDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := open(t, Options{})
		got := make(chan seen, 16)
		sub := subscribe(t, c, driver.SubscribeOptions{Subject: "d"}, func(m *driver.Message) {
			got <- seen{string(m.Data), m.Attempt}
			if string(m.Data) == "a" && m.Attempt == 1 {
				assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(t.Context(), time.Second))
				for _, data := range []string{"b", "c"} {
					assert.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "d", Data: []byte(data)}))
				}
				return
			}
			assert.NoError(t, m.Acker.Ack(t.Context()))
		})
		publish(t, c, "d", "a")
		for _, want := range []seen{{"a", 1}, {"b", 1}, {"c", 1}, {"a", 2}} {
			require.Equal(t, want, recv(t, got))
		}
		drain(t, sub)
		assert.Empty(t, got)
	})
}

func TestTermStopsRedelivery(t *testing.T) {
	c := open(t, Options{})
	got := make(chan seen, 16)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "t"}, func(m *driver.Message) {
		got <- seen{string(m.Data), m.Attempt}
		if string(m.Data) == "poison" {
			assert.NoError(t, m.Acker.(driver.Terminator).Term(t.Context(), "bad payload"))
			return
		}
		assert.NoError(t, m.Acker.Ack(t.Context()))
	})
	publish(t, c, "t", "poison")
	publish(t, c, "t", "ok")
	require.Equal(t, seen{"poison", 1}, recv(t, got))
	require.Equal(t, seen{"ok", 1}, recv(t, got))
	drain(t, sub)
	assert.Empty(t, got)
}

func TestUnsettledIsNakAndSettleTwiceFails(t *testing.T) {
	c := open(t, Options{})
	ackers := make(chan driver.Acker, 2)
	got := make(chan seen, 16)
	sub := subscribe(t, c, driver.SubscribeOptions{Subject: "u"}, func(m *driver.Message) {
		ctx := t.Context()
		got <- seen{string(m.Data), m.Attempt}
		ackers <- m.Acker
		if m.Attempt == 1 {
			return // not settled: a nak
		}
		assert.NoError(t, m.Acker.(driver.Progresser).InProgress(ctx))
		assert.NoError(t, m.Acker.Ack(ctx))
		assert.ErrorIs(t, m.Acker.Ack(ctx), ErrAlreadySettled)
		assert.ErrorIs(t, m.Acker.Nak(ctx), ErrAlreadySettled)
		assert.ErrorIs(t, m.Acker.(driver.DelayNaker).NakWithDelay(ctx, time.Hour), ErrAlreadySettled)
		assert.ErrorIs(t, m.Acker.(driver.Terminator).Term(ctx, ""), ErrAlreadySettled)
		assert.ErrorIs(t, m.Acker.(driver.Progresser).InProgress(ctx), ErrAlreadySettled)
	})
	publish(t, c, "u", "x")
	drain(t, sub)
	close(got)
	assert.Equal(t, []seen{{"x", 1}, {"x", 2}}, collectSeen(got))
	first := <-ackers
	require.ErrorIs(t, first.Ack(t.Context()), ErrAlreadySettled, "settling after the handler returned")
}

func collectSeen(ch <-chan seen) []seen {
	var out []seen
	for s := range ch {
		out = append(out, s)
	}
	return out
}

func TestGroupRedeliveryStaysInGroup(t *testing.T) {
	c := open(t, Options{})
	const msgs = 200
	var mu sync.Mutex
	acked := make(map[string]int)
	var wg sync.WaitGroup
	wg.Add(msgs)
	h := func(m *driver.Message) {
		if m.Attempt == 1 {
			assert.NoError(t, m.Acker.Nak(t.Context()))
			return
		}
		assert.Equal(t, 2, m.Attempt)
		assert.NoError(t, m.Acker.Ack(t.Context()))
		mu.Lock()
		acked[string(m.Data)]++
		mu.Unlock()
		wg.Done()
	}
	s1 := subscribe(t, c, driver.SubscribeOptions{Subject: "g", Group: "q"}, h)
	s2 := subscribe(t, c, driver.SubscribeOptions{Subject: "g", Group: "q", Concurrency: 3}, h)
	other, s3 := collect(t, c, "g", "")
	for i := range msgs {
		publish(t, c, "g", fmt.Sprint(i))
	}
	wg.Wait()
	drain(t, s1)
	drain(t, s2)
	drain(t, s3)
	assert.Len(t, acked, msgs)
	for k, n := range acked {
		assert.Equal(t, 1, n, k)
	}
	assert.Len(t, other, msgs, "group naks do not reach the fan-out subscriber again")
}
