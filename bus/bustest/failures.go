package bustest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted returns a handler that records every delivery in c and answers
// each message with fail(m); sentinels always succeed.
func scripted(c *collector, fail func(m *bus.Message) error) bus.Handler {
	return bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		c.add("", m)
		if isSentinel(m) {
			return nil
		}
		return fail(m)
	})
}

// checkAttempts checks that ms are deliveries 1..n of the event with ID id.
func checkAttempts(t *testing.T, ms []*bus.Message, id string, n int) {
	t.Helper()
	require.Len(t, ms, n, "deliveries: %s", describe(ms))
	for i, m := range ms {
		assert.Equal(t, id, m.Event.ID, "delivery %d is of another event", i+1)
		assert.Equal(t, i+1, m.Attempt(), "Attempt() of delivery %d", i+1)
	}
}

// testRedelivery: a handler that fails twice then succeeds sees the message
// three times, with Attempt 1, 2, 3, and then never again; the backoff is
// asked about each failed attempt. The retry policy holds on every
// backend: by redelivery, or by in-process retries on an at-most-once one.
func testRedelivery(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj := e.subject("flaky")
	c := newCollector()
	var mu sync.Mutex
	var backoffs []int
	backoff := bus.RetryBackoff(bus.BackoffFunc(func(attempt int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		backoffs = append(backoffs, attempt)
		return time.Millisecond
	}))
	h := scripted(c, func(m *bus.Message) error {
		if m.Attempt() < 3 {
			return fmt.Errorf("bustest: transient failure on attempt %d", m.Attempt())
		}
		return nil
	})
	_, err := sub.Subscribe(t.Context(), subj, h, bus.MaxAttempts(5), backoff)
	require.NoError(t, err)
	m := e.publish(t, pub, numbered(subj, 1))
	_, _, ok := c.waitUntil(e.timeout, func(ms []*bus.Message, _ []string) bool { return len(ms) >= 3 })
	require.True(t, ok, "waited %v for 3 deliveries", e.timeout)
	end := e.publish(t, pub, sentinel(subj)).Event.ID
	ms, _ := e.settled(t, c, end, 3)
	checkAttempts(t, ms, m.Event.ID, 3)
	mu.Lock()
	defer mu.Unlock()
	// Whether the backend delays the redelivery or the bus waits in
	// process, the bus asks Backoff for each failed attempt.
	assert.Equal(t, []int{1, 2}, backoffs, "Backoff gets the attempt that failed")
}

// testMaxAttempts: an always-failing handler with MaxAttempts(3) sees the
// message exactly three times (on every backend: by redelivery or in
// process), then one copy goes to the dead-letter subject with the
// original bytes and the failure in headers.
func testMaxAttempts(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj, dlq := e.subject("orders"), e.subject("dlq")
	dl := Recorder(t, sub, dlq)
	c := newCollector()
	h := scripted(c, func(m *bus.Message) error {
		return fmt.Errorf("bustest: always fails (attempt %d)", m.Attempt())
	})
	_, err := sub.Subscribe(t.Context(), subj, h, bus.MaxAttempts(3), bus.DeadLetter(dlq), tiny)
	require.NoError(t, err)
	m := e.publish(t, pub, numbered(subj, 7))
	dl.Wait(1, e.timeout)
	attempts, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 3)
	dls, _ := e.settled(t, dl.col, e.publish(t, pub, sentinel(dlq)).Event.ID, 1)
	checkAttempts(t, attempts, m.Event.ID, 3)
	require.Len(t, dls, 1, "dead letters: %s", describe(dls))
	assert.Equal(t, m.Event.ID, dls[0].Event.ID, "the dead letter is the same event")
	checkDeadLetter(t, dls[0], attempts[0], deadLetterWant{subj, 3, false, "bustest: always fails (attempt 3)"}, e.f.OwnHeaders)
}

// testPermanent: a handler returning bus.Permanent(err) sees the message
// once; it is dead-lettered at once, marked permanent.
func testPermanent(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj, dlq := e.subject("orders"), e.subject("dlq")
	dl := Recorder(t, sub, dlq)
	c := newCollector()
	h := scripted(c, func(*bus.Message) error { return bus.Permanent(errors.New("bustest: invalid input")) })
	_, err := sub.Subscribe(t.Context(), subj, h, bus.MaxAttempts(5), bus.DeadLetter(dlq), tiny)
	require.NoError(t, err)
	m := e.publish(t, pub, numbered(subj, 3))
	dl.Wait(1, e.timeout)
	attempts, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	dls, _ := e.settled(t, dl.col, e.publish(t, pub, sentinel(dlq)).Event.ID, 1)
	checkAttempts(t, attempts, m.Event.ID, 1)
	require.Len(t, dls, 1, "dead letters: %s", describe(dls))
	checkDeadLetter(t, dls[0], attempts[0], deadLetterWant{subj, 1, true, "bustest: invalid input"}, e.f.OwnHeaders)
}

// testPanic: a panicking handler does not crash the process. The message
// is attempted again (redelivered, or retried in process) and handled; the
// failure recorded for a dead letter wraps bus.ErrPanic with the panic
// value.
func testPanic(e *env) {
	sub, pub := e.bus(), e.bus()
	e.t.Run("Redelivered", func(t *testing.T) {
		subj := e.subject("panic", "once")
		c := newCollector()
		h := scripted(c, func(m *bus.Message) error {
			if m.Attempt() == 1 {
				panic("bustest: boom")
			}
			return nil
		})
		_, err := sub.Subscribe(t.Context(), subj, h, tiny)
		require.NoError(t, err)
		m := e.publish(t, pub, numbered(subj, 1))
		_, _, ok := c.waitUntil(e.timeout, func(ms []*bus.Message, _ []string) bool { return len(ms) >= 2 })
		require.True(t, ok, "waited %v for the redelivery after the panic", e.timeout)
		ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 2)
		checkAttempts(t, ms, m.Event.ID, 2)
	})
	e.t.Run("DeadLettered", func(t *testing.T) {
		subj, dlq := e.subject("panic", "always"), e.subject("panic", "dlq")
		dl := Recorder(t, sub, dlq)
		c := newCollector()
		h := scripted(c, func(*bus.Message) error { panic("bustest: boom " + strconv.Itoa(42)) })
		_, err := sub.Subscribe(t.Context(), subj, h, bus.MaxAttempts(1), bus.DeadLetter(dlq))
		require.NoError(t, err)
		e.publish(t, pub, numbered(subj, 1))
		dls := dl.Wait(1, e.timeout)
		ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
		require.Len(t, ms, 1)
		checkDeadLetter(t, dls[0], ms[0], deadLetterWant{subj, 1, false, bus.ErrPanic.Error() + ": bustest: boom 42"}, e.f.OwnHeaders)
	})
}
