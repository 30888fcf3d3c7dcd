package natsbus_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// More core benchmarks, each beside raw nats.go sending the same bytes in
// the same run:
//
//	go test -run '^$' -bench 'CoreSize|CoreConcurrency|CoreRequest|CoreFixedRate' -benchmem ./backends/natsbus/
//
// All are cheap at -benchtime=1x (CI runs every benchmark once).

// nbSizes are the payload sizes of BenchmarkCoreSize.
var nbSizes = []int{16, 256, 4096}

// nbConcurrency is the handler concurrency of BenchmarkCoreConcurrency.
const nbConcurrency = 4

// nbRate is the publish rate of BenchmarkCoreFixedRate, in msgs/s.
const nbRate = 2000

// nbCaptureSize returns one core bus message with a size-byte payload as
// a raw subscriber receives it.
func nbCaptureSize(b *testing.B, srv *embedded.Server, size int) nbWire {
	b.Helper()
	nc := nbConnect(b, srv)
	subj := nbName("bench.capture.")
	sub, err := nc.SubscribeSync(subj)
	require.NoError(b, err)
	require.NoError(b, nc.Flush())
	bs := nbOpenBus(b, srv, nil)
	require.NoError(b, bs.Publish(b.Context(), bus.NewMessage(subj, nbType, make([]byte, size))))
	msg, err := sub.NextMsg(10 * time.Second)
	require.NoError(b, err)
	require.Len(b, msg.Data, size, "binary mode: the data is the payload")
	return nbWire{header: msg.Header, data: msg.Data}
}

// BenchmarkCoreSize is core publish -> handler for 16 B, 256 B and 4 KiB
// payloads: the bus and raw nats.go with the bus's wire bytes.
func BenchmarkCoreSize(b *testing.B) {
	srv := startEmbedded(b)
	for _, size := range nbSizes {
		wire := nbCaptureSize(b, srv, size)
		name := strconv.Itoa(size) + "B"
		b.Run(name+"/bus", func(b *testing.B) { nbCoreBusOpts(b, srv, size) })
		b.Run(name+"/raw-same-bytes", func(b *testing.B) { nbCoreRawQueue(b, srv, wire, 1) })
	}
}

// BenchmarkCoreConcurrency is core publish -> handler (256 B) with
// bus.Concurrency(4) beside raw nats.go with 4 queue subscribers (each
// with its own handler goroutine, as nats.go gives every subscription
// one), and both at concurrency 1.
func BenchmarkCoreConcurrency(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureSize(b, srv, nbPayload)
	for _, n := range []int{1, nbConcurrency} {
		name := "c" + strconv.Itoa(n)
		b.Run(name+"/bus", func(b *testing.B) { nbCoreBusOpts(b, srv, nbPayload, bus.Concurrency(n)) })
		b.Run(name+"/raw-queue", func(b *testing.B) { nbCoreRawQueue(b, srv, wire, n) })
	}
}

// nbCoreBusOpts is nbCoreBus with a size-byte payload and subscribe
// options.
func nbCoreBusOpts(b *testing.B, srv *embedded.Server, size int, opts ...bus.SubscribeOption) {
	nbCoreBusRun(b, nbOpenBus(b, srv, nil), nbOpenBus(b, srv, nil), size, opts...)
}

// nbCoreRawQueue publishes wire with raw nats.go to n queue subscribers
// of one group on the subscriber connection.
func nbCoreRawQueue(b *testing.B, srv *embedded.Server, wire nbWire, n int) {
	pub, sub := nbConnect(b, srv), nbConnect(b, srv)
	subj := nbName("bench.core.")
	r := newNBRun(b.N)
	for range n {
		_, err := sub.QueueSubscribe(subj, "q", func(m *nats.Msg) { r.receive(m.Data) })
		require.NoError(b, err)
	}
	require.NoError(b, sub.Flush())
	buf, header := slices.Clone(wire.data), maps.Clone(wire.header)
	b.ReportAllocs()
	b.ResetTimer()
	start := r.begin()
	for i := range b.N {
		r.throttle(b, i)
		if err := pub.PublishMsg(&nats.Msg{Subject: subj, Header: header, Data: r.stamp(buf, i)}); err != nil {
			b.Fatal(err)
		}
	}
	r.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, elapsed)
}

// BenchmarkCoreRequest is a closed-loop request/reply round trip (256 B
// each way): bus Request to a bus responder, beside raw nats.go Request
// to a raw responder, both sending the bus's wire bytes. Reports msgs/s
// (round trips) and the p50/p99 round-trip time.
func BenchmarkCoreRequest(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureSize(b, srv, nbPayload)
	b.Run("bus", func(b *testing.B) { nbRequestBus(b, srv) })
	b.Run("raw-same-bytes", func(b *testing.B) { nbRequestRaw(b, srv, wire) })
}

