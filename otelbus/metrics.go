package otelbus

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/busway/busway/bus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics returns a bus option that records the metrics listed in the
// package documentation.
func Metrics(opts ...Option) bus.Option { return bus.Observe(NewMeter(opts...)) }

// NewMeter returns the bus.Observer behind Metrics. An instrument that
// cannot be created is reported to otel.Handle and left a no-op.
func NewMeter(opts ...Option) bus.Observer {
	o := newOptions(opts)
	m := o.mp.Meter(scope)
	var errs [7]error
	r := &meter{types: typeSet{max: o.maxTypes, seen: map[string]struct{}{}}}
	r.published, errs[0] = m.Int64Counter("busway.messages.published", metric.WithUnit("{message}"),
		metric.WithDescription("Messages published (Publish, PublishBatch)."))
	r.consumed, errs[1] = m.Int64Counter("busway.messages.consumed", metric.WithUnit("{message}"),
		metric.WithDescription("Handling attempts, by how the message was settled (outcome)."))
	r.handleDur, errs[2] = m.Float64Histogram("busway.handler.duration", metric.WithUnit("s"), secondsBuckets,
		metric.WithDescription("Time from delivery to settlement of one handling attempt."))
	r.publishDur, errs[3] = m.Float64Histogram("busway.publish.duration", metric.WithUnit("s"), secondsBuckets,
		metric.WithDescription("Time to publish one message (until the backend took it)."))
	r.inFlight, errs[4] = m.Int64UpDownCounter("busway.handlers.in_flight", metric.WithUnit("{handler}"),
		metric.WithDescription("Handlers running now."))
	r.redeliveries, errs[5] = m.Int64Counter("busway.redeliveries", metric.WithUnit("{delivery}"),
		metric.WithDescription("Handling attempts after the first (delivery attempt > 1)."))
	r.requestDur, errs[6] = m.Float64Histogram("busway.request.duration", metric.WithUnit("s"), secondsBuckets,
		metric.WithDescription("Request/reply latency, until the reply or the error."))
	if err := errors.Join(errs[:]...); err != nil {
		otel.Handle(err)
	}
	return r
}

// secondsBuckets are histogram boundaries for message latencies, in
// seconds (the SDK's default boundaries suit milliseconds).
var secondsBuckets = metric.WithExplicitBucketBoundaries(
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

type meter struct {
	types                             typeSet
	published, consumed, redeliveries metric.Int64Counter
	inFlight                          metric.Int64UpDownCounter
	handleDur, publishDur, requestDur metric.Float64Histogram
}

// Label keys.
const (
	keyBackend = attribute.Key("busway.backend")
	keyType    = attribute.Key("cloudevents.event_type")
	keyPattern = attribute.Key("messaging.destination.template")
	keyGroup   = attribute.Key("messaging.consumer.group.name")
	keyOutcome = attribute.Key("busway.outcome")
	keyError   = attribute.Key("error.type")
)

// ObservePublish counts a publish and times it.
func (r *meter) ObservePublish(ctx context.Context, info bus.PublishInfo, m *bus.Message) (context.Context, func(error)) {
	if !r.published.Enabled(ctx) && !r.publishDur.Enabled(ctx) {
		return ctx, nil // no SDK: nothing to record
	}
	start := time.Now()
	return ctx, func(err error) {
		attrs := metric.WithAttributes(withError([]attribute.KeyValue{keyBackend.String(info.Backend),
			keyType.String(r.types.label(m.Event.Type))}, err)...)
		r.published.Add(ctx, 1, attrs)
		r.publishDur.Record(ctx, time.Since(start).Seconds(), attrs)
	}
}

// ObserveHandle counts a handling by outcome, times it, and tracks the
// handlers in flight and the redeliveries.
func (r *meter) ObserveHandle(ctx context.Context, info bus.HandleInfo, m *bus.Message) (context.Context, func(bus.HandleResult)) {
	if !r.consumed.Enabled(ctx) && !r.handleDur.Enabled(ctx) && !r.inFlight.Enabled(ctx) && !r.redeliveries.Enabled(ctx) {
		return ctx, nil
	}
	start := time.Now()
	sub := []attribute.KeyValue{keyBackend.String(info.Backend), keyPattern.String(info.Pattern), keyGroup.String(info.Group)}
	r.inFlight.Add(ctx, 1, metric.WithAttributes(sub...))
	typ := keyType.String(r.types.label(m.Event.Type))
	if m.Attempt() > 1 {
		r.redeliveries.Add(ctx, 1, metric.WithAttributes(append(sub, typ)...))
	}
	return ctx, func(res bus.HandleResult) {
		r.inFlight.Add(ctx, -1, metric.WithAttributes(sub...))
		attrs := metric.WithAttributes(append(sub, typ, keyOutcome.String(res.Outcome.String()))...)
		r.consumed.Add(ctx, 1, attrs)
		r.handleDur.Record(ctx, time.Since(start).Seconds(), attrs)
	}
}

// ObserveRequest times a request until its reply.
func (r *meter) ObserveRequest(ctx context.Context, m *bus.Message) (context.Context, func(*bus.Message, error)) {
	if !r.requestDur.Enabled(ctx) {
		return ctx, nil
	}
	start := time.Now()
	return ctx, func(_ *bus.Message, err error) {
		r.requestDur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(
			withError([]attribute.KeyValue{keyType.String(r.types.label(m.Event.Type))}, err)...))
	}
}

// typeSet bounds the event-type label: the first max distinct types keep
// their name, later ones are "other".
type typeSet struct {
	mu   sync.RWMutex
	max  int
	seen map[string]struct{}
}

func (t *typeSet) label(typ string) string {
	t.mu.RLock()
	_, ok := t.seen[typ]
	t.mu.RUnlock()
	if ok {
		return typ
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.seen[typ]; ok {
		return typ
	}
	if len(t.seen) >= t.max {
		return "other"
	}
	t.seen[typ] = struct{}{}
	return typ
}

// withError adds the error.type label when err is not nil.
func withError(attrs []attribute.KeyValue, err error) []attribute.KeyValue {
	if err != nil {
		attrs = append(attrs, keyError.String(errorType(err)))
	}
	return attrs
}

// errorType is a bounded error.type label: "" for nil, the name of a
// Busway sentinel error, else "_OTHER".
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, bus.ErrTimeout):
		return "timeout"
	case errors.Is(err, bus.ErrNoResponders):
		return "no_responders"
	case errors.Is(err, bus.ErrClosed):
		return "closed"
	case errors.Is(err, bus.ErrPayloadTooLarge):
		return "payload_too_large"
	case errors.Is(err, bus.ErrPanic):
		return "panic"
	case errors.Is(err, bus.ErrMalformed):
		return "malformed"
	case bus.IsPermanent(err):
		return "permanent"
	}
	return "_OTHER"
}
