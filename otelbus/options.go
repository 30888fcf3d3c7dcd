package otelbus

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope name of tracers and meters.
const scope = "github.com/busway/busway/otelbus"

// DefaultMaxEventTypes is how many distinct event types get their own
// metric label before the rest are reported as "other".
const DefaultMaxEventTypes = 200

// Option configures Tracing or Metrics.
type Option func(*options)

type options struct {
	tp       trace.TracerProvider
	tpGlobal bool // tp is the global provider (see tracer.off)
	mp       metric.MeterProvider
	prop     propagation.TextMapPropagator
	maxTypes int
	system   string
}

func newOptions(opts []Option) options {
	o := options{maxTypes: DefaultMaxEventTypes, system: "nats", prop: propagation.TraceContext{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tp == nil {
		o.tp, o.tpGlobal = otel.GetTracerProvider(), true
	}
	if o.mp == nil {
		o.mp = otel.GetMeterProvider()
	}
	return o
}

// TracerProvider sets the tracer provider (default: the global one).
func TracerProvider(tp trace.TracerProvider) Option { return func(o *options) { o.tp = tp } }

// MeterProvider sets the meter provider (default: the global one).
func MeterProvider(mp metric.MeterProvider) Option { return func(o *options) { o.mp = mp } }

// MaxEventTypes sets how many distinct event types get their own metric
// label (default DefaultMaxEventTypes); later ones are labelled "other".
func MaxEventTypes(n int) Option { return func(o *options) { o.maxTypes = n } }

// System sets messaging.system (default "nats", also on the mem backend,
// which has NATS semantics).
func System(name string) Option { return func(o *options) { o.system = name } }
