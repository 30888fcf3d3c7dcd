package otelbus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spans collects ended spans.
type spans struct{ rec *tracetest.SpanRecorder }

func newSpans() (spans, trace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	return spans{rec}, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
}

// waitFor waits until n ended spans satisfy keep, and returns them.
func (s spans) waitFor(t *testing.T, n int, keep func(sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	t.Helper()
	var got []sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		got = got[:0]
		for _, sp := range s.rec.Ended() {
			if keep(sp) {
				got = append(got, sp)
			}
		}
		return len(got) >= n
	}, 10*time.Second, 5*time.Millisecond, "want %d spans", n)
	return got
}

func named(name string) func(sdktrace.ReadOnlySpan) bool {
	return func(sp sdktrace.ReadOnlySpan) bool { return sp.Name() == name }
}

func attr(sp sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range sp.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// producerOf finds the producer span whose message id is id.
func (s spans) producerOf(t *testing.T, id string) sdktrace.ReadOnlySpan {
	t.Helper()
	return s.waitFor(t, 1, func(sp sdktrace.ReadOnlySpan) bool {
		return sp.SpanKind() == trace.SpanKindProducer && attr(sp, "messaging.message.id").AsString() == id
	})[0]
}

func hasEvent(sp sdktrace.ReadOnlySpan, name string, attempt int) bool {
	for _, ev := range sp.Events() {
		if ev.Name != name {
			continue
		}
		for _, kv := range ev.Attributes {
			if kv.Key == "busway.delivery.attempt" && kv.Value.AsInt64() == int64(attempt) {
				return true
			}
		}
	}
	return false
}

// TestTracingOneTracePerMessage publishes a message that is handled, one
// that fails once then succeeds, one that fails for good and is
// dead-lettered, and sends a request; on every backend each consumer span
// is a child of its producer (or client) span.
func TestTracingOneTracePerMessage(t *testing.T) {
	for name, url := range backendURLs(t) {
		t.Run(name, func(t *testing.T) { testTracing(t, url) })
	}
}

func testTracing(t *testing.T, url string) {
	ctx := t.Context()
	sp, tp := newSpans()
	b, err := bus.Open(ctx, url, otelbus.Tracing(otelbus.TracerProvider(tp)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	done := make(chan string, 8)
	ok := func(_ context.Context, m *bus.Message) error { done <- m.Subject; return nil }
	var flaky atomic.Int32
	retry := []bus.SubscribeOption{bus.MaxAttempts(3), bus.RetryBackoff(nil), bus.DeadLetter("t.dead"), bus.Group("g")}
	_, err = b.Subscribe(ctx, "t.ok", bus.HandlerFunc(ok))
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "t.flaky", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		if flaky.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		return ok(ctx, m)
	}), retry...)
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "t.bad", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		return bus.Permanent(errors.New("cannot handle"))
	}), retry...)
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "t.dead", bus.HandlerFunc(ok))
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "t.rpc.*", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		return m.Respond(ctx, bus.NewMessage("", "test.reply", []byte("pong")))
	}))
	require.NoError(t, err)

	msgs := map[string]*bus.Message{}
	for _, subj := range []string{"t.ok", "t.flaky", "t.bad"} {
		msgs[subj] = bus.NewMessage(subj, "test."+subj, []byte("x"))
		require.NoError(t, b.Publish(ctx, msgs[subj]))
	}
	for range 3 { // t.ok, t.flaky (second attempt), t.dead
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("handlers did not run")
		}
	}
	_, err = b.Request(ctx, bus.NewMessage("t.rpc.x", "test.ping", nil))
	require.NoError(t, err)

	for subj, m := range msgs {
		prod := sp.producerOf(t, m.Event.ID)
		cons := sp.waitFor(t, 1, func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindConsumer && attr(s, "messaging.message.id").AsString() == m.Event.ID &&
				attr(s, "messaging.destination.template").AsString() == subj
		})
		for _, c := range cons {
			assert.Equal(t, prod.SpanContext().TraceID(), c.SpanContext().TraceID(), subj)
			assert.Equal(t, prod.SpanContext().SpanID(), c.Parent().SpanID(), subj)
			assert.Equal(t, "nats", attr(c, "messaging.system").AsString())
		}
	}
	flakySpans := sp.waitFor(t, 2, named("process t.flaky"))
	assert.True(t, hasEvent(flakySpans[0], "busway.retry", 1), "first attempt: retry event")
	assert.Equal(t, "retried", attr(flakySpans[0], "busway.outcome").AsString())
	assert.Equal(t, "acked", attr(flakySpans[1], "busway.outcome").AsString())
	assert.Equal(t, "g", attr(flakySpans[1], "messaging.consumer.group.name").AsString())
	bad := sp.waitFor(t, 1, named("process t.bad"))[0]
	assert.True(t, hasEvent(bad, "busway.dead_letter", 1), "dead-letter event")
	assert.Equal(t, "dead_lettered", attr(bad, "busway.outcome").AsString())
	// The dead letter keeps the original event, traceparent included: its
	// handling continues the same trace.
	dead := sp.waitFor(t, 1, named("process t.dead"))[0]
	assert.Equal(t, bad.SpanContext().TraceID(), dead.SpanContext().TraceID())
	require.Len(t, dead.Links(), 1, "the dead letter's handling links to the failed handling")
	assert.Equal(t, bad.SpanContext().SpanID(), dead.Links()[0].SpanContext.SpanID())

	client := sp.waitFor(t, 1, named("request t.rpc.x"))[0]
	assert.Equal(t, trace.SpanKindClient, client.SpanKind())
	server := sp.waitFor(t, 1, named("process t.rpc.*"))[0]
	assert.Equal(t, client.SpanContext().SpanID(), server.Parent().SpanID())
	assert.Equal(t, "t.rpc.*", attr(server, "messaging.destination.template").AsString())
}

