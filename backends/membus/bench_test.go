package membus

import (
	"context"
	"sync"
	"testing"

	"github.com/busway/busway/bus/driver"
)

// BenchmarkPublishToHandler measures publish-to-handler throughput at the
// driver layer: one subscriber, Concurrency 1, 256-byte payload, the handler
// acking each message.
func BenchmarkPublishToHandler(b *testing.B) {
	c, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	var wg sync.WaitGroup
	_, err = c.Subscribe(b.Context(), driver.SubscribeOptions{Subject: "bench.msgs", Concurrency: 1},
		func(m *driver.Message) {
			_ = m.Acker.Ack(context.Background())
			wg.Done()
		})
	if err != nil {
		b.Fatal(err)
	}
	msg := &driver.Message{Subject: "bench.msgs", Data: make([]byte, 256)}
	ctx := context.Background()
	b.SetBytes(int64(len(msg.Data)))
	b.ReportAllocs()
	wg.Add(b.N)
	b.ResetTimer()
	for range b.N {
		if err := c.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkHeaderCopy measures the header work of one publish and one
// delivery of what the bus writes on a binary-mode CloudEvent plus one
// transport header: validation and sizing, the copy, and the receiver's
// map.
func BenchmarkHeaderCopy(b *testing.B) {
	h := map[string][]string{
		"ce-specversion": {"1.0"},
		"ce-id":          {"0192f1c4-6f3a-7c1e-8d2b-5a4e3f2d1c0b"},
		"ce-source":      {"/busway/bench"},
		"ce-type":        {"com.example.bench.v1"},
		"ce-time":        {"2025-01-02T03:04:05.123456789Z"},
		"Traceparent":    {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	}
	b.ReportAllocs()
	var buf [512]byte
	for b.Loop() {
		text, nlens, _, err := headerSize(h)
		if err != nil {
			b.Fatal(err)
		}
		var c headerCopy
		c.fill(h, buf[:text], nlens)
		if len(c.header()) != len(h) {
			b.Fatal("header lost")
		}
	}
}
