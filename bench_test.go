package busway_test

import (
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/require"
)

// benchPayload is the data of every benchmark message.
const benchPayload = 256

// latencies records publish-to-handler latency per message index.
type latencies struct {
	sent []int64
	got  []int64
	n    atomic.Int64
	done chan struct{}
}

func newLatencies(n int) *latencies {
	return &latencies{sent: make([]int64, n), got: make([]int64, n), done: make(chan struct{})}
}

// payload returns a benchmark payload carrying i and stamps its send time.
func (l *latencies) payload(buf []byte, i int) []byte {
	binary.LittleEndian.PutUint64(buf, uint64(i))
	l.sent[i] = time.Now().UnixNano()
	return buf
}

// receive stamps receipt of the message whose payload is data.
func (l *latencies) receive(data []byte) {
	i := binary.LittleEndian.Uint64(data)
	l.got[i] = time.Now().UnixNano()
	if l.n.Add(1) == int64(len(l.got)) {
		close(l.done)
	}
}

// report adds msgs/s and latency percentiles to the benchmark.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(len(l.got))/elapsed.Seconds(), "msgs/s")
	d := make([]int64, len(l.got))
	for i := range d {
		d[i] = l.got[i] - l.sent[i]
	}
	slices.Sort(d)
	pct := func(p float64) float64 { return float64(d[int(float64(len(d)-1)*p)]) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}

// BenchmarkMemPublishToHandler measures the in-memory backend through the
// whole bus: encode the CloudEvent, route, decode, run the handler, ack.
func BenchmarkMemPublishToHandler(b *testing.B) {
	ctx := context.Background()
	bs, err := bus.Open(ctx, "mem://bench-"+strconv.Itoa(b.N))
	require.NoError(b, err)
	defer bs.Close(ctx)
	lat := newLatencies(b.N)
	_, err = bs.Subscribe(ctx, "bench.orders", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		lat.receive(m.Event.Data)
		return nil
	}))
	require.NoError(b, err)
	buf := make([]byte, benchPayload) // reused: mem copies the data on Publish, as NATS does
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m := bus.NewMessage("bench.orders", "com.example.bench.v1", lat.payload(buf, i))
		if err := bs.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	<-lat.done
	lat.report(b, time.Since(start))
}

// BenchmarkMemDriverPublishToHandler measures the in-memory backend alone,
// at the driver layer: raw headers and body, no CloudEvent encoding. This
// is the like-for-like comparison with gochannel, which moves raw payloads.
func BenchmarkMemDriverPublishToHandler(b *testing.B) {
	ctx := context.Background()
	conn, err := membus.Open(membus.Options{})
	require.NoError(b, err)
	defer conn.Close(ctx)
	lat := newLatencies(b.N)
	_, err = conn.Subscribe(ctx, driver.SubscribeOptions{Subject: "bench.orders", Concurrency: 1},
		func(m *driver.Message) {
			lat.receive(m.Data)
			_ = m.Acker.Ack(ctx)
		})
	require.NoError(b, err)
	buf := make([]byte, benchPayload) // reused: Publish copies the data
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m := &driver.Message{Subject: "bench.orders", Data: lat.payload(buf, i)}
		if err := conn.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	<-lat.done
	lat.report(b, time.Since(start))
}

// BenchmarkWatermillGoChannel is the baseline: Watermill's in-process
// gochannel, publish to a subscriber that acks. Each message gets its own
// payload: gochannel hands the publisher's slice to the subscriber.
func BenchmarkWatermillGoChannel(b *testing.B) {
	ps := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	defer ps.Close()
	msgs, err := ps.Subscribe(context.Background(), "bench.orders")
	require.NoError(b, err)
	lat := newLatencies(b.N)
	go func() {
		for m := range msgs {
			lat.receive(m.Payload)
			m.Ack()
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m := message.NewMessage(watermill.NewUUID(), lat.payload(make([]byte, benchPayload), i))
		if err := ps.Publish("bench.orders", m); err != nil {
			b.Fatal(err)
		}
	}
	<-lat.done
	lat.report(b, time.Since(start))
}
