package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPublishBatchInOrder: on a backend without a batch capability (mem),
// PublishBatch publishes every message, in order, and fills their ids.
func TestPublishBatchInOrder(t *testing.T) {
	b := openMem(t)
	got := make(chan string, 10)
	_, err := b.Subscribe(t.Context(), "batch.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- string(m.Event.Data)
		return nil
	}))
	require.NoError(t, err)
	ms := make([]*bus.Message, 10)
	for i := range ms {
		ms[i] = bus.NewMessage("batch.n", "com.example.n.v1", []byte(fmt.Sprint(i)))
	}
	require.NoError(t, b.PublishBatch(t.Context(), ms...))
	for i, m := range ms {
		assert.NotEmpty(t, m.Event.ID, "ids are filled")
		select {
		case d := <-got:
			assert.Equal(t, fmt.Sprint(i), d)
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
	}
}

// TestPublishBatchInvalidSendsNothing: one invalid message fails the batch
// before anything is published.
func TestPublishBatchInvalidSendsNothing(t *testing.T) {
	b := openMem(t)
	got := make(chan string, 10)
	_, err := b.Subscribe(t.Context(), "batch.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m.Subject
		return nil
	}))
	require.NoError(t, err)
	err = b.PublishBatch(t.Context(),
		bus.NewMessage("batch.ok", "com.example.n.v1", nil),
		bus.NewMessage("batch.*", "com.example.n.v1", nil))
	require.ErrorIs(t, err, bus.ErrInvalidSubject)
	assert.Contains(t, err.Error(), "batch message 1")
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("batch.sentinel", "com.example.n.v1", nil)))
	select {
	case s := <-got:
		assert.Equal(t, "batch.sentinel", s, "nothing from the failed batch was published")
	case <-time.After(10 * time.Second):
		t.Fatal("sentinel did not arrive")
	}
}
