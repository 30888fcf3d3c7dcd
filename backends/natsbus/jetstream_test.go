package natsbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsTestTimeout bounds every wait in the JetStream tests.
const jsTestTimeout = 10 * time.Second

// jsTestEnv is a test's embedded server with a plain nats.go connection
// and JetStream context beside the bus, to look at what the bus did.
type jsTestEnv struct {
	srv *embedded.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

func jsTestStart(t *testing.T) *jsTestEnv {
	t.Helper()
	srv := startEmbedded(t)
	nc, err := nats.Connect(srv.URL(), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return &jsTestEnv{srv: srv, nc: nc, js: js}
}

// jsTestStream is a memory stream capturing subjects.
func jsTestStream(name string, subjects ...string) *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{
		Stream:  natsbus.StreamConfig{Name: name, Subjects: subjects, Storage: "memory"},
		AckWait: 5 * time.Second,
	}
}

// withCore declares core subjects on js.
func withCore(js *natsbus.JetStreamConfig, patterns ...string) *natsbus.JetStreamConfig {
	js.CoreSubjects = append(js.CoreSubjects, patterns...)
	return js
}

// open opens a bus on the test's server with js, closed in t.Cleanup.
func (e *jsTestEnv) open(t *testing.T, js *natsbus.JetStreamConfig) *bus.Bus {
	t.Helper()
	return e.openConfig(t, natsbus.Config{URL: e.srv.URL(), JetStream: js})
}

// openConfig opens a bus with cfg (quiet), closed in t.Cleanup. Tests that
// close it themselves check that Close's result; the cleanup's is logged.
func (e *jsTestEnv) openConfig(t *testing.T, cfg natsbus.Config) *bus.Bus {
	t.Helper()
	cfg.Logger = failureLog(t)
	c, err := natsbus.Open(t.Context(), cfg)
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(cfg.Logger))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), jsTestTimeout)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Logf("close bus: %v", err)
		}
	})
	return b
}

func (e *jsTestEnv) consumerInfo(t *testing.T, stream, name string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := e.js.Consumer(t.Context(), stream, name)
	require.NoError(t, err, "consumer %q", name)
	ci, err := c.Info(t.Context())
	require.NoError(t, err)
	return ci
}

func (e *jsTestEnv) streamInfo(t *testing.T, stream string) *jetstream.StreamInfo {
	t.Helper()
	st, err := e.js.Stream(t.Context(), stream)
	require.NoError(t, err, "stream %q", stream)
	si, err := st.Info(t.Context())
	require.NoError(t, err)
	return si
}

// lastMsg returns the last message stored on subject, or nil.
func (e *jsTestEnv) lastMsg(t *testing.T, stream, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	st, err := e.js.Stream(t.Context(), stream)
	require.NoError(t, err)
	m, err := st.GetLastMsgForSubject(t.Context(), subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	require.NoError(t, err)
	return m
}

// ackBodies records the bodies of every ack, nak, term and in-progress
// sent to the stream's consumers (their reply subjects), in order.
func (e *jsTestEnv) ackBodies(t *testing.T, stream string) func() []string {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	_, err := e.nc.Subscribe("$JS.ACK."+stream+".>", func(m *nats.Msg) {
		mu.Lock()
		bodies = append(bodies, string(m.Data))
		mu.Unlock()
	})
	require.NoError(t, err)
	require.NoError(t, e.nc.Flush())
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...)
	}
}

// settled waits until the consumer has no unacknowledged message and its
// ack floor reached stream sequence seq, and returns its info.
func (e *jsTestEnv) settled(t *testing.T, stream, name string, seq uint64) *jetstream.ConsumerInfo {
	t.Helper()
	var ci *jetstream.ConsumerInfo
	jsTestWait(t, "consumer "+name+" to settle", func() bool {
		ci = e.consumerInfo(t, stream, name)
		return ci.NumAckPending == 0 && ci.AckFloor.Stream >= seq
	})
	return ci
}

// failureLog is a debug logger whose output the test prints if it fails.
func failureLog(t testing.TB) *slog.Logger {
	var buf syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backend log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// jsTestWait polls cond until it holds, failing t after jsTestTimeout.
func jsTestWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(jsTestTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", jsTestTimeout, what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

// jsTestRecv receives from ch, failing t after jsTestTimeout.
func jsTestRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(jsTestTimeout):
		t.Fatalf("timed out after %v waiting for %s", jsTestTimeout, what)
	}
	var zero T
	return zero
}

func jsTestEvent(subject, data string) *bus.Message {
	return bus.NewMessage(subject, "io.busway.test.js.v1", []byte(data))
}

