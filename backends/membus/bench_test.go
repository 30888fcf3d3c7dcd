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
		func(ctx context.Context, m *driver.Message) {
			_ = m.Acker.Ack(ctx)
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
