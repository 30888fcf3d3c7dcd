package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openMem(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), "mem://")
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func TestRouterRunsOnce(t *testing.T) {
	r := bus.NewRouter(openMem(t))
	r.HandleFunc("a.b", func(context.Context, *bus.Message) error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()
	assert.Panics(t, func() { r.HandleFunc("c.d", func(context.Context, *bus.Message) error { return nil }) })
	cancel()
	require.NoError(t, <-done)
	assert.ErrorIs(t, r.Run(context.Background()), bus.ErrClosed)
}

func TestRouterSubscribeErrorStopsRun(t *testing.T) {
	r := bus.NewRouter(openMem(t))
	r.HandleFunc("ok.route", func(context.Context, *bus.Message) error { return nil })
	r.HandleFunc("bad.>.route", func(context.Context, *bus.Message) error { return nil })
	err := r.Run(context.Background())
	assert.ErrorIs(t, err, bus.ErrInvalidSubject)
	assert.ErrorContains(t, err, "bad.>.route")
}

func TestRouterMiddlewareOrder(t *testing.T) {
	b := openMem(t)
	var order []string
	mark := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
				order = append(order, name)
				return next.Handle(ctx, m)
			})
		}
	}
	done := make(chan struct{})
	r := bus.NewRouter(b)
	r.Use(mark("router1"), mark("router2"))
	r.HandleFunc("mw.order", func(context.Context, *bus.Message) error {
		order = append(order, "handler")
		close(done)
		return nil
	}, bus.Wrap(mark("route")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	<-r.Running()
	require.NoError(t, b.Publish(ctx, bus.NewMessage("mw.order", "t.v1", nil)))
	<-done
	assert.Equal(t, []string{"router1", "router2", "route", "handler"}, order)
}

func TestPublishHook(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	type key struct{}
	b := bus.New(conn, bus.PublishHook(func(ctx context.Context, m *bus.Message) {
		if v, ok := ctx.Value(key{}).(string); ok {
			m.Event.Extensions = map[string]string{"tenant": v}
		}
	}))
	t.Cleanup(func() { b.Close(context.Background()) })
	got := make(chan *bus.Message, 1)
	_, err = b.Subscribe(context.Background(), "hook.t", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}))
	require.NoError(t, err)
	ctx := context.WithValue(context.Background(), key{}, "acme")
	require.NoError(t, b.Publish(ctx, bus.NewMessage("hook.t", "t.v1", nil)))
	assert.Equal(t, "acme", (<-got).Event.Extensions["tenant"])
}

func TestRespondOnNonRequest(t *testing.T) {
	m := bus.NewMessage("a.b", "t.v1", nil)
	assert.ErrorIs(t, m.Respond(context.Background(), bus.NewMessage("", "r.v1", nil)), bus.ErrNotSupported)
	assert.False(t, m.IsRequest())
	assert.ErrorIs(t, m.InProgress(context.Background()), bus.ErrNotSupported)
	h, body := m.Raw()
	assert.Nil(t, h)
	assert.Nil(t, body)
	assert.Zero(t, m.Attempt())
}

// noRequests is a driver.Conn without request/reply.
type noRequests struct{ driver.Conn }

func TestRequestNotSupported(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	b := bus.New(noRequests{conn})
	t.Cleanup(func() { b.Close(context.Background()) })
	_, err = b.Request(context.Background(), bus.NewMessage("a.b", "t.v1", nil))
	assert.ErrorIs(t, err, bus.ErrNotSupported)
	var native *membus.Conn
	assert.False(t, b.As(&native), "the wrapper hides the native conn")
}

func TestAs(t *testing.T) {
	b := openMem(t)
	var native *membus.Conn
	assert.True(t, b.As(&native))
	assert.NotNil(t, native)
	var wrong *string
	assert.False(t, b.As(&wrong))
}

func TestTypedJSONMalformedIsPermanent(t *testing.T) {
	b := openMem(t)
	type order struct {
		ID int `json:"id"`
	}
	calls := 0
	dead := make(chan *bus.Message, 1)
	ctx := context.Background()
	_, err := b.Subscribe(ctx, "dead.orders", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "orders.typed", bus.JSON(func(context.Context, *bus.Message, order) error {
		calls++
		return nil
	}), bus.DeadLetter("dead.orders"), bus.RetryBackoff(nil))
	require.NoError(t, err)

	bad := bus.NewMessage("orders.typed", "order.v1", []byte(`{"id":"not a number"}`))
	bad.Event.DataContentType = "application/json"
	require.NoError(t, b.Publish(ctx, bad))
	d := <-dead
	assert.Equal(t, "true", d.Header.Get(bus.DeadLetterPermanentHeader))
	assert.Equal(t, "1", d.Header.Get(bus.DeadLetterAttemptsHeader), "never retried")
	assert.Contains(t, d.Header.Get(bus.DeadLetterReasonHeader), "malformed")
	assert.Equal(t, bad.Event.Data, d.Event.Data, "original bytes kept")
	assert.Zero(t, calls)
}

func TestDecodeJSONRefusesNonJSON(t *testing.T) {
	m := bus.NewMessage("a.b", "t.v1", []byte(`{}`))
	m.Event.DataContentType = "text/plain"
	_, err := bus.DecodeJSON[map[string]any](m)
	assert.ErrorIs(t, err, bus.ErrMalformed)
	assert.True(t, bus.IsPermanent(err))
	m.Event.DataContentType = "application/vnd.acme+json; charset=utf-8"
	_, err = bus.DecodeJSON[map[string]any](m)
	assert.NoError(t, err)
}

func TestNewJSONError(t *testing.T) {
	_, err := bus.NewJSON("a.b", "t.v1", make(chan int))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, bus.ErrMalformed))
}

func TestSubscribeNilHandler(t *testing.T) {
	_, err := openMem(t).Subscribe(context.Background(), "a.b", nil)
	assert.ErrorContains(t, err, "nil handler")
}
