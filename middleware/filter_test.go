package middleware_test

import (
	"context"
	"errors"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilter(t *testing.T) {
	h := &counter{}
	handler := middleware.Filter(func(m *bus.Message) bool {
		return m.Event.Type == "com.example.order.created.v1"
	})(h)
	require.NoError(t, handler.Handle(context.Background(), event("e1")))
	other := event("e2")
	other.Event.Type = "com.example.order.deleted.v1"
	require.NoError(t, handler.Handle(context.Background(), other), "skipped and acked")
	assert.Equal(t, 1, h.calls())
}

var errNoCustomer = errors.New("customer is required")

func TestValidate(t *testing.T) {
	h := &counter{}
	handler := middleware.Validate(func(m *bus.Message) error {
		if m.Event.ID == "bad" {
			return errNoCustomer
		}
		return nil
	})(h)
	require.NoError(t, handler.Handle(context.Background(), event("good")))
	err := handler.Handle(context.Background(), event("bad"))
	assert.True(t, bus.IsPermanent(err))
	assert.ErrorIs(t, err, errNoCustomer)
	assert.EqualError(t, err, "busway: event bad (type com.example.order.created.v1) failed validation: customer is required")
	assert.Equal(t, 1, h.calls())
}

// On membus, a validation failure goes to the dead-letter subject at once,
// even with Retry inside and redelivery allowed.
func TestValidateDeadLettersOnBus(t *testing.T) {
	b := newBus(t)
	dlq := collect(t, b, "dlq.orders")
	h := &counter{}
	_, err := b.Subscribe(context.Background(), "orders.>", h, noBackoff, bus.DeadLetter("dlq.orders"),
		bus.Wrap(
			middleware.Validate(func(*bus.Message) error { return errNoCustomer }),
			middleware.Retry(middleware.RetryConfig{MaxRetries: 3}),
		))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), event("e1")))

	dead := recv(t, dlq)
	assert.Equal(t, "e1", dead.Event.ID)
	assert.Equal(t, "1", dead.Header.Get(bus.DeadLetterAttemptsHeader))
	assert.Equal(t, "true", dead.Header.Get(bus.DeadLetterPermanentHeader))
	assert.Contains(t, dead.Header.Get(bus.DeadLetterReasonHeader), "customer is required")
	assert.Zero(t, h.calls())
}
