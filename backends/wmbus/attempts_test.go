package wmbus

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttemptsCount: each delivery of a UUID counts one more, 1 for the
// first; UUIDs count apart; a forgotten UUID starts again at 1.
func TestAttemptsCount(t *testing.T) {
	a := newAttempts(10)
	assert.Equal(t, 1, a.delivered("a"), "first delivery")
	assert.Equal(t, 2, a.delivered("a"), "redelivery after a nack")
	assert.Equal(t, 3, a.delivered("a"), "second redelivery")
	assert.Equal(t, 1, a.delivered("b"), "another message counts apart")
	assert.Equal(t, 2, a.size())

	a.forget("a") // acked
	assert.Equal(t, 1, a.size(), "an acked message is forgotten")
	assert.Equal(t, 1, a.delivered("a"), "a forgotten UUID starts again")
	assert.Equal(t, 2, a.delivered("b"))
	a.forget("unknown") // no-op
	assert.Equal(t, 2, a.size())

	assert.Equal(t, 0, a.delivered(""), "an empty UUID cannot be counted")
	assert.Equal(t, 2, a.size(), "an empty UUID is not remembered")
}

// TestAttemptsEviction: at capacity the least recently delivered UUID is
// forgotten first, and its next delivery counts as the first again.
func TestAttemptsEviction(t *testing.T) {
	a := newAttempts(2)
	a.delivered("a")
	a.delivered("b")
	assert.Equal(t, 2, a.delivered("a"), "a is now the most recent")
	assert.Equal(t, 1, a.delivered("c"), "c evicts b, the least recently delivered")
	assert.Equal(t, 2, a.size(), "never more than the capacity")
	assert.Equal(t, 3, a.delivered("a"), "a survived the eviction")
	assert.Equal(t, 1, a.delivered("b"), "b was evicted: it starts again")
	assert.Equal(t, 2, a.size())
	assert.Equal(t, 1, a.delivered("c"), "b's return evicted c")

	one := newAttempts(1)
	assert.Equal(t, 1, one.delivered("a"))
	assert.Equal(t, 2, one.delivered("a"))
	assert.Equal(t, 1, one.delivered("b"))
	assert.Equal(t, 1, one.delivered("a"))
	assert.Equal(t, 1, one.size())
}

// TestAttemptsMemoryOption: 0 is the default capacity, a negative value
// turns counting off (Attempt 0).
func TestAttemptsMemoryOption(t *testing.T) {
	assert.Equal(t, defaultAttemptMemory, newAttempts(0).max)
	assert.Equal(t, 5, newAttempts(5).max)
	off := newAttempts(-1)
	require.Nil(t, off)
	assert.Equal(t, 0, off.delivered("a"))
	assert.Equal(t, 0, off.delivered("a"))
	off.forget("a")
	assert.Equal(t, 0, off.size())
}

// TestAttemptsConcurrent: concurrent readers of one subscription count
// every delivery once, and the capacity holds.
func TestAttemptsConcurrent(t *testing.T) {
	const readers, ids, rounds = 8, 50, 20
	a := newAttempts(ids)
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for i := range ids * rounds {
				id := strconv.Itoa((i + r) % ids)
				a.delivered(id)
				if i%7 == 0 {
					a.forget("never-" + id)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, ids, a.size())
	for i := range ids {
		assert.Equal(t, readers*rounds+1, a.delivered(strconv.Itoa(i)), "id %d", i)
	}

	small := newAttempts(3)
	var wg2 sync.WaitGroup
	for r := range readers {
		wg2.Go(func() {
			for i := range 200 {
				id := strconv.Itoa(r*1000 + i)
				small.delivered(id)
				small.forget(id)
				small.delivered(id)
			}
		})
	}
	wg2.Wait()
	assert.LessOrEqual(t, small.size(), 3)
}
