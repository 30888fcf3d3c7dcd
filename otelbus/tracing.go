package otelbus

import (
	"context"

	"github.com/busway/busway/bus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing returns a bus option that traces publishes, handlings and
// requests (see the package documentation).
func Tracing(opts ...Option) bus.Option { return bus.Observe(NewTracer(opts...)) }

// NewTracer returns the bus.Observer behind Tracing, for a caller that
// combines observers itself.
func NewTracer(opts ...Option) bus.Observer {
	o := newOptions(opts)
	return &tracer{t: o.tp.Tracer(scope), prop: o.prop, system: semconv.MessagingSystemKey.String(o.system)}
}

type tracer struct {
	t      trace.Tracer
	prop   propagation.TextMapPropagator
	system attribute.KeyValue
}

func noEnd(error) {}

// ObservePublish starts a producer span and writes its context into the
// event's traceparent/tracestate extensions.
func (t *tracer) ObservePublish(ctx context.Context, info bus.PublishInfo, m *bus.Message) (context.Context, func(error)) {
	ctx, span := t.t.Start(ctx, "send", trace.WithSpanKind(trace.SpanKindProducer))
	t.prop.Inject(ctx, carrier{&m.Event})
	if !span.IsRecording() {
		return ctx, noEnd
	}
	span.SetAttributes(t.system, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("send"),
		semconv.MessagingDestinationName(m.Subject), semconv.MessagingMessageBodySize(len(m.Event.Data)),
		semconv.CloudEventsEventType(m.Event.Type))
	if info.Batch > 1 {
		span.SetAttributes(semconv.MessagingBatchMessageCount(info.Batch))
	}
	return ctx, func(err error) {
		span.SetAttributes(semconv.MessagingMessageID(m.Event.ID))
		endSpan(span, err)
	}
}

// ObserveHandle starts a consumer span, a child of the producer's context
// read from the event's traceparent extension.
func (t *tracer) ObserveHandle(ctx context.Context, info bus.HandleInfo, m *bus.Message) (context.Context, func(bus.HandleResult)) {
	pctx := t.prop.Extract(context.Background(), carrier{&m.Event})
	var opts []trace.SpanStartOption
	if sc := trace.SpanContextFromContext(pctx); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	opts = append(opts, trace.WithSpanKind(trace.SpanKindConsumer))
	ctx, span := t.t.Start(ctx, "process "+info.Pattern, opts...)
	if !span.IsRecording() {
		return ctx, func(bus.HandleResult) {}
	}
	attempt := m.Attempt()
	span.SetAttributes(t.system, semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("process"),
		semconv.MessagingDestinationName(m.Subject), semconv.MessagingDestinationTemplate(info.Pattern),
		semconv.MessagingMessageID(m.Event.ID), semconv.MessagingMessageBodySize(len(m.Event.Data)),
		semconv.CloudEventsEventType(m.Event.Type), attribute.Int("busway.delivery.attempt", attempt))
	if info.Group != "" {
		span.SetAttributes(semconv.MessagingConsumerGroupName(info.Group))
	}
	return ctx, func(r bus.HandleResult) {
		span.SetAttributes(attribute.String("busway.outcome", r.Outcome.String()))
		if ev := outcomeEvent(r.Outcome); ev != "" {
			attrs := []attribute.KeyValue{attribute.Int("busway.delivery.attempt", attempt)}
			if r.Err != nil {
				attrs = append(attrs, attribute.String("error.message", r.Err.Error()))
			}
			span.AddEvent(ev, trace.WithAttributes(attrs...))
		}
		endSpan(span, r.Err)
	}
}

// outcomeEvent is the span event recorded for an outcome ("" for none).
func outcomeEvent(o bus.Outcome) string {
	switch o {
	case bus.OutcomeRetried:
		return "busway.retry"
	case bus.OutcomeDeadLettered:
		return "busway.dead_letter"
	case bus.OutcomeTerminated:
		return "busway.terminate"
	}
	return ""
}

// ObserveRequest starts a client span whose context the request carries.
func (t *tracer) ObserveRequest(ctx context.Context, m *bus.Message) (context.Context, func(*bus.Message, error)) {
	ctx, span := t.t.Start(ctx, "request "+m.Subject, trace.WithSpanKind(trace.SpanKindClient))
	t.prop.Inject(ctx, carrier{&m.Event})
	if !span.IsRecording() {
		return ctx, func(*bus.Message, error) {}
	}
	span.SetAttributes(t.system, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("request"),
		semconv.MessagingDestinationName(m.Subject), semconv.MessagingMessageBodySize(len(m.Event.Data)),
		semconv.CloudEventsEventType(m.Event.Type))
	return ctx, func(reply *bus.Message, err error) {
		span.SetAttributes(semconv.MessagingMessageID(m.Event.ID))
		if reply != nil {
			span.SetAttributes(attribute.String("busway.reply.id", reply.Event.ID),
				attribute.String("busway.reply.type", reply.Event.Type))
		}
		endSpan(span, err)
	}
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
	}
	span.End()
}
