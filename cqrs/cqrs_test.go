package cqrs_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

var ctx = context.Background()

// An old (v1) event reaches the v2 handler, upcast; a v2 one as is.
func TestOldVersionReachesNewHandlerUpcast(t *testing.T) {
	for name, b := range buses(t) {
		t.Run(name, func(t *testing.T) {
			got := make(chan placedV2, 10)
			svc := cqrs.New(b, billing)
			require.NoError(t, cqrs.OnEvent(svc, placed, func(_ context.Context, v placedV2) error {
				got <- v
				return nil
			}))
			run(t, svc)
			publish(t, placedOld.Publish(ctx, b, placedV1{ID: "o-1", Amount: 7}))
			assert.Equal(t, placedV2{ID: "o-1", Cents: 700, Currency: "EUR"}, next(t, got, "upcast v1 event"))
			publish(t, placed.Publish(ctx, b, placedV2{ID: "o-2", Cents: 5, Currency: "USD"}))
			assert.Equal(t, placedV2{ID: "o-2", Cents: 5, Currency: "USD"}, next(t, got, "v2 event"))
		})
	}
}

// A too-new version and an unknown type are dead-lettered, permanently,
// with a reason naming the type and the versions/types the service knows;
// the handler never sees them.
func TestUnknownTypeAndTooNewVersionDeadLettered(t *testing.T) {
	for name, b := range buses(t) {
		t.Run(name, func(t *testing.T) {
			dead := collect(t, b, "billing.dead")
			got := make(chan placedV2, 10)
			svc := cqrs.New(b, billing)
			require.NoError(t, cqrs.OnEvent(svc, placed, func(_ context.Context, v placedV2) error {
				got <- v
				return nil
			}))
			run(t, svc)
			publish(t, placedNext.Publish(ctx, b, placedV3{ID: "o-3", Money: "EUR 1"}))
			dl := next(t, dead, "dead-lettered v3")
			assert.Equal(t, "com.example.order.placed.v3", dl.Event.Type)
			assert.Contains(t, dl.Header.Get(bus.DeadLetterReasonHeader),
				"contract: unknown event version: com.example.order.placed.v3: this service knows v1, v2")
			assert.Equal(t, "true", dl.Header.Get(bus.DeadLetterPermanentHeader))
			assert.Equal(t, "1", dl.Header.Get(bus.DeadLetterAttemptsHeader), "never retried")

			m := bus.NewMessage("orders.order.placed", "com.example.order.shipped.v1", []byte(`{}`))
			publish(t, b.Publish(ctx, m))
			dl = next(t, dead, "dead-lettered unknown type")
			assert.Equal(t, "com.example.order.shipped.v1", dl.Event.Type)
			assert.Contains(t, dl.Header.Get(bus.DeadLetterReasonHeader),
				"contract: unknown event type: com.example.order.shipped.v1: this service knows "+
					"com.example.order.placed.v1, com.example.order.placed.v2")
			assert.Empty(t, got, "the handler saw neither")
			assert.Equal(t, map[string]uint64{"com.example.order.placed.v3": 1, "com.example.order.shipped.v1": 1}, svc.Unknown())
		})
	}
}

// A v1-only consumer given a breaking v2 payload never decodes it into
// zero values: it is dead-lettered naming the versions it knows.
func TestBreakingV2NeverReachesV1Handler(t *testing.T) {
	for name, b := range buses(t) {
		t.Run(name, func(t *testing.T) {
			dead := collect(t, b, "billing.dead")
			got := make(chan placedV1, 10)
			svc := cqrs.New(b, billing)
			require.NoError(t, cqrs.OnEvent(svc, placedOld, func(_ context.Context, v placedV1) error {
				got <- v
				return nil
			}))
			run(t, svc)
			publish(t, placed.Publish(ctx, b, placedV2{ID: "o-4", Cents: 100, Currency: "EUR"}))
			dl := next(t, dead, "dead-lettered v2")
			assert.Contains(t, dl.Header.Get(bus.DeadLetterReasonHeader), "com.example.order.placed.v2: this service knows v1")
			publish(t, placedOld.Publish(ctx, b, placedV1{ID: "o-5", Amount: 1}))
			assert.Equal(t, placedV1{ID: "o-5", Amount: 1}, next(t, got, "v1 event"), "the first one it sees is the v1 one")
		})
	}
}

