// Package otelbus observes a Busway bus with OpenTelemetry: Tracing for
// traces, Metrics for metrics, one bus option each:
//
//	b, err := bus.Open(ctx, url, otelbus.Tracing(), otelbus.Metrics())
//
// # Traces
//
// Spans follow the OpenTelemetry messaging semantic conventions: a
// producer span "send" per published message (with
// messaging.batch.message_count for PublishBatch), a consumer span
// "process <pattern>" per handling attempt, and a client span
// "request <subject>" per Request. Attributes: messaging.system "nats",
// messaging.destination.name (the subject), messaging.destination.template
// (the subscription pattern), messaging.operation.type and .name,
// messaging.message.id, messaging.consumer.group.name,
// messaging.message.body.size, cloudevents.event_type and
// busway.delivery.attempt. Retries, dead-lettering and termination are
// span events ("busway.retry", "busway.dead_letter", "busway.terminate")
// with the attempt and the error.
//
// The trace context travels in the CloudEvents distributed-tracing
// extension: the traceparent and tracestate extension attributes of the
// event (ce-traceparent in binary mode, "traceparent" in a structured
// document). Any CloudEvents client that reads that extension continues a
// Busway trace, and an incoming event carrying one continues the trace of
// whoever sent it.
//
// Without a configured tracer provider (the global no-op one), spans cost
// about nothing and no traceparent is written.
//
// # Metrics
//
// Instruments (meter "github.com/busway/busway/otelbus"):
//
//	busway.messages.published      counter     backend, event type, error.type
//	busway.messages.consumed       counter     backend, pattern, group, event type, outcome
//	busway.handler.duration        histogram s backend, pattern, group, event type, outcome
//	busway.publish.duration        histogram s backend, event type, error.type
//	busway.handlers.in_flight      up-down     backend, pattern, group
//	busway.redeliveries            counter     backend, pattern, group, event type
//	busway.request.duration        histogram s backend, event type, error.type
//
// Labels are bounded: the subscription pattern, never the raw subject;
// the event type is kept for the first MaxEventTypes distinct types seen
// (default 200) and reported as "other" afterwards.
package otelbus
