package natsbus_test

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nbBatch is the batch size of the batch and async publish benchmarks.
const nbBatch = 100

// nbStream is a fresh file-storage R1 stream for one benchmark run,
// deleted (with its files) in b.Cleanup.
type nbStream struct {
	name, subject string
	subjects      []string
	admin         jetstream.JetStream
}

// nbNewStream names a stream; create makes it with raw jetstream (else the
// bus creates it on Open, with the same settings).
func nbNewStream(b *testing.B, srv *embedded.Server, create bool) *nbStream {
	b.Helper()
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	name := nbName("BENCH")
	st := &nbStream{name: name, subject: "bench.js." + name + ".orders", subjects: []string{"bench.js." + name + ".>"}, admin: js}
	if create {
		_, err := js.CreateStream(b.Context(), jetstream.StreamConfig{
			Name: name, Subjects: st.subjects, Storage: jetstream.FileStorage, Replicas: 1,
		})
		require.NoError(b, err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(b, js.DeleteStream(ctx, name))
	})
	return st
}

// config is the bus's JetStream configuration for the stream: file, R1,
// consumers with the defaults (AckExplicit, MaxAckPending 1000, pulls of
// 500) starting at the first message.
func (st *nbStream) config() *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{
		Stream: natsbus.StreamConfig{Name: st.name, Subjects: st.subjects, Storage: "file", Replicas: 1},
		Start:  natsbus.StartAll,
	}
}

// nbCaptureJS returns the header and data of one JetStream bus message,
// as stored, without the headers the backend sets per publish
// (Nats-Msg-Id, Nats-Expected-Stream): raw publishes set them again.
func nbCaptureJS(b *testing.B, srv *embedded.Server) nbWire {
	b.Helper()
	st := nbNewStream(b, srv, false)
	bs := nbOpenBus(b, srv, st.config())
	require.NoError(b, bs.Publish(b.Context(), bus.NewMessage(st.subject, nbType, make([]byte, nbPayload))))
	stream, err := st.admin.Stream(b.Context(), st.name)
	require.NoError(b, err)
	raw, err := stream.GetMsg(b.Context(), 1)
	require.NoError(b, err)
	require.NotEmpty(b, raw.Header.Get(jetstream.MsgIDHeader), "the bus sets Nats-Msg-Id")
	require.Equal(b, st.name, raw.Header.Get(jetstream.ExpectedStreamHeader))
	require.Len(b, raw.Data, nbPayload, "binary mode: the data is the payload")
	h := maps.Clone(raw.Header)
	h.Del(jetstream.MsgIDHeader)
	h.Del(jetstream.ExpectedStreamHeader)
	return nbWire{header: h, data: raw.Data}
}

// nbMsgIDs makes n distinct message ids as long as the bus's (UUIDs), for
// raw publishes: the server deduplicates by id, as it does for the bus.
func nbMsgIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "00000000-0000-7000-8000-" + nbPad(i, 12)
	}
	return ids
}

func nbPad(i, width int) string {
	s := make([]byte, width)
	for j := width - 1; j >= 0; j-- {
		s[j] = byte('0' + i%10)
		i /= 10
	}
	return string(s)
}

// BenchmarkJetStreamPublish compares publishing to a stream through the
// bus with raw jetstream: one at a time waiting for each store ack, and in
// batches of nbBatch with overlapping acks.
func BenchmarkJetStreamPublish(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureJS(b, srv)
	b.Run("bus-sync", func(b *testing.B) { nbJSBusSync(b, srv) })
	b.Run("raw-sync", func(b *testing.B) { nbJSRawSync(b, srv, wire) })
	b.Run("bus-batch", func(b *testing.B) { nbJSBusBatch(b, srv) })
	b.Run("raw-async", func(b *testing.B) { nbJSRawAsync(b, srv, wire) })
}

func nbJSBusSync(b *testing.B, srv *embedded.Server) {
	ctx := b.Context()
	st := nbNewStream(b, srv, false)
	bs := nbOpenBus(b, srv, st.config())
	buf, lat := make([]byte, nbPayload), make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		if err := bs.Publish(ctx, bus.NewMessage(st.subject, nbType, nbIndex(buf, i))); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "")
}

func nbJSRawSync(b *testing.B, srv *embedded.Server, wire nbWire) {
	ctx := b.Context()
	st := nbNewStream(b, srv, true)
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	ids := nbMsgIDs(b.N)
	buf, lat := slices.Clone(wire.data), make([]time.Duration, b.N)
	h := maps.Clone(wire.header)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		msg := &nats.Msg{Subject: st.subject, Header: h, Data: nbIndex(buf, i)}
		if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(ids[i]), jetstream.WithExpectStream(st.name)); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "")
}

func nbJSBusBatch(b *testing.B, srv *embedded.Server) {
	ctx := b.Context()
	st := nbNewStream(b, srv, false)
	bs := nbOpenBus(b, srv, st.config())
	bufs := make([][]byte, nbBatch)
	for j := range bufs {
		bufs[j] = make([]byte, nbPayload)
	}
	ms := make([]*bus.Message, nbBatch)
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += nbBatch {
		n := min(nbBatch, b.N-i)
		t0 := time.Now()
		for j := range n {
			ms[j] = bus.NewMessage(st.subject, nbType, nbIndex(bufs[j], i+j))
		}
		if err := bs.PublishBatch(ctx, ms[:n]...); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "-batch")
}

