package natsbus_test

import (
	"context"
	"encoding/binary"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Benchmarks of the natsbus backends beside raw nats.go on the same
// embedded server in the same run:
//
//	go test -run '^$' -bench 'Core|JetStream' -benchmem ./backends/natsbus/
//
// Every sub-benchmark publishes nbPayload-byte payloads and reports msgs/s
// (and, where it means something, p50/p99 latency in ns).

const (
	// nbPayload is the data size of every benchmark message.
	nbPayload = 256
	// nbWindow bounds how far a core publisher runs ahead of the handler,
	// so that no subscriber hits nats.go's pending limits (a slow
	// consumer drops messages) and latency measures the path, not an
	// unbounded queue. Every core sub-benchmark uses the same window.
	nbWindow = 1024
	// nbTick is how often (in messages) the handler wakes a throttled
	// publisher: one channel operation per nbTick messages.
	nbTick = 128
	// nbDeadline bounds every wait in a benchmark; reaching it fails it.
	nbDeadline = 2 * time.Minute
	// nbType is the event type of bus messages.
	nbType = "com.example.bench.v1"
)

// nbSeq makes subjects and stream names unique within the process, so no
// run sees another run's messages.
var nbSeq atomic.Int64

func nbName(prefix string) string { return prefix + strconv.FormatInt(nbSeq.Add(1), 10) }

// nbRun records one core benchmark run: the send and receive time of each
// message by index (the index travels in the payload's first 8 bytes).
type nbRun struct {
	sent, got []int64
	n         atomic.Int64
	tick      chan struct{}
	done      chan struct{}
	cpu0      time.Duration // processCPU at begin
}

// begin marks the start of the timed part: it notes the process's CPU
// time, for report's cpu-ns/msg, and returns the wall clock.
func (r *nbRun) begin() time.Time {
	r.cpu0 = processCPU()
	return time.Now()
}

func newNBRun(n int) *nbRun {
	return &nbRun{sent: make([]int64, n), got: make([]int64, n), tick: make(chan struct{}, 1), done: make(chan struct{})}
}

// stamp writes i into buf and records its send time.
func (r *nbRun) stamp(buf []byte, i int) []byte {
	r.sent[i] = time.Now().UnixNano()
	return nbIndex(buf, i)
}

// nbIndex writes the message index i into the first 8 bytes of buf.
func nbIndex(buf []byte, i int) []byte {
	binary.LittleEndian.PutUint64(buf, uint64(i))
	return buf
}

// receive records receipt of the message whose payload is data.
func (r *nbRun) receive(data []byte) {
	i := binary.LittleEndian.Uint64(data)
	r.got[i] = time.Now().UnixNano()
	n := r.n.Add(1)
	if n%nbTick == 0 {
		select {
		case r.tick <- struct{}{}:
		default:
		}
	}
	if n == int64(len(r.got)) {
		close(r.done)
	}
}

// throttle blocks while more than nbWindow of the sent messages are not
// handled yet.
func (r *nbRun) throttle(b *testing.B, sent int) {
	if int64(sent)-r.n.Load() <= nbWindow {
		return
	}
	deadline := time.NewTimer(nbDeadline)
	defer deadline.Stop()
	for int64(sent)-r.n.Load() > nbWindow {
		select {
		case <-r.tick:
		case <-r.done:
			return
		case <-deadline.C:
			b.Fatalf("throttled publisher: %d of %d messages handled", r.n.Load(), sent)
		}
	}
}

// wait blocks until every message was handled.
func (r *nbRun) wait(b *testing.B) {
	select {
	case <-r.done:
	case <-time.After(nbDeadline):
		b.Fatalf("%d of %d messages handled", r.n.Load(), len(r.got))
	}
}

// report adds msgs/s, latency percentiles and the CPU time per message
// (cpu-ns/msg: the whole process, publisher, server and subscriber, from
// begin to now) to the benchmark. CPU per message moves less with the
// scheduling luck of a busy 2-core machine than throughput does.
func (r *nbRun) report(b *testing.B, elapsed time.Duration) {
	if cpu := processCPU() - r.cpu0; r.cpu0 > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(r.got)), "cpu-ns/msg")
	}
	d := make([]time.Duration, len(r.got))
	for i := range d {
		d[i] = time.Duration(r.got[i] - r.sent[i])
	}
	nbReport(b, elapsed, len(d), d, "")
}

// nbReport reports n/elapsed msgs/s and the p50/p99 of lat (sorted in
// place), named p50<suffix>-ns and p99<suffix>-ns.
func nbReport(b *testing.B, elapsed time.Duration, n int, lat []time.Duration, suffix string) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)]) }
	b.ReportMetric(pct(0.50), "p50"+suffix+"-ns")
	b.ReportMetric(pct(0.99), "p99"+suffix+"-ns")
}

// nbConnect dials srv with raw nats.go; closed in b.Cleanup, which waits
// for the connection's goroutines to end.
func nbConnect(b testing.TB, srv *embedded.Server) *nats.Conn {
	b.Helper()
	closed := make(chan struct{})
	nc, err := nats.Connect(srv.URL(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	require.NoError(b, err)
	b.Cleanup(func() { nc.Close(); nbWaitClosed(b, closed) })
	return nc
}

func nbWaitClosed(b testing.TB, closed <-chan struct{}) {
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		b.Error("nats connection did not close")
	}
}

// nbOpenBus opens a bus on srv (core, or JetStream with js), closed in
// b.Cleanup.
func nbOpenBus(b testing.TB, srv *embedded.Server, js *natsbus.JetStreamConfig) *bus.Bus {
	b.Helper()
	c, err := natsbus.Open(context.Background(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet})
	require.NoError(b, err)
	bs := bus.New(c, bus.Logger(quiet))
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(b, bs.Close(ctx))
	})
	return bs
}

