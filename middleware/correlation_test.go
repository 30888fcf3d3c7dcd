package middleware_test

import (
	"context"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCorrelationStartsFlowWithEventID(t *testing.T) {
	var got string
	h := bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		got = middleware.CorrelationID(ctx)
		return nil
	})
	require.NoError(t, middleware.Correlation()(h).Handle(context.Background(), event("e1")))
	assert.Equal(t, "e1", got)
}

func TestCorrelationKeepsIncomingID(t *testing.T) {
	in := event("e2")
	in.Event.Extensions = map[string]string{middleware.CorrelationIDExtension: "flow-1"}
	out := bus.NewMessage("orders.billed", "t.v1", nil)
	h := bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		assert.Equal(t, "flow-1", middleware.CorrelationID(ctx))
		middleware.Correlate(ctx, out)
		return nil
	})
	require.NoError(t, middleware.Correlation()(h).Handle(context.Background(), in))
	assert.Equal(t, map[string]string{"correlationid": "flow-1", "causationid": "e2"}, out.Event.Extensions)
}

func TestCorrelateKeepsValuesAlreadySet(t *testing.T) {
	ctx := middleware.WithCorrelationID(context.Background(), "flow-1")
	m := bus.NewMessage("orders.billed", "t.v1", nil)
	m.Event.Extensions = map[string]string{middleware.CorrelationIDExtension: "explicit"}
	middleware.Correlate(ctx, m)
	assert.Equal(t, map[string]string{"correlationid": "explicit"}, m.Event.Extensions)
}

func TestCorrelateWithoutContextSetsNothing(t *testing.T) {
	m := bus.NewMessage("orders.billed", "t.v1", nil)
	middleware.Correlate(context.Background(), m)
	assert.Nil(t, m.Event.Extensions)
	assert.Empty(t, middleware.CorrelationID(context.Background()))
}

func TestWithCorrelationIDOutsideHandler(t *testing.T) {
	ctx := middleware.WithCorrelationID(context.Background(), "req-42")
	assert.Equal(t, "req-42", middleware.CorrelationID(ctx))
	m := bus.NewMessage("orders.created", "t.v1", nil)
	middleware.Correlate(ctx, m)
	assert.Equal(t, map[string]string{"correlationid": "req-42"}, m.Event.Extensions, "no causation outside a handler")
}

// End to end on membus: created -> billed -> shipped. Every event carries
// the first event's id as correlation id; each names its cause.
func TestCorrelationPropagatesThroughBus(t *testing.T) {
	b := newBus(t)
	ctx := context.Background()
	forward := func(next, typ string) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			out := bus.NewMessage(next, typ, nil)
			middleware.Correlate(ctx, out)
			return b.Publish(ctx, out)
		})
	}
	type seen struct {
		ctxID string
		msg   *bus.Message
	}
	shipped := make(chan seen, 1)
	billedIDs := make(chan string, 1)
	mw := bus.Wrap(middleware.Correlation())
	_, err := b.Subscribe(ctx, "orders.created", forward("orders.billed", "com.example.order.billed.v1"), mw)
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "orders.billed", bus.Chain(forward("orders.shipped", "com.example.order.shipped.v1"),
		func(next bus.Handler) bus.Handler {
			return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
				billedIDs <- m.Event.ID
				return next.Handle(ctx, m)
			})
		}), mw)
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "orders.shipped", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		shipped <- seen{ctxID: middleware.CorrelationID(ctx), msg: m}
		return nil
	}), mw)
	require.NoError(t, err)

	first := bus.NewMessage("orders.created", "com.example.order.created.v1", nil)
	require.NoError(t, b.Publish(ctx, first))
	require.NotEmpty(t, first.Event.ID)

	billedID := recv(t, billedIDs)
	got := recv(t, shipped)
	assert.Equal(t, first.Event.ID, got.ctxID)
	assert.Equal(t, first.Event.ID, got.msg.Event.Extensions[middleware.CorrelationIDExtension])
	assert.Equal(t, billedID, got.msg.Event.Extensions[middleware.CausationIDExtension])
	assert.NotEqual(t, first.Event.ID, billedID)
}

// The two-hop case the brief names: the follow-up carries correlation id and
// causation id both equal to the first event's id.
func TestCorrelationFollowUpNamesFirstEvent(t *testing.T) {
	b := newBus(t)
	ctx := context.Background()
	_, err := b.Subscribe(ctx, "orders.created", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		out := bus.NewMessage("orders.billed", "com.example.order.billed.v1", nil)
		middleware.Correlate(ctx, out)
		return b.Publish(ctx, out)
	}), bus.Wrap(middleware.Correlation()))
	require.NoError(t, err)
	billed := collect(t, b, "orders.billed")

	first := bus.NewMessage("orders.created", "com.example.order.created.v1", nil)
	require.NoError(t, b.Publish(ctx, first))
	got := recv(t, billed)
	assert.Equal(t, first.Event.ID, got.Event.Extensions["correlationid"])
	assert.Equal(t, first.Event.ID, got.Event.Extensions["causationid"])
}
