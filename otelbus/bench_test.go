package otelbus_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	"github.com/nats-io/nats.go"
)

// BenchmarkNoopOverhead measures core NATS publish -> handler on the
// embedded server: without observers ("plain"), with otelbus.Tracing and
// otelbus.Metrics on the global no-op providers ("otel-noop"), and raw
// nats.go for reference. scripts/bench-otel-noop.sh runs it interleaved
// and prints the ratio.
func BenchmarkNoopOverhead(b *testing.B) {
	srv, err := embedded.Start(embedded.Options{NoJetStream: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	b.Run("plain", func(b *testing.B) { benchBus(b, srv.URL()) })
	b.Run("otel-noop", func(b *testing.B) { benchBus(b, srv.URL(), otelbus.Tracing(), otelbus.Metrics()) })
	b.Run("tracing-noop", func(b *testing.B) { benchBus(b, srv.URL(), otelbus.Tracing()) })
	b.Run("metrics-noop", func(b *testing.B) { benchBus(b, srv.URL(), otelbus.Metrics()) })
	b.Run("raw-nats", func(b *testing.B) { benchRaw(b, srv.URL()) })
}

// benchBus publishes b.N messages and waits until the handler saw them
// all, waiting for the handler every 1000 so the subscription never
// overflows.
func benchBus(b *testing.B, url string, opts ...bus.Option) {
	ctx := context.Background()
	bb, err := bus.Open(ctx, url, opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bb.Close(ctx) }()
	var n atomic.Int64
	window := make(chan struct{}, 1)
	_, err = bb.Subscribe(ctx, "bench.x", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		if v := n.Add(1); v%1000 == 0 || v == int64(b.N) {
			window <- struct{}{}
		}
		return nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"n":1}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if err := bb.Publish(ctx, bus.NewMessage("bench.x", "bench", data)); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 || i == b.N {
			<-window
		}
	}
}

// benchRaw is benchBus with nats.go alone.
func benchRaw(b *testing.B, url string) {
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	var n atomic.Int64
	window := make(chan struct{}, 1)
	if _, err := nc.Subscribe("bench.raw", func(*nats.Msg) {
		if v := n.Add(1); v%1000 == 0 || v == int64(b.N) {
			window <- struct{}{}
		}
	}); err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"n":1}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if err := nc.Publish("bench.raw", data); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 || i == b.N {
			<-window
		}
	}
}

// BenchmarkObserverCalls measures what the observers add per message
// without an SDK (publish and handle hooks of Tracing and Metrics), apart
// from the noise of a real round trip.
func BenchmarkObserverCalls(b *testing.B) {
	t, m := otelbus.NewTracer(), otelbus.NewMeter()
	msg := bus.NewMessage("x", "t", nil)
	ctx := context.Background()
	info := bus.HandleInfo{Pattern: "x"}
	for b.Loop() {
		_, e1 := t.ObservePublish(ctx, bus.PublishInfo{Batch: 1}, msg)
		_, e2 := m.ObservePublish(ctx, bus.PublishInfo{Batch: 1}, msg)
		_, e3 := t.ObserveHandle(ctx, info, msg)
		_, e4 := m.ObserveHandle(ctx, info, msg)
		if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
			b.Fatal("end funcs")
		}
	}
}
