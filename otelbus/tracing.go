package otelbus

import (
	"context"
	"sync"

	"github.com/busway/busway/bus"
	"go.opentelemetry.io/otel"
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
	return &tracer{t: o.tp.Tracer(scope), prop: o.prop, system: semconv.MessagingSystemKey.String(o.system),
		global: o.tpGlobal}
}

// unsetGlobal is the global tracer provider before otel.SetTracerProvider
// is called: it records nothing.
var unsetGlobal = otel.GetTracerProvider()

// off reports whether no tracer provider is configured: the tracer was
// given none and the global one is still unset. Spans are then not
// started at all (the no-op path would still allocate two per message);
// only a trace context the message or the caller already carries is
// passed on, as the OpenTelemetry API's no-op spans would.
func (t *tracer) off() bool { return t.global && otel.GetTracerProvider() == unsetGlobal }

var (
	_ bus.BatchObserver      = (*tracer)(nil)
	_ bus.DeadLetterObserver = (*tracer)(nil)
)

// DeadLetterTraceparentHeader is the header Tracing adds to a dead-letter
// copy: the W3C traceparent of the failed handling's span. The copy keeps
// the original event (and its traceparent extension), so its handling
// continues the original trace, with a link to the failed handling.
const DeadLetterTraceparentHeader = "Busway-Dead-Letter-Traceparent"

// ObserveDeadLetter records the failed handling's span context on the
// dead-letter copy.
func (t *tracer) ObserveDeadLetter(handlerCtx context.Context, _ *bus.Message, header map[string][]string) {
	sc := trace.SpanContextFromContext(handlerCtx)
	if !sc.IsValid() || t.off() {
		return
	}
	header[DeadLetterTraceparentHeader] = []string{"00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()}
}

// deadLetterLink is the link from a dead letter's handling to the failed
// handling, if m is a dead-letter copy that names one.
func (t *tracer) deadLetterLink(m *bus.Message) (trace.Link, bool) {
	h, _ := m.Raw()
	tp := h.Get(DeadLetterTraceparentHeader)
	if tp == "" {
		return trace.Link{}, false
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{traceparent: tp})
	sc := trace.SpanContextFromContext(ctx)
	return trace.Link{SpanContext: sc}, sc.IsValid()
}

type tracer struct {
	t      trace.Tracer
	prop   propagation.TextMapPropagator
	system attribute.KeyValue
	names  sync.Map // pattern -> "process <pattern>"
	global bool     // t comes from the global provider (see off)
}

// Span start options, built once: with a no-op provider a span then costs
// only what the tracer itself allocates.
var (
	producerKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)}
	consumerKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
	clientKind   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
)

// processName is the consumer span name for pattern ("process <pattern>"),
// built once per pattern.
func (t *tracer) processName(pattern string) string {
	if n, ok := t.names.Load(pattern); ok {
		return n.(string)
	}
	n, _ := t.names.LoadOrStore(pattern, "process "+pattern)
	return n.(string)
}

// ObservePublish starts a producer span and writes its context into the
// event's traceparent/tracestate extensions.
func (t *tracer) ObservePublish(ctx context.Context, info bus.PublishInfo, m *bus.Message) (context.Context, func(error)) {
	if t.off() {
		t.passOn(ctx, m)
		return ctx, nil
	}
	name, op := "send", semconv.MessagingOperationTypeSend
	if info.Batch > 1 { // one "create" span per message; the batch's "send" span links them
		name, op = "create", semconv.MessagingOperationTypeCreate
	}
	ctx, span := t.t.Start(ctx, name, producerKind...)
	t.prop.Inject(ctx, carrier{&m.Event})
	if !span.IsRecording() {
		return ctx, nil
	}
	span.SetAttributes(t.system, op, semconv.MessagingOperationName(name),
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

// ObserveBatch starts the client span "send" of a PublishBatch, linked to
// each message's "create" span (read back from its traceparent).
func (t *tracer) ObserveBatch(ctx context.Context, info bus.PublishInfo, ms []*bus.Message) (context.Context, func(error)) {
	if t.off() {
		return ctx, nil
	}
	links := make([]trace.Link, 0, len(ms))
	for _, m := range ms {
		sc := trace.SpanContextFromContext(t.prop.Extract(context.Background(), carrier{&m.Event}))
		if sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	ctx, span := t.t.Start(ctx, "send", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(links...))
	if !span.IsRecording() {
		return ctx, nil
	}
	span.SetAttributes(t.system, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("send"),
		semconv.MessagingBatchMessageCount(info.Batch))
	return ctx, func(err error) { endSpan(span, err) }
}

// ObserveHandle starts a consumer span, a child of the producer's context
// read from the event's traceparent extension.
func (t *tracer) ObserveHandle(ctx context.Context, info bus.HandleInfo, m *bus.Message) (context.Context, func(bus.HandleResult)) {
	if t.off() {
		if _, ok := m.Event.Extensions[traceparent]; !ok {
			return ctx, nil
		}
	}
	pctx := t.prop.Extract(context.Background(), carrier{&m.Event})
	if sc := trace.SpanContextFromContext(pctx); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	if t.off() {
		return ctx, nil // the remote span context is passed on
	}
	opts := consumerKind
	if l, ok := t.deadLetterLink(m); ok {
		opts = []trace.SpanStartOption{consumerKind[0], trace.WithLinks(l)}
	}
	ctx, span := t.t.Start(ctx, t.processName(info.Pattern), opts...)
	if !span.IsRecording() {
		return ctx, nil
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
	if t.off() {
		t.passOn(ctx, m)
		return ctx, nil
	}
	ctx, span := t.t.Start(ctx, "request "+m.Subject, clientKind...)
	t.prop.Inject(ctx, carrier{&m.Event})
	if !span.IsRecording() {
		return ctx, nil
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

// traceparent is the CloudEvents distributed-tracing extension attribute.
const traceparent = "traceparent"

// passOn writes the caller's trace context, if it has one, into m.
func (t *tracer) passOn(ctx context.Context, m *bus.Message) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		t.prop.Inject(ctx, carrier{&m.Event})
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