// v1 and v2 handlers in one group each get exactly their events, on one
// subscription.
func TestV1AndV2HandlersInOneGroup(t *testing.T) {
	for name, b := range buses(t) {
		t.Run(name, func(t *testing.T) {
			type seen struct {
				version string
				id      string
			}
			got := make(chan seen, 20)
			svc := cqrs.New(b, billing)
			require.NoError(t, cqrs.OnEvent(svc, placedOld, func(_ context.Context, v placedV1) error {
				got <- seen{"v1", v.ID}
				return nil
			}))
			require.NoError(t, cqrs.OnEvent(svc, placed, func(_ context.Context, v placedV2) error {
				got <- seen{"v2", v.ID}
				return nil
			}))
			run(t, svc)
			for _, id := range []string{"a", "b", "c"} {
				publish(t, placedOld.Publish(ctx, b, placedV1{ID: "v1-" + id}))
				publish(t, placed.Publish(ctx, b, placedV2{ID: "v2-" + id}))
			}
			counts := map[string]int{}
			for range 6 {
				s := next(t, got, "event")
				assert.Equal(t, s.version, s.id[:2], "event %s went to the %s handler", s.id, s.version)
				counts[s.version]++
			}
			assert.Equal(t, map[string]int{"v1": 3, "v2": 3}, counts)
			d := svc.Describe()
			require.Len(t, d.Handlers, 2)
			assert.Equal(t, d.Handlers[0].Subject, d.Handlers[1].Subject, "one subject, one subscription")
		})
	}
}

func TestDuplicateRegistration(t *testing.T) {
	b := openBus(t, "mem://")
	svc := cqrs.New(b, billing)
	nop := func(context.Context, placedV2) error { return nil }
	require.NoError(t, cqrs.OnEvent(svc, placed, nop))
	err := cqrs.OnEvent(svc, placed, nop)
	require.ErrorIs(t, err, cqrs.ErrDuplicateHandler)
	assert.Contains(t, err.Error(), "com.example.order.placed.v2")
	again := contract.NewEvent[placedV2](orders, "order", "placed", contract.Version(2), contract.From(1, upV1),
		contract.Subject("orders.other.placed"))
	require.ErrorIs(t, cqrs.OnEvent(svc, again, nop), cqrs.ErrDuplicateHandler, "same type, other subject")

	cmd := func(context.Context, placeOrder) error { return nil }
	require.NoError(t, cqrs.OnCommand(svc, place, cmd))
	err = cqrs.OnCommand(svc, place, cmd)
	require.ErrorIs(t, err, cqrs.ErrDuplicateHandler)
	assert.Contains(t, err.Error(), "com.example.order.place.v1")

	q := func(context.Context, getOrder) (orderView, error) { return orderView{}, nil }
	require.NoError(t, cqrs.OnQuery(svc, get, q))
	require.ErrorIs(t, cqrs.OnQuery(svc, get, q), cqrs.ErrDuplicateHandler)

	// Two declarations reading v1 through upcasters would make v1 ambiguous.
	v3 := contract.NewEvent[placedV3](orders, "order", "placed", contract.Version(3),
		contract.From(1, upV1), contract.From(2, func(v placedV2) (placedV3, error) { return placedV3{ID: v.ID}, nil }))
	require.ErrorIs(t, cqrs.OnEvent(svc, v3, func(context.Context, placedV3) error { return nil }), cqrs.ErrDuplicateHandler)
}

// A command handler's follow-up event carries correlation and causation;
// the query answers with a typed reply.
func TestCorrelationAndQuery(t *testing.T) {
	for name, b := range buses(t) {
		t.Run(name, func(t *testing.T) {
			ordersSvc := cqrs.New(b, orders)
			require.NoError(t, cqrs.OnCommand(ordersSvc, place, func(ctx context.Context, c placeOrder) error {
				return placed.Publish(ctx, b, placedV2{ID: c.ID, Cents: int64(c.Amount) * 100})
			}))
			require.NoError(t, cqrs.OnQuery(ordersSvc, get, func(_ context.Context, q getOrder) (orderView, error) {
				if q.ID == "" {
					return orderView{}, errors.New("no id")
				}
				return orderView{ID: q.ID, Status: "placed"}, nil
			}))
			type followUp struct{ in, cause *bus.Message }
			got := make(chan followUp, 1)
			billingSvc := cqrs.New(b, billing)
			require.NoError(t, cqrs.OnEvent(billingSvc, placed, func(ctx context.Context, _ placedV2) error {
				got <- followUp{in: cqrs.Message(ctx)}
				return nil
			}))
			run(t, ordersSvc)
			run(t, billingSvc)

			cmd, err := place.New(ctx, placeOrder{ID: "o-9", Amount: 2})
			require.NoError(t, err)
			require.NoError(t, b.Publish(ctx, cmd))
			f := next(t, got, "follow-up event")
			ext := f.in.Event.Extensions
			assert.Equal(t, cmd.Event.ID, ext[middleware.CausationIDExtension])
			assert.Equal(t, cmd.Event.ID, ext[middleware.CorrelationIDExtension], "the command started the flow")

			view, err := get.Request(ctx, b, getOrder{ID: "o-9"})
			require.NoError(t, err)
			assert.Equal(t, orderView{ID: "o-9", Status: "placed"}, view)
			_, err = get.Request(ctx, b, getOrder{})
			var remote *bus.RemoteError
			require.ErrorAs(t, err, &remote)
			assert.Contains(t, remote.Reason, "no id")
		})
	}
}

