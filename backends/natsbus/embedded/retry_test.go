package embedded_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With no configuration (bus.Open with an empty URL), a handler that fails
// once is retried, as the documentation promises, and then succeeds.
func TestDefaultURLRetriesAFailedHandler(t *testing.T) {
	b := openBus(t, "")
	done := make(chan int, 1)
	_, err := b.Subscribe(t.Context(), "emb.retry", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if m.Attempt() == 1 {
			return errors.New("test: transient failure")
		}
		done <- m.Attempt()
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("emb.retry", "job.v1", nil)))
	select {
	case attempt := <-done:
		assert.Equal(t, 2, attempt)
	case <-time.After(10 * time.Second):
		t.Fatal("the failed message was not retried")
	}
}
