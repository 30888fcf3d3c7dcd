package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJetStreamPublishToUncapturedSubjectFails: on a JetStream bus, a
// publish to a subject no stream captures (a typo) is an error, not a core
// NATS message that vanishes; subscribing to such a pattern is refused
// too. Declared core subjects still work.
func TestJetStreamPublishToUncapturedSubjectFails(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, withCore(jsTestStream("TYPO", "orders.>"), "rpc.>"))

	raw, err := e.nc.SubscribeSync("ordres.>")
	require.NoError(t, err)
	require.NoError(t, e.nc.Flush())

	err = b.Publish(t.Context(), jsTestEvent("ordres.placed", "typo"))
	require.ErrorIs(t, err, natsbus.ErrNoStream)
	assert.ErrorContains(t, err, `"ordres.placed"`)
	assert.ErrorContains(t, err, "TYPO [orders.>]", "the error lists the streams")
	err = b.PublishBatch(t.Context(), jsTestEvent("orders.ok", "stored"), jsTestEvent("ordres.bad", "typo"))
	require.ErrorIs(t, err, natsbus.ErrNoStream)
	require.NoError(t, e.nc.Flush())
	_, err = raw.NextMsg(50 * time.Millisecond)
	assert.ErrorIs(t, err, nats.ErrTimeout, "nothing went out as core NATS")

	_, err = b.Subscribe(t.Context(), "ordres.>", bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }))
	require.ErrorIs(t, err, natsbus.ErrNoStream)

	got := make(chan string, 1)
	_, err = b.Subscribe(t.Context(), "rpc.ping", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- string(m.Event.Data)
		return nil
	}))
	require.NoError(t, err, "a declared core subject")
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("rpc.ping", "core")))
	select {
	case v := <-got:
		assert.Equal(t, "core", v)
	case <-time.After(jsTestTimeout):
		t.Fatal("the core message did not arrive")
	}

	_, err = b.Request(t.Context(), jsTestEvent("nobody.home", "q"))
	assert.ErrorIs(t, err, bus.ErrNoResponders, "requests may go to any subject outside the streams")
}

// TestJetStreamDeadLetterOutsideStreamsRefused: a dead-letter subject no
// stream captures would lose dead letters when nobody listens: refused at
// Subscribe unless declared core.
func TestJetStreamDeadLetterOutsideStreamsRefused(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, withCore(jsTestStream("DLQ", "work.>", "dead.>"), "fyi.>"))
	h := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })

	_, err := b.Subscribe(t.Context(), "work.a", h, bus.DeadLetter("lost.work"))
	require.ErrorIs(t, err, natsbus.ErrNoStream)
	assert.ErrorContains(t, err, "dead-letter subject")
	assert.Zero(t, e.streamInfo(t, "DLQ").State.Consumers, "a refused subscription leaves no consumer")

	_, err = b.Subscribe(t.Context(), "work.b", h, bus.DeadLetter("dead.work"))
	require.NoError(t, err, "inside a stream")
	_, err = b.Subscribe(t.Context(), "work.c", h, bus.DeadLetter("fyi.work"))
	require.NoError(t, err, "declared core: explicitly allowed")
}

// TestJetStreamSeveralStreams: one bus publishes to and consumes from
// every stream of the account, each subject in the stream that captures
// it, including a stream created after the bus opened; no stream= needed.
func TestJetStreamSeveralStreams(t *testing.T) {
	e := jsTestStart(t)
	for name, subj := range map[string]string{"ALPHA": "alpha.>", "BETA": "beta.>"} {
		_, err := e.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Storage: jetstream.MemoryStorage})
		require.NoError(t, err)
	}
	b := e.open(t, &natsbus.JetStreamConfig{AckWait: 5 * time.Second})

	got := make(chan string, 3)
	for _, p := range []string{"alpha.*", "beta.*"} {
		_, err := b.Subscribe(t.Context(), p, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
			got <- m.Subject
			return nil
		}), bus.Group("g"))
		require.NoError(t, err, p)
	}
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("alpha.1", "a")))
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("beta.1", "b")))

	_, err := e.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "GAMMA", Subjects: []string{"gamma.>"}, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	require.Eventually(t, func() bool { // the bus refreshes its list at most once a second
		return b.Publish(t.Context(), jsTestEvent("gamma.1", "c")) == nil
	}, jsTestTimeout, 100*time.Millisecond, "a stream created after Open is found")

	seen := map[string]bool{}
	for range 2 {
		select {
		case s := <-got:
			seen[s] = true
		case <-time.After(jsTestTimeout):
			t.Fatalf("only got %v", seen)
		}
	}
	assert.Equal(t, map[string]bool{"alpha.1": true, "beta.1": true}, seen)
	for name, want := range map[string]uint64{"ALPHA": 1, "BETA": 1, "GAMMA": 1} {
		assert.Equal(t, want, e.streamInfo(t, name).State.Msgs, name)
	}
	assert.Equal(t, "alpha.1", e.lastMsg(t, "ALPHA", "alpha.1").Subject)
}