// nbWire is a message as the bus puts it on the wire.
type nbWire struct {
	header nats.Header
	data   []byte
}

// nbCaptureCore returns the header and data of one core bus message with
// an nbPayload-byte payload, as a raw subscriber receives them.
func nbCaptureCore(b *testing.B, srv *embedded.Server) nbWire {
	return nbCaptureSize(b, srv, nbPayload)
}

// BenchmarkCore compares core NATS publish-to-handler through the bus with
// raw nats.go (the same bytes, and without headers) and watermill-nats,
// each between two connections (publisher and subscriber services).
func BenchmarkCore(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureCore(b, srv)
	b.Run("bus", func(b *testing.B) { nbCoreBus(b, srv) })
	b.Run("raw-same-bytes", func(b *testing.B) { nbCoreRaw(b, srv, wire.header, wire.data) })
	b.Run("raw-headerless", func(b *testing.B) { nbCoreRaw(b, srv, nil, make([]byte, nbPayload)) })
	b.Run("watermill-nats", func(b *testing.B) { nbCoreWatermill(b, srv) })
}

func nbCoreBus(b *testing.B, srv *embedded.Server) {
	nbCoreBusRun(b, nbOpenBus(b, srv, nil), nbOpenBus(b, srv, nil), nbPayload)
}

// nbCoreBusRun publishes b.N size-byte messages on pub to a handler
// subscribed on sub with opts, and reports throughput and latency.
func nbCoreBusRun(b *testing.B, pub, sub *bus.Bus, size int, opts ...bus.SubscribeOption) {
	ctx := b.Context()
	subject := nbName("bench.core.")
	r := newNBRun(b.N)
	_, err := sub.Subscribe(ctx, subject, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		r.receive(m.Event.Data)
		return nil
	}), opts...)
	require.NoError(b, err)
	buf := make([]byte, size)
	b.ReportAllocs()
	b.ResetTimer()
	start := r.begin()
	for i := range b.N {
		r.throttle(b, i)
		if err := pub.Publish(ctx, bus.NewMessage(subject, nbType, r.stamp(buf, i))); err != nil {
			b.Fatal(err)
		}
	}
	r.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, elapsed)
}

// nbCoreRaw publishes header and data (the index written into a copy of
// data) with raw nats.go to a raw callback subscriber.
func nbCoreRaw(b *testing.B, srv *embedded.Server, header nats.Header, data []byte) {
	pub, sub := nbConnect(b, srv), nbConnect(b, srv)
	subject := nbName("bench.core.")
	r := newNBRun(b.N)
	_, err := sub.Subscribe(subject, func(m *nats.Msg) { r.receive(m.Data) })
	require.NoError(b, err)
	require.NoError(b, sub.Flush())
	buf := slices.Clone(data)
	if header != nil {
		header = maps.Clone(header)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := r.begin()
	for i := range b.N {
		r.throttle(b, i)
		if err := pub.PublishMsg(&nats.Msg{Subject: subject, Header: header, Data: r.stamp(buf, i)}); err != nil {
			b.Fatal(err)
		}
	}
	r.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, elapsed)
}

// nbCoreWatermill runs watermill-nats in core mode (JetStream disabled):
// its Publisher, and its Subscriber's channel with a goroutine acking.
func nbCoreWatermill(b *testing.B, srv *embedded.Server) {
	pub, err := wmnats.NewPublisher(wmnats.PublisherConfig{
		URL: srv.URL(), JetStream: wmnats.JetStreamConfig{Disabled: true},
	}, watermill.NopLogger{})
	require.NoError(b, err)
	b.Cleanup(func() { assert.NoError(b, pub.Close()) })
	// The subscriber on a connection of ours, to flush its interest
	// before publishing (its Subscribe does not) and to see it close.
	closed := make(chan struct{})
	nc, err := nats.Connect(srv.URL(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	require.NoError(b, err)
	sub, err := wmnats.NewSubscriberWithNatsConn(nc, wmnats.SubscriberSubscriptionConfig{
		JetStream: wmnats.JetStreamConfig{Disabled: true},
	}, watermill.NopLogger{})
	require.NoError(b, err)
	subject := nbName("bench.core.")
	msgs, err := sub.Subscribe(context.Background(), subject)
	require.NoError(b, err)
	require.NoError(b, nc.Flush())
	r := newNBRun(b.N)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for m := range msgs {
			r.receive(m.Payload)
			m.Ack()
		}
	}()
	b.Cleanup(func() {
		assert.NoError(b, sub.Close()) // drains nc
		<-consumed
		nbWaitClosed(b, closed)
	})
	buf := make([]byte, nbPayload)
	b.ReportAllocs()
	b.ResetTimer()
	start := r.begin()
	for i := range b.N {
		r.throttle(b, i)
		if err := pub.Publish(subject, message.NewMessage(watermill.NewUUID(), r.stamp(buf, i))); err != nil {
			b.Fatal(err)
		}
	}
	r.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, elapsed)
}
