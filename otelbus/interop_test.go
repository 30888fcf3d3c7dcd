package otelbus_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	cesdk "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/extensions"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceContinuesAcrossCloudEventsSDK: an event written by
// cloudevents sdk-go with a traceparent extension continues its trace in a
// Busway handler, and sdk-go reads the traceparent Busway writes.
func TestTraceContinuesAcrossCloudEventsSDK(t *testing.T) {
	ctx := t.Context()
	srv, err := embedded.Start(embedded.Options{NoJetStream: true})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	sp, tp := newSpans()
	b, err := bus.Open(ctx, srv.URL(), bus.Structured(), otelbus.Tracing(otelbus.TracerProvider(tp)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	// sdk-go -> Busway.
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	handled := make(chan trace.SpanContext, 1)
	_, err = b.Subscribe(ctx, "in.orders", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		handled <- trace.SpanContextFromContext(ctx)
		return nil
	}))
	require.NoError(t, err)
	ev := cesdk.New()
	ev.SetID("sdk-1")
	ev.SetSource("/sdk")
	ev.SetType("sdk.order")
	extensions.DistributedTracingExtension{TraceParent: traceparent, TraceState: "k=v"}.AddTracingAttributes(&ev)
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	msg := nats.NewMsg("in.orders")
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Data = body
	require.NoError(t, nc.PublishMsg(msg))
	select {
	case sc := <-handled:
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID().String())
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not run")
	}
	cons := sp.waitFor(t, 1, named("process in.orders"))[0]
	assert.Equal(t, "00f067aa0ba902b7", cons.Parent().SpanID().String())
	assert.True(t, cons.Parent().IsRemote())
	assert.Equal(t, "k=v", cons.Parent().TraceState().String())

	// Busway -> sdk-go.
	sub, err := nc.SubscribeSync("out.orders")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	m := bus.NewMessage("out.orders", "busway.order", []byte(`{}`))
	require.NoError(t, b.Publish(ctx, m))
	raw, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	var got cesdk.Event
	require.NoError(t, json.Unmarshal(raw.Data, &got))
	dt, ok := extensions.GetDistributedTracingExtension(got)
	require.True(t, ok, "sdk-go finds the distributed-tracing extension")
	prod := sp.producerOf(t, m.Event.ID)
	want := "00-" + prod.SpanContext().TraceID().String() + "-" + prod.SpanContext().SpanID().String() + "-01"
	assert.Equal(t, want, dt.TraceParent)
}