func nbRequestBus(b *testing.B, srv *embedded.Server) {
	ctx := b.Context()
	client, server := nbOpenBus(b, srv, nil), nbOpenBus(b, srv, nil)
	subj := nbName("bench.rpc.")
	_, err := server.Subscribe(ctx, subj, bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		return m.Respond(ctx, bus.NewMessage("", nbType, m.Event.Data))
	}))
	require.NoError(b, err)
	buf := make([]byte, nbPayload)
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		if _, err := client.Request(ctx, bus.NewMessage(subj, nbType, nbIndex(buf, i))); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "")
}

func nbRequestRaw(b *testing.B, srv *embedded.Server, wire nbWire) {
	client, server := nbConnect(b, srv), nbConnect(b, srv)
	subj := nbName("bench.rpc.")
	replyHeader := maps.Clone(wire.header)
	_, err := server.QueueSubscribe(subj, "q", func(m *nats.Msg) {
		_ = m.RespondMsg(&nats.Msg{Header: replyHeader, Data: m.Data})
	})
	require.NoError(b, err)
	require.NoError(b, server.Flush())
	buf, header := slices.Clone(wire.data), maps.Clone(wire.header)
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		msg := &nats.Msg{Subject: subj, Header: header, Data: nbIndex(buf, i)}
		if _, err := client.RequestMsg(msg, nbDeadline); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "")
}

// BenchmarkCoreFixedRate is one-way publish -> handler latency (256 B)
// at a fixed rate of nbRate msgs/s, the bus beside raw nats.go with the
// bus's wire bytes. The publisher paces itself against the clock (a
// schedule, not synchronisation); msgs/s stays at about nbRate and the
// p50/p99 are what to compare.
func BenchmarkCoreFixedRate(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureSize(b, srv, nbPayload)
	b.Run("bus", func(b *testing.B) {
		ctx := b.Context()
		pub, sub := nbOpenBus(b, srv, nil), nbOpenBus(b, srv, nil)
		subj := nbName("bench.rate.")
		r := newNBRun(b.N)
		_, err := sub.Subscribe(ctx, subj, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
			r.receive(m.Event.Data)
			return nil
		}))
		require.NoError(b, err)
		buf := make([]byte, nbPayload)
		nbPaced(b, r, func(i int) error { return pub.Publish(ctx, bus.NewMessage(subj, nbType, r.stamp(buf, i))) })
	})
	b.Run("raw-same-bytes", func(b *testing.B) {
		pub, sub := nbConnect(b, srv), nbConnect(b, srv)
		subj := nbName("bench.rate.")
		r := newNBRun(b.N)
		_, err := sub.QueueSubscribe(subj, "q", func(m *nats.Msg) { r.receive(m.Data) })
		require.NoError(b, err)
		require.NoError(b, sub.Flush())
		buf, header := slices.Clone(wire.data), maps.Clone(wire.header)
		nbPaced(b, r, func(i int) error {
			return pub.PublishMsg(&nats.Msg{Subject: subj, Header: header, Data: r.stamp(buf, i)})
		})
	})
}

// nbPaced calls publish(i) for every i at nbRate msgs/s, waits for every
// message to be handled and reports r.
func nbPaced(b *testing.B, r *nbRun, publish func(i int) error) {
	interval := time.Second / nbRate
	b.ReportAllocs()
	b.ResetTimer()
	start := r.begin()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if err := publish(i); err != nil {
			b.Fatal(err)
		}
	}
	r.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, elapsed)
}

// BenchmarkCoreStructured is core publish -> handler (256 B) in
// structured mode (bus.Structured on the publisher: the event is one JSON
// document) beside binary mode, in the same run.
func BenchmarkCoreStructured(b *testing.B) {
	srv := startEmbedded(b)
	b.Run("binary", func(b *testing.B) { nbCoreBusOpts(b, srv, nbPayload) })
	b.Run("structured", func(b *testing.B) { nbCoreBusMode(b, srv, bus.Structured()) })
}

// nbCoreBusMode is nbCoreBusOpts (256 B) with a publisher opened with
// opts.
func nbCoreBusMode(b *testing.B, srv *embedded.Server, opts ...bus.Option) {
	ctx := b.Context()
	c, err := natsbus.Open(ctx, natsbus.Config{URL: srv.URL(), Logger: quiet})
	require.NoError(b, err)
	pub := bus.New(c, append([]bus.Option{bus.Logger(quiet)}, opts...)...)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(b, pub.Close(ctx))
	})
	nbCoreBusRun(b, pub, nbOpenBus(b, srv, nil), nbPayload)
}