func TestIgnoreUnknown(t *testing.T) {
	b := openBus(t, "mem://")
	got := make(chan placedV2, 1)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := cqrs.New(b, billing, cqrs.IgnoreUnknown(), cqrs.Logger(logger))
	require.NoError(t, cqrs.OnEvent(svc, placed, func(_ context.Context, v placedV2) error {
		got <- v
		return nil
	}))
	dead := collect(t, b, "billing.dead")
	run(t, svc)
	for range 2 {
		publish(t, b.Publish(ctx, bus.NewMessage("orders.order.placed", "com.example.order.shipped.v1", nil)))
	}
	publish(t, placedNext.Publish(ctx, b, placedV3{ID: "x"}))
	publish(t, placed.Publish(ctx, b, placedV2{ID: "after"}))
	assert.Equal(t, "after", next(t, got, "event").ID)
	dl := next(t, dead, "too-new version, dead-lettered even under IgnoreUnknown")
	assert.Equal(t, "com.example.order.placed.v3", dl.Event.Type)
	assert.Equal(t, uint64(2), svc.Unknown()["com.example.order.shipped.v1"])
	assert.Equal(t, 1, strings.Count(logs.String(), "level=INFO"), "one Info line per type:\n%s", logs.String())
	assert.Contains(t, logs.String(), "type=com.example.order.shipped.v1")
}

func TestProtobufEvent(t *testing.T) {
	b := openBus(t, "mem://")
	note := contract.NewEvent[*wrapperspb.StringValue](orders, "note", "added", contract.Protobuf())
	got := make(chan string, 1)
	svc := cqrs.New(b, billing)
	require.NoError(t, cqrs.OnEvent(svc, note, func(ctx context.Context, v *wrapperspb.StringValue) error {
		got <- cqrs.Message(ctx).Event.DataContentType + " " + v.GetValue()
		return nil
	}))
	run(t, svc)
	publish(t, note.Publish(ctx, b, wrapperspb.String("hi")))
	assert.Equal(t, "application/protobuf hi", next(t, got, "protobuf event"))
}

func TestDescribe(t *testing.T) {
	b := openBus(t, "mem://")
	svc := cqrs.New(b, orders, cqrs.DeadLetter("orders.failed"))
	require.NoError(t, cqrs.OnCommand(svc, place, func(context.Context, placeOrder) error { return nil }))
	require.NoError(t, cqrs.OnQuery(svc, get, func(context.Context, getOrder) (orderView, error) { return orderView{}, nil }))
	svc.Sends(placed)
	d := svc.Describe()
	assert.Equal(t, "orders", d.Service)
	assert.Equal(t, "orders.failed", d.DeadLetter)
	require.Len(t, d.Handlers, 2)
	h := d.Handlers[0]
	assert.Equal(t, contract.KindCommand, h.Kind)
	assert.Equal(t, "com.example.order.place.v1", h.Type)
	assert.Equal(t, "orders.order.place", h.Subject)
	assert.Equal(t, "orders", h.Group)
	assert.Equal(t, "cqrs_test.placeOrder", h.GoType)
	assert.NotEmpty(t, h.Schema)
	q := d.Handlers[1]
	assert.Equal(t, contract.KindQuery, q.Kind)
	assert.Equal(t, "com.example.view.get.reply.v1", q.ReplyType)
	assert.NotEmpty(t, q.ReplySchema)
	require.Len(t, d.Sends, 1)
	assert.Equal(t, []string{"com.example.order.placed.v1", "com.example.order.placed.v2"}, d.Sends[0].Types)

	assert.Panics(t, func() { cqrs.New(b, orders, cqrs.DeadLetter("orders.*")) }, "invalid dead-letter subject")
}

func TestRunAllStopsOnFailure(t *testing.T) {
	b := openBus(t, "mem://")
	svc := cqrs.New(b, billing)
	require.NoError(t, cqrs.OnEvent(svc, placed, func(context.Context, placedV2) error { return nil }))
	boom := errors.New("boom")
	err := cqrs.RunAll(ctx, svc, runnerFunc(func(context.Context) error { return boom }))
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, svc.Run(ctx), bus.ErrClosed, "a service runs once")
	require.ErrorIs(t, cqrs.OnEvent(svc, placedOld, func(context.Context, placedV1) error { return nil }),
		cqrs.ErrRegistration, "registration after Run")
}

type runnerFunc func(context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }
