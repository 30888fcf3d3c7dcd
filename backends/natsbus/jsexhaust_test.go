package natsbus_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Item 3 of issue 8: every delivered message ends.

// TestJetStreamStatusHeaderMessageDeliveredExhausted: a message with an
// empty body and a Status header (anyone can publish one into the stream)
// is taken by nats.go for a status message and never reaches the bus's
// callback; the MaxDeliver backstop and its advisory bring it to the
// handler as an Exhausted delivery, and it does not hold up the next.
func TestJetStreamStatusHeaderMessageDeliveredExhausted(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("STAT", "stat.>")
	cfg.AckWait = 200 * time.Millisecond
	c := openConn(t, e.srv, cfg)
	got := make(chan *driver.Message, 8)
	_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "stat.>", Group: "g", MaxAttempts: 2},
		func(m *driver.Message) {
			got <- m
			if m.Acker != nil {
				_ = m.Acker.Ack(context.Background())
			}
		})
	require.NoError(t, err)
	ack, err := e.js.PublishMsg(t.Context(), &nats.Msg{Subject: "stat.x", Header: nats.Header{"Status": {"503"}, "X-Tenant": {"t1"}}})
	require.NoError(t, err)

	m := jsTestRecv(t, got, "the status-header message")
	assert.True(t, m.Exhausted, "delivered as exhausted")
	assert.Nil(t, m.Acker, "nothing left to settle")
	assert.Equal(t, 3, m.Attempt, "deliveries: MaxAttempts+1")
	assert.Equal(t, "stat.x", m.Subject)
	assert.Empty(t, m.Data)
	assert.Equal(t, []string{"503"}, m.Header["Status"])
	assert.Equal(t, []string{"t1"}, m.Header["X-Tenant"])
	assert.Equal(t, []string{"STAT"}, m.Header[bus.DeadLetterStreamHeader], "where it is stored, for the dead letter")
	assert.Equal(t, []string{fmt.Sprint(ack.Sequence)}, m.Header[bus.DeadLetterSequenceHeader])
	raw, ok := m.Native.(*jetstream.RawStreamMsg)
	require.True(t, ok, "Native is %T", m.Native)
	assert.Equal(t, ack.Sequence, raw.Sequence)

	delPublish(t, c, "stat.y", "next")
	n := jsTestRecv(t, got, "the next message")
	assert.Equal(t, "next", string(n.Data))
	assert.False(t, n.Exhausted)
}

// TestJetStreamStatusHeaderMessageDeadLettered: through the bus, such a
// message ends in the dead-letter subject with its bytes.
func TestJetStreamStatusHeaderMessageDeadLettered(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("STATB", "statb.>")
	cfg.AckWait = 200 * time.Millisecond
	b := e.open(t, cfg)
	_, err := b.Subscribe(t.Context(), "statb.in", bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }),
		bus.Group("g"), bus.MaxAttempts(1), bus.DeadLetter("statb.dead"))
	require.NoError(t, err)
	_, err = e.js.PublishMsg(t.Context(), &nats.Msg{Subject: "statb.in", Header: nats.Header{"Status": {"503"}, "X-Tenant": {"t1"}}})
	require.NoError(t, err)
	var dl *jetstream.RawStreamMsg
	jsTestWait(t, "the dead-letter copy", func() bool {
		dl = e.lastMsg(t, "STATB", "statb.dead")
		return dl != nil
	})
	assert.Equal(t, "statb.in", dl.Header.Get(bus.DeadLetterSubjectHeader))
	assert.Equal(t, "t1", dl.Header.Get("X-Tenant"))
	assert.Empty(t, dl.Data)
}

// TestJetStreamHeadersOverServerLimitIsPayloadTooLarge: a header block over
// JetStream's 64 KiB limit (API error 10097) is bus.ErrPayloadTooLarge,
// and a header name nats.go refuses is bus.ErrInvalidHeader, so the bus
// knows that publishing a dead-letter copy again cannot help.
func TestJetStreamHeadersOverServerLimitIsPayloadTooLarge(t *testing.T) {
	e := jsTestStart(t)
	c := openConn(t, e.srv, jsTestStream("HL", "hl.>"))
	err := c.Publish(t.Context(), &driver.Message{Subject: "hl.x", Header: map[string][]string{"X-Big": {strings.Repeat("a", 70000)}}})
	require.ErrorIs(t, err, bus.ErrPayloadTooLarge)
	var apiErr *jetstream.APIError
	require.ErrorAs(t, err, &apiErr, "the server's error stays in the chain")
	assert.EqualValues(t, 10097, apiErr.ErrorCode)
	assert.Contains(t, err.Error(), "hl.x")

	err = c.Publish(t.Context(), &driver.Message{Subject: "hl.x", Header: map[string][]string{"X(Bad)": {"v"}}})
	assert.ErrorIs(t, err, bus.ErrInvalidHeader)
}

// rawHPUB publishes a message with a header block written as is, over a
// plain TCP connection: headers nats.go would refuse to send, as a third
// party's client may.
func rawHPUB(t *testing.T, addr, subject, hdr string, body []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, jsTestTimeout)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(jsTestTimeout)))
	r := bufio.NewReader(conn)
	_, err = r.ReadString('\n') // INFO
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "CONNECT {\"verbose\":false,\"headers\":true,\"protocol\":1}\r\nHPUB %s %d %d\r\n%s%s\r\nPING\r\n",
		subject, len(hdr), len(hdr)+len(body), hdr, body)
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "PONG\r\n", line)
}