func nbJSRawAsync(b *testing.B, srv *embedded.Server, wire nbWire) {
	st := nbNewStream(b, srv, true)
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	ids := nbMsgIDs(b.N)
	// One header and buffer per batch slot: a pending publish keeps its
	// message until the ack.
	hs, bufs := make([]nats.Header, nbBatch), make([][]byte, nbBatch)
	for j := range hs {
		hs[j], bufs[j] = maps.Clone(wire.header), slices.Clone(wire.data)
	}
	futures := make([]jetstream.PubAckFuture, nbBatch)
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += nbBatch {
		n := min(nbBatch, b.N-i)
		t0 := time.Now()
		for j := range n {
			msg := &nats.Msg{Subject: st.subject, Header: hs[j], Data: nbIndex(bufs[j], i+j)}
			f, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(ids[i+j]), jetstream.WithExpectStream(st.name))
			if err != nil {
				b.Fatal(err)
			}
			futures[j] = f
		}
		nbWaitAcks(b, futures[:n])
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, lat, "-batch")
}

// nbWaitAcks waits for every future's ack, as the bus's batch does.
func nbWaitAcks(b *testing.B, fs []jetstream.PubAckFuture) {
	for _, f := range fs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			b.Fatal(err)
		case <-b.Context().Done():
			b.Fatal(b.Context().Err())
		}
	}
}

// BenchmarkJetStreamConsume compares consuming and acking n stored
// messages (the same bytes, loaded before the timer starts) through a bus
// group subscription with a raw durable pull consumer. The timer covers
// creating the consumer, handling every message, and the server having
// every ack.
func BenchmarkJetStreamConsume(b *testing.B) {
	srv := startEmbedded(b)
	wire := nbCaptureJS(b, srv)
	b.Run("bus", func(b *testing.B) { nbJSConsumeBus(b, srv, wire) })
	b.Run("raw", func(b *testing.B) { nbJSConsumeRaw(b, srv, wire) })
}

// nbPreload stores n copies of wire in the stream.
func nbPreload(b *testing.B, srv *embedded.Server, st *nbStream, wire nbWire, n int) {
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	for i := 0; i < n; i += 1000 {
		for range min(1000, n-i) {
			_, err := js.PublishMsgAsync(&nats.Msg{Subject: st.subject, Header: wire.header, Data: wire.data})
			require.NoError(b, err)
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(nbDeadline):
			b.Fatal("preload: no acks")
		}
	}
}

// nbCounter closes done when the n-th message is counted.
type nbCounter struct {
	n     atomic.Int64
	total int64
	done  chan struct{}
}

func (c *nbCounter) add() {
	if c.n.Add(1) == c.total {
		close(c.done)
	}
}

// waitAcked waits until the consumer has every message delivered and
// acknowledged.
func (c *nbCounter) waitAcked(b *testing.B, st *nbStream, consumer string) {
	select {
	case <-c.done:
	case <-time.After(nbDeadline):
		b.Fatalf("handled %d of %d", c.n.Load(), c.total)
	}
	deadline := time.Now().Add(nbDeadline)
	for {
		cons, err := st.admin.Consumer(b.Context(), st.name, consumer)
		require.NoError(b, err)
		ci := cons.CachedInfo()
		if ci.NumAckPending == 0 && ci.NumPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("consumer %s: %d pending, %d unacked", consumer, ci.NumPending, ci.NumAckPending)
		}
	}
}

func nbJSConsumeBus(b *testing.B, srv *embedded.Server, wire nbWire) {
	st := nbNewStream(b, srv, true)
	nbPreload(b, srv, st, wire, b.N)
	bs := nbOpenBus(b, srv, st.config())
	c := &nbCounter{total: int64(b.N), done: make(chan struct{})}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	_, err := bs.Subscribe(b.Context(), st.subject, bus.HandlerFunc(func(context.Context, *bus.Message) error {
		c.add()
		return nil
	}), bus.Group("bench"))
	require.NoError(b, err)
	c.waitAcked(b, st, natsbus.ConsumerName("bench"))
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, nil, "")
}

func nbJSConsumeRaw(b *testing.B, srv *embedded.Server, wire nbWire) {
	st := nbNewStream(b, srv, true)
	nbPreload(b, srv, st, wire, b.N)
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	c := &nbCounter{total: int64(b.N), done: make(chan struct{})}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cons, err := js.CreateOrUpdateConsumer(b.Context(), st.name, jetstream.ConsumerConfig{
		Durable: "bench-raw", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxDeliver: -1, MaxAckPending: 1000, DeliverPolicy: jetstream.DeliverAllPolicy, FilterSubject: st.subject,
	})
	require.NoError(b, err)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if err := m.Ack(); err != nil {
			b.Error(err)
		}
		c.add()
	}, jetstream.PullMaxMessages(500))
	require.NoError(b, err)
	b.Cleanup(func() { cc.Stop(); <-cc.Closed() })
	c.waitAcked(b, st, "bench-raw")
	elapsed := time.Since(start)
	b.StopTimer()
	nbReport(b, elapsed, b.N, nil, "")
}