func TestJetStreamSlowHandlerKeptAliveByInProgress(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("SLOW", "slow.>")
	cfg.AckWait = time.Second
	b := e.open(t, cfg)
	acks := e.ackBodies(t, "SLOW")
	started, release := make(chan struct{}, 4), make(chan struct{})
	var calls atomic.Int32
	_, err := b.Subscribe(t.Context(), "slow.>", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		calls.Add(1)
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}), bus.Group("slow"))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("slow.job", "work")))

	jsTestRecv(t, started, "the handler to start")
	jsTestRecv(t, time.After(2*cfg.AckWait+cfg.AckWait/2), "2.5 × AckWait to pass")
	jsTestWait(t, "two InProgress heartbeats", func() bool {
		n := 0
		for _, body := range acks() {
			if body == "+WPI" {
				n++
			}
		}
		return n >= 2
	})
	close(release)

	ci := e.settled(t, "SLOW", natsbus.ConsumerName("slow"), 1)
	assert.EqualValues(t, 1, ci.Delivered.Consumer, "deliveries: the message was redelivered while its handler ran")
	assert.Zero(t, ci.NumRedelivered)
	assert.EqualValues(t, 1, calls.Load(), "handler calls")
}

// TestJetStreamSlowHandlerWithoutHeartbeatIsRedelivered is the control for
// the test above: on the same AckWait, a consumer that neither acks nor
// sends InProgress gets the message again.
func TestJetStreamSlowHandlerWithoutHeartbeatIsRedelivered(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("NOHB", "nohb.>")
	cfg.AckWait = time.Second
	b := e.open(t, cfg)
	cons, err := e.js.CreateConsumer(t.Context(), "NOHB", jetstream.ConsumerConfig{
		Durable: "raw", AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
	})
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("nohb.job", "work")))

	first, err := cons.Next(jetstream.FetchMaxWait(jsTestTimeout))
	require.NoError(t, err)
	second, err := cons.Next(jetstream.FetchMaxWait(jsTestTimeout))
	require.NoError(t, err)
	m1, err := first.Metadata()
	require.NoError(t, err)
	m2, err := second.Metadata()
	require.NoError(t, err)
	assert.Equal(t, m1.Sequence.Stream, m2.Sequence.Stream, "same message")
	assert.EqualValues(t, 1, m1.NumDelivered)
	assert.EqualValues(t, 2, m2.NumDelivered)
	require.NoError(t, second.Ack())
}

func TestJetStreamUndecodableMessageDeadLettered(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("UND", "und.>"))
	var calls atomic.Int32
	count := bus.HandlerFunc(func(context.Context, *bus.Message) error { calls.Add(1); return nil })
	body := []byte("\x00\xffnot a CloudEvent {")
	raw := func(subject string) *nats.Msg {
		return &nats.Msg{Subject: subject, Data: body,
			Header: nats.Header{"X-Trace": {"a", "b"}, "X-Tenant": {"t1"}}}
	}

	t.Run("with dead-letter subject", func(t *testing.T) {
		_, err := b.Subscribe(t.Context(), "und.in", count, bus.Group("g"), bus.DeadLetter("und.dead"))
		require.NoError(t, err)
		ack, err := e.js.PublishMsg(t.Context(), raw("und.in"))
		require.NoError(t, err)

		ci := e.settled(t, "UND", natsbus.ConsumerName("g"), ack.Sequence)
		assert.EqualValues(t, 1, ci.Delivered.Consumer, "deliveries")
		// Acked, so the copy must already be stored: never an ack without it.
		dl := e.lastMsg(t, "UND", "und.dead")
		require.NotNil(t, dl, "the original was acked without a dead-letter copy")
		assert.Equal(t, body, dl.Data, "body byte for byte")
		assert.Equal(t, []string{"a", "b"}, dl.Header["X-Trace"])
		assert.Equal(t, []string{"t1"}, dl.Header["X-Tenant"])
		assert.Equal(t, "und.in", dl.Header.Get(bus.DeadLetterSubjectHeader))
		assert.Equal(t, "true", dl.Header.Get(bus.DeadLetterPermanentHeader))
		assert.Equal(t, "1", dl.Header.Get(bus.DeadLetterAttemptsHeader))
		assert.Contains(t, dl.Header.Get(bus.DeadLetterReasonHeader), "malformed")
		_, err = time.Parse(time.RFC3339Nano, dl.Header.Get(bus.DeadLetterTimeHeader))
		assert.NoError(t, err, "dead-letter time")
	})

	t.Run("without dead-letter subject it is terminated", func(t *testing.T) {
		adv := make(chan *nats.Msg, 4)
		_, err := e.nc.ChanSubscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.UND.>", adv)
		require.NoError(t, err)
		require.NoError(t, e.nc.Flush())
		_, err = b.Subscribe(t.Context(), "und.bare", count, bus.Group("g2"))
		require.NoError(t, err)
		ack, err := e.js.PublishMsg(t.Context(), raw("und.bare"))
		require.NoError(t, err)

		var a struct {
			Consumer  string `json:"consumer"`
			StreamSeq uint64 `json:"stream_seq"`
			Reason    string `json:"reason"`
		}
		require.NoError(t, json.Unmarshal(jsTestRecv(t, adv, "the terminated advisory").Data, &a))
		name := natsbus.ConsumerName("g2")
		assert.Equal(t, name, a.Consumer)
		assert.Equal(t, ack.Sequence, a.StreamSeq)
		assert.Contains(t, a.Reason, "malformed")
		ci := e.settled(t, "UND", name, ack.Sequence)
		assert.EqualValues(t, 1, ci.Delivered.Consumer, "deliveries")
	})
	assert.Zero(t, calls.Load(), "the handler saw an undecodable message")
}