// TestTracingWithoutProviderPassesContextOn: with no tracer provider
// configured no span is started, but a trace context the caller or the
// incoming event carries is passed on, as the OpenTelemetry no-op API
// would.
func TestTracingWithoutProviderPassesContextOn(t *testing.T) {
	ctx := t.Context()
	b, err := bus.Open(ctx, "mem://TestTracingWithoutProviderPassesContextOn", otelbus.Tracing())
	require.NoError(t, err)
	defer func() { _ = b.Close(context.Background()) }()
	got := make(chan trace.SpanContext, 1)
	_, err = b.Subscribe(ctx, "x", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		got <- trace.SpanContextFromContext(ctx)
		return nil
	}))
	require.NoError(t, err)

	plain := bus.NewMessage("x", "t", nil)
	require.NoError(t, b.Publish(ctx, plain))
	assert.NotContains(t, plain.Event.Extensions, "traceparent", "no trace context, none written")
	assert.False(t, (<-got).IsValid())

	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
	m := bus.NewMessage("x", "t", nil)
	require.NoError(t, b.Publish(trace.ContextWithSpanContext(ctx, parent), m))
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", m.Event.Extensions["traceparent"])
	sc := <-got
	assert.Equal(t, tid, sc.TraceID())
	assert.Equal(t, sid, sc.SpanID())
}

// TestTracingBatch: PublishBatch makes one "create" span per message and
// one "send" span for the batch linked to each; each handling continues
// its own message's trace.
func TestTracingBatch(t *testing.T) {
	ctx := t.Context()
	sp, tp := newSpans()
	b, err := bus.Open(ctx, "mem://TestTracingBatch", otelbus.Tracing(otelbus.TracerProvider(tp)))
	require.NoError(t, err)
	defer func() { _ = b.Close(context.Background()) }()
	_, err = b.Subscribe(ctx, "batch.*", bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }))
	require.NoError(t, err)
	ms := []*bus.Message{bus.NewMessage("batch.a", "t", nil), bus.NewMessage("batch.b", "t", nil), bus.NewMessage("batch.c", "t", nil)}
	require.NoError(t, b.PublishBatch(ctx, ms...))

	send := sp.waitFor(t, 1, named("send"))[0]
	assert.Equal(t, trace.SpanKindClient, send.SpanKind())
	assert.Equal(t, int64(3), attr(send, "messaging.batch.message_count").AsInt64())
	require.Len(t, send.Links(), 3)
	for i, m := range ms {
		create := sp.producerOf(t, m.Event.ID)
		assert.Equal(t, "create", create.Name())
		assert.Equal(t, create.SpanContext().SpanID(), send.Links()[i].SpanContext.SpanID())
		cons := sp.waitFor(t, 1, func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindConsumer && attr(s, "messaging.message.id").AsString() == m.Event.ID
		})[0]
		assert.Equal(t, create.SpanContext().SpanID(), cons.Parent().SpanID())
	}
}
