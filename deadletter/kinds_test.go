package deadletter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/deadletter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExhaustedAndPanicMem(t *testing.T)       { testKinds(t, memEnv(t)) }
func TestExhaustedAndPanicJetStream(t *testing.T) { testKinds(t, jsEnv(t)) }

// testKinds: a message that fails every attempt is dead-lettered as
// exhausted, with the time of its first failure (seen by this process,
// before the dead-letter time); a handler that panics on its last attempt
// is dead-lettered as a panic.
func testKinds(t *testing.T, e env) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := e.b.Subscribe(ctx, "orders.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if m.Event.Type == markerType && m.Attempt() == 3 {
			panic("ledger exploded")
		}
		return errors.New("ledger down")
	}), bus.Group("ledger"), bus.DeadLetter(deadSubj), bus.MaxAttempts(3), bus.RetryBackoff(bus.ConstantBackoff(5*time.Millisecond)))
	require.NoError(t, err)
	before := time.Now()
	id := publish(t, e.b, orderType)
	ls, err := e.store.Wait(ctx, deadletter.Filter{Kind: bus.DeadLetterKindExhausted}, 1)
	require.NoError(t, err)
	md := ls[0].Metadata
	assert.Equal(t, id, ls[0].Event.ID)
	assert.Equal(t, "ledger", md.Group)
	assert.Equal(t, 3, md.Attempts)
	assert.False(t, md.Permanent)
	assert.False(t, md.FirstFailure.Before(before))
	assert.True(t, md.FirstFailure.Before(md.Time), "first failure %v, dead-lettered %v: two backoffs apart", md.FirstFailure, md.Time)

	publish(t, e.b, markerType)
	ls, err = e.store.Wait(ctx, deadletter.Filter{Kind: bus.DeadLetterKindPanic}, 1)
	require.NoError(t, err)
	assert.Contains(t, ls[0].Metadata.Reason, "ledger exploded")
	assert.Equal(t, markerType, ls[0].Event.Type)
}
