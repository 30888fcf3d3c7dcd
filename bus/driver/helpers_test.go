package driver_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	var s driver.Set[int]
	ran := false
	require.NoError(t, s.Add(1, func() { ran = true }))
	require.NoError(t, s.Add(2, nil))
	assert.True(t, ran)
	s.Remove(2)
	assert.Equal(t, 1, s.Len())
	members, first := s.Close()
	assert.True(t, first)
	assert.Equal(t, []int{1}, members)
	assert.True(t, s.Closed())
	assert.ErrorIs(t, s.Add(3, func() { t.Error("then ran after Close") }), driver.ErrClosed)
	_, first = s.Close()
	assert.False(t, first)
}

// TestOnceSecondCallerHonoursItsContext: a second Drain waits for the
// first, but no longer than its own context.
func TestOnceSecondCallerHonoursItsContext(t *testing.T) {
	var o driver.Once
	release := make(chan struct{})
	started := make(chan struct{})
	firstErr := errors.New("first result")
	var runs atomic.Int32
	go func() {
		_ = o.Do(context.Background(), "drain", func(context.Context) error {
			runs.Add(1)
			close(started)
			<-release
			return firstErr
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := o.Do(ctx, "drain", func(context.Context) error { runs.Add(1); return nil })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "drain")
	close(release)
	<-o.Done()
	assert.ErrorIs(t, o.Do(t.Context(), "drain", nil), firstErr, "later callers get the first's result")
	assert.Equal(t, int32(1), runs.Load())
	assert.True(t, o.Started())
}

func TestGate(t *testing.T) {
	var g driver.Gate
	require.True(t, g.Enter())
	closed := make(chan struct{})
	go func() { g.CloseAndWait(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("CloseAndWait returned with a handler still in")
	case <-time.After(10 * time.Millisecond):
	}
	g.Leave()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("CloseAndWait did not return after Leave")
	}
	assert.False(t, g.Enter(), "no entry after close")
}

func TestDedupID(t *testing.T) {
	a := driver.DedupID("/src", "1")
	assert.Len(t, a, 32)
	assert.Equal(t, a, driver.DedupID("/src", "1"))
	assert.NotEqual(t, a, driver.DedupID("/other", "1"), "the source counts")
	assert.NotEqual(t, driver.DedupID("a", "bc"), driver.DedupID("ab", "c"), "parts are separated")
}
