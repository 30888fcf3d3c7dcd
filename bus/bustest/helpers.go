package bustest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/require"
)

// Event types the suite publishes.
const (
	testType     = "io.busway.bustest.event.v1"
	sentinelType = "io.busway.bustest.sentinel.v1"
)

// numbered returns a test message for subject whose data is i in decimal.
func numbered(subject string, i int) *bus.Message {
	return bus.NewMessage(subject, testType, []byte(strconv.Itoa(i)))
}

// sentinel returns the marker message published after the messages under
// test: once it arrived, so did everything published before it (where the
// backend keeps order), and anything that should not have arrived would
// have.
func sentinel(subject string) *bus.Message {
	return bus.NewMessage(subject, sentinelType, nil)
}

func isSentinel(m *bus.Message) bool { return m.Event.Type == sentinelType }

// number returns the number a numbered message carries, or -1.
func number(m *bus.Message) int {
	n, err := strconv.Atoi(string(m.Event.Data))
	if err != nil {
		return -1
	}
	return n
}

// publish publishes m on p and fails t on error.
func (e *env) publish(t *testing.T, p bus.Publisher, m *bus.Message) *bus.Message {
	t.Helper()
	require.NoError(t, p.Publish(t.Context(), m), "publish to %q", m.Subject)
	return m
}

// publishN publishes numbered messages 0..n-1 to subject and returns their
// event IDs.
func (e *env) publishN(t *testing.T, p bus.Publisher, subject string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = e.publish(t, p, numbered(subject, i)).Event.ID
	}
	return ids
}

// settled waits until c has recorded the sentinel with ID sentinelID and at
// least n other messages, then returns the other messages and who received
// each. It fails t on timeout.
func (e *env) settled(t *testing.T, c *collector, sentinelID string, n int) ([]*bus.Message, []string) {
	t.Helper()
	ms, from, ok := c.waitUntil(e.timeout, func(ms []*bus.Message, _ []string) bool {
		seen := false
		for _, m := range ms {
			seen = seen || m.Event.ID == sentinelID
		}
		return seen && len(ms) > n
	})
	if !ok {
		t.Fatalf("waited %v for %d messages and the sentinel, got %d: %s", e.timeout, n, len(ms), describe(ms))
	}
	var out []*bus.Message
	var outFrom []string
	for i, m := range ms {
		if m.Event.ID != sentinelID {
			out, outFrom = append(out, m), append(outFrom, from[i])
		}
	}
	return out, outFrom
}

// recv receives one value from ch or fails t after timeout.
func recv[T any](t *testing.T, timeout time.Duration, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("waited %v for %s", timeout, what)
		panic("unreachable")
	}
}

// notYet fails t when ch delivers within negativeWait: something happened
// that the contract says must wait (see negativeWait).
func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s too early (got %v)", what, v)
	case <-time.After(negativeWait):
	}
}

// ids returns the event IDs of ms.
func ids(ms []*bus.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Event.ID
	}
	return out
}

// describe summarises messages for a failure message.
func describe(ms []*bus.Message) string {
	var b strings.Builder
	for i, m := range ms {
		if i == 10 {
			fmt.Fprintf(&b, " ... (%d more)", len(ms)-i)
			break
		}
		fmt.Fprintf(&b, " [%s %s %s attempt=%d data=%.20q]", m.Subject, m.Event.Type, m.Event.ID, m.Attempt(), m.Event.Data)
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

// closer returns a function that closes ch once, and registers it with
// t.Cleanup so a handler blocked on ch is released when the test fails
// early.
func closer(t *testing.T, ch chan struct{}) func() {
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}
