package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attemptLog records when each delivery reached the handler and with
// which Attempt.
type attemptLog struct {
	mu       sync.Mutex
	attempts []int
	at       []time.Time
	ended    []time.Time // when each failing attempt returned
}

func (l *attemptLog) enter(m *bus.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, m.Attempt())
	l.at = append(l.at, time.Now())
}

func (l *attemptLog) fail() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = append(l.ended, time.Now())
	return errors.New("test: transient failure")
}

func (l *attemptLog) snapshot() ([]int, []time.Time, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.attempts...), append([]time.Time(nil), l.at...), append([]time.Time(nil), l.ended...)
}

const testBackoff = 150 * time.Millisecond

// failOnce subscribes a handler that fails its first attempt and then
// succeeds, and returns its log and a channel closed on the success.
func failOnce(t *testing.T, b *bus.Bus, opts ...bus.SubscribeOption) (*attemptLog, chan struct{}) {
	t.Helper()
	l, ok := &attemptLog{}, make(chan struct{})
	opts = append([]bus.SubscribeOption{bus.RetryBackoff(bus.ConstantBackoff(testBackoff))}, opts...)
	_, err := b.Subscribe(t.Context(), "jobs.run", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		l.enter(m)
		if m.Attempt() == 1 {
			return l.fail()
		}
		close(ok)
		return nil
	}), opts...)
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("jobs.run", "job.v1", nil)))
	return l, ok
}

// On an at-most-once delivery (no Acker: core NATS) the retry policy still
// holds: the bus calls the handler again after the backoff, counting the
// attempts itself.
func TestAtMostOnceRetriedInProcess(t *testing.T) {
	b, _ := openTest(t, &testConn{atMostOnce: true})
	l, ok := failOnce(t, b)
	recv(t, ok, "the retried attempt to succeed")
	attempts, at, ended := l.snapshot()
	assert.Equal(t, []int{1, 2}, attempts)
	assert.GreaterOrEqual(t, at[1].Sub(ended[0]), testBackoff, "the retry waited for the backoff")
}

// In-process retries stop at MaxAttempts; the last failure is final.
func TestAtMostOnceMaxAttemptsThenDeadLetter(t *testing.T) {
	b, _ := openTest(t, &testConn{atMostOnce: true})
	dead := make(chan *bus.Message, 1)
	_, err := b.Subscribe(t.Context(), "jobs.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	l := &attemptLog{}
	_, err = b.Subscribe(t.Context(), "jobs.run", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		l.enter(m)
		return l.fail()
	}), bus.MaxAttempts(3), bus.DeadLetter("jobs.dead"), bus.RetryBackoff(nil))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("jobs.run", "job.v1", nil)))
	d := recv(t, dead, "the dead letter")
	assert.Equal(t, "3", d.Header.Get(bus.DeadLetterAttemptsHeader))
	attempts, _, _ := l.snapshot()
	assert.Equal(t, []int{1, 2, 3}, attempts)
}

// A hard stop ends an in-process retry's wait: Drain returns by its
// deadline, and the message, at-most-once, is lost and logged.
func TestAtMostOnceRetryEndsAtHardStop(t *testing.T) {
	b, logs := openTest(t, &testConn{atMostOnce: true})
	failed := make(chan struct{}, 1)
	s, err := b.Subscribe(t.Context(), "jobs.run", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		failed <- struct{}{}
		return errors.New("test: transient failure")
	}), bus.RetryBackoff(bus.ConstantBackoff(time.Hour)))
	require.NoError(t, err)
	job := bus.NewMessage("jobs.run", "job.v1", nil)
	require.NoError(t, b.Publish(t.Context(), job))
	recv(t, failed, "the first attempt")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- s.Drain(ctx) }()
	assert.ErrorIs(t, recv(t, drained, "Drain to return at its deadline"), context.DeadlineExceeded)
	assert.Equal(t, 1, countLines(logs.String(), "lost", job.Event.ID), "%s", logs)
}

// Where the Acker cannot delay a redelivery, the bus waits the backoff in
// process before handing the message back.
func TestBackoffWithoutDelayNaker(t *testing.T) {
	b, _ := openTest(t, &testConn{noDelay: true})
	l, ok := failOnce(t, b)
	recv(t, ok, "the redelivery to succeed")
	attempts, at, ended := l.snapshot()
	assert.Equal(t, []int{1, 2}, attempts)
	assert.GreaterOrEqual(t, at[1].Sub(ended[0]), testBackoff, "the redelivery waited for the backoff")
}