// poisonPad returns a header value that brings the message the bus
// publishes on subject to within margin bytes of JetStream's 64 KiB
// header limit: stored, but its dead-letter copy (which adds headers) is
// not.
func poisonPad(t *testing.T, e *jsTestEnv, b *bus.Bus, stream, subject string, margin int) string {
	t.Helper()
	probe := jsTestEvent(subject, "probe")
	probe.Header.Set("X-Pad", "")
	require.NoError(t, b.Publish(t.Context(), probe))
	m := e.lastMsg(t, stream, subject)
	require.NotNil(t, m)
	size := len("NATS/1.0\r\n\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	return strings.Repeat("p", 65535-margin-size)
}

// TestJetStreamPoisonCannotStallConsumer: with max_ack_pending 2, messages
// whose dead-letter copy can never be stored (headers over the server's
// limit once the failure headers are added; a header name nats.go refuses
// to publish) end instead of being redelivered forever, and the good
// messages behind them are handled.
func TestJetStreamPoisonCannotStallConsumer(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("PZ", "pz.>")
	cfg.MaxAckPending = 2
	cfg.Start = natsbus.StartAll // the group starts with the poison
	b := e.open(t, cfg)
	pad := poisonPad(t, e, b, "PZ", "pz.probe", 150)
	for i := range 2 {
		m := jsTestEvent("pz.in", fmt.Sprintf("poison-big-%d", i))
		m.Header.Set("X-Pad", pad)
		require.NoError(t, b.Publish(t.Context(), m), "the original fits")
	}
	for i := range 2 {
		hdr := fmt.Sprintf("NATS/1.0\r\nce-specversion: 1.0\r\nce-id: bad-%d\r\nce-source: /raw\r\nce-type: t\r\nX(Bad): v\r\n\r\n", i)
		rawHPUB(t, e.srv.Addr(), "pz.in", hdr, []byte("poison-name"))
	}
	jsTestWait(t, "the raw messages to be stored", func() bool { return e.streamInfo(t, "PZ").State.Msgs == 5 })
	var mu sync.Mutex
	good := map[string]int{}
	done := make(chan struct{}, 8)
	_, err := b.Subscribe(t.Context(), "pz.in", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if strings.HasPrefix(string(m.Event.Data), "poison") {
			return errors.New("poison")
		}
		mu.Lock()
		good[string(m.Event.Data)]++
		mu.Unlock()
		done <- struct{}{}
		return nil
	}), bus.Group("g"), bus.DeadLetter("pz.dead"), bus.MaxAttempts(2), bus.RetryBackoff(bus.ConstantBackoff(10*time.Millisecond)))
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, b.Publish(t.Context(), jsTestEvent("pz.in", fmt.Sprintf("good-%d", i))))
	}
	for range 3 {
		jsTestRecv(t, done, "a good message behind the poison")
	}
	assert.Equal(t, map[string]int{"good-0": 1, "good-1": 1, "good-2": 1}, good)
	e.settled(t, "PZ", natsbus.ConsumerName("g"), 8)
	assert.Nil(t, e.lastMsg(t, "PZ", "pz.dead"), "no dead-letter copy could be stored")
}

// nakDelays parses the NAK bodies among acks: plain is how many carried
// no delay.
func nakDelays(t *testing.T, bodies []string) (delays []time.Duration, plain int) {
	t.Helper()
	for _, b := range bodies {
		switch {
		case b == "-NAK":
			plain++
		case strings.HasPrefix(b, "-NAK "):
			var d struct {
				Delay time.Duration `json:"delay"`
			}
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(b, "-NAK ")), &d), b)
			delays = append(delays, d.Delay)
		}
	}
	return delays, plain
}

// TestJetStreamHardStopHandsBackSpreadOverTime: at a hard stop, the
// message in flight and those buffered in the pull loop are handed back
// with random delays below min(AckWait, 5s), not all at once.
func TestJetStreamHardStopHandsBackSpreadOverTime(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("HS", "hs.>")
	cfg.AckWait = 2 * time.Second
	cfg.PullMaxMessages = 20
	b := e.openConfig(t, natsbus.Config{URL: e.srv.URL(), JetStream: cfg, Name: "hs-bus"})
	acks := e.ackBodies(t, "HS")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("acks seen: %q", acks())
		}
	})
	started := make(chan struct{}, 1)
	sub, err := b.Subscribe(t.Context(), "hs.>", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}), bus.Group("g"))
	require.NoError(t, err)
	// Published from another connection, so that the server's count of
	// messages sent to the bus's connection counts deliveries only.
	sent := coreTestConnz(t, e.srv, "hs-bus").OutMsgs
	pub := e.open(t, cfg)
	for i := range 20 {
		require.NoError(t, pub.Publish(t.Context(), jsTestEvent("hs.x", fmt.Sprint(i))))
	}
	jsTestRecv(t, started, "the first handler")
	// Every message sent to the bus's connection, not only counted as
	// delivered by the consumer (a message still in the server's send
	// queue when the drain unsubscribes is dropped there, and comes back
	// after AckWait).
	jsTestWait(t, "every message sent to the pull loop", func() bool {
		return coreTestConnz(t, e.srv, "hs-bus").OutMsgs >= sent+20
	})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, sub.Drain(ctx), context.DeadlineExceeded)

	var delays []time.Duration
	var plain int
	jsTestWait(t, "20 naks", func() bool {
		delays, plain = nakDelays(t, acks())
		return len(delays)+plain >= 20
	})
	assert.Zero(t, plain, "naks without a delay: handed back all at once")
	distinct := map[time.Duration]bool{}
	for _, d := range delays {
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.Less(t, d, cfg.AckWait)
		distinct[d] = true
	}
	assert.Greater(t, len(distinct), 10, "delays spread: %v", delays)
}