func TestJetStreamDeduplicatesByEventID(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("DEDUP", "dedup.>")
	cfg.Start = natsbus.StartAll
	b := e.open(t, cfg)
	m := jsTestEvent("dedup.in", "once")
	require.NoError(t, b.Publish(t.Context(), m))
	require.NoError(t, b.Publish(t.Context(), m), "a duplicate is a success")
	again := jsTestEvent("dedup.in", "another body, same id")
	again.Event.ID = m.Event.ID
	require.NoError(t, b.Publish(t.Context(), again))
	assert.EqualValues(t, 1, e.streamInfo(t, "DEDUP").State.Msgs, "messages stored")

	// The dead-letter copy goes into the same stream with its own id.
	fail := bus.HandlerFunc(func(context.Context, *bus.Message) error { return bus.Permanent(errors.New("no")) })
	_, err := b.Subscribe(t.Context(), "dedup.in", fail, bus.Group("g"), bus.DeadLetter("dedup.dead"))
	require.NoError(t, err)
	e.settled(t, "DEDUP", natsbus.ConsumerName("g"), 1)
	dl := e.lastMsg(t, "DEDUP", "dedup.dead")
	require.NotNil(t, dl, "the dead-letter copy was dropped as a duplicate")
	assert.NotEqual(t, driver.DedupID(m.Event.Source, m.Event.ID), dl.Header.Get(jetstream.MsgIDHeader), "the copy has its own dedup id")
	assert.NotEmpty(t, dl.Header.Get(jetstream.MsgIDHeader))
	require.NoError(t, b.Publish(t.Context(), m))
	assert.EqualValues(t, 2, e.streamInfo(t, "DEDUP").State.Msgs, "messages stored")
}

func TestJetStreamRedeliveryBackoffUsesNakWithDelay(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("BACK", "back.>"))
	acks := e.ackBodies(t, "BACK")
	attempts := make(chan int, 8)
	_, err := b.Subscribe(t.Context(), "back.in", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		attempts <- m.Attempt()
		if m.Attempt() < 3 {
			return errors.New("not yet")
		}
		return nil
	}), bus.Group("g"), bus.RetryBackoff(bus.ConstantBackoff(200*time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("back.in", "x")))

	for want := 1; want <= 3; want++ {
		assert.Equal(t, want, jsTestRecv(t, attempts, "an attempt"))
	}
	e.settled(t, "BACK", natsbus.ConsumerName("g"), 1)
	var settles []string
	jsTestWait(t, "the ack to be seen", func() bool {
		settles = settles[:0]
		for _, body := range acks() {
			if body != "+WPI" {
				settles = append(settles, body)
			}
		}
		return len(settles) >= 3
	})
	nak := `-NAK {"delay": 200000000}`
	assert.Equal(t, []string{nak, nak, "+ACK"}, settles)
	assert.Empty(t, attempts, "extra deliveries")
}

func TestJetStreamSubjectsInsideOutsideAndAcrossTheStream(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, withCore(jsTestStream("PART", "part.>"), "rpc.>"))
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	for _, p := range []string{">", "*.x", "*.>"} {
		_, err := b.Subscribe(t.Context(), p, noop)
		assert.ErrorIs(t, err, bus.ErrInvalidSubject, "pattern %q is partly inside the stream", p)
	}
	assert.Zero(t, e.streamInfo(t, "PART").State.Consumers, "a rejected subscription left a consumer")

	_, err := b.Subscribe(t.Context(), "rpc.echo", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		return m.Respond(ctx, jsTestEvent("", "pong:"+string(m.Event.Data)))
	}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), jsTestTimeout)
	defer cancel()
	reply, err := b.Request(ctx, jsTestEvent("rpc.echo", "ping"))
	require.NoError(t, err, "request/reply outside the stream")
	assert.Equal(t, "pong:ping", string(reply.Event.Data))
	si := e.streamInfo(t, "PART")
	assert.Zero(t, si.State.Consumers, "a subscription outside the stream made a consumer")
	assert.Zero(t, si.State.Msgs, "a request outside the stream was stored")

	_, err = b.Request(ctx, jsTestEvent("part.get", "ping"))
	assert.ErrorIs(t, err, bus.ErrNotSupported)
	assert.True(t, strings.Contains(err.Error(), "part.get"), "error names the subject: %v", err)
}
