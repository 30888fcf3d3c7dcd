package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// asTestNative is what a handler found behind a delivery with Message.As.
type asTestNative struct {
	event string // the delivery's event id

	jsOK   bool // As(*jetstream.Msg) reported true
	meta   *jetstream.MsgMetadata
	metaEr error
	natsOK bool // As(**nats.Msg) reported true
	nm     *nats.Msg
}

// asTestHandler records, for each delivery, what Message.As gives.
func asTestHandler(got chan<- asTestNative) bus.Handler {
	return bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		n := asTestNative{event: m.Event.ID}
		var jm jetstream.Msg
		if n.jsOK = m.As(&jm); n.jsOK {
			n.meta, n.metaEr = jm.Metadata()
		}
		n.natsOK = m.As(&n.nm)
		got <- n
		return nil
	})
}

// TestMessageAsJetStream: a JetStream delivery's Message.As sets a
// jetstream.Msg whose Metadata has the stream and consumer sequences, the
// delivery count, the pending count and the server's timestamp; it is not
// a *nats.Msg.
func TestMessageAsJetStream(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("ASJS", "asjs.>"))
	got := make(chan asTestNative, 4)
	_, err := b.Subscribe(t.Context(), "asjs.>", asTestHandler(got), bus.Group("meta"))
	require.NoError(t, err)
	before := time.Now().Add(-time.Minute) // server and test share a clock; a minute of slack
	first, second := jsTestEvent("asjs.a", "1"), jsTestEvent("asjs.b", "2")
	require.NoError(t, b.Publish(t.Context(), first))
	require.NoError(t, b.Publish(t.Context(), second))

	for i, want := range []*bus.Message{first, second} {
		n := jsTestRecv(t, got, "a delivery")
		require.Equal(t, want.Event.ID, n.event, "deliveries in publish order")
		require.True(t, n.jsOK, "As(*jetstream.Msg) on a JetStream delivery")
		require.NoError(t, n.metaEr)
		seq := uint64(i + 1)
		assert.Equal(t, seq, n.meta.Sequence.Stream, "stream sequence")
		assert.Equal(t, seq, n.meta.Sequence.Consumer, "consumer sequence")
		assert.Equal(t, uint64(1), n.meta.NumDelivered, "delivery count")
		assert.Equal(t, "ASJS", n.meta.Stream)
		assert.Equal(t, natsbus.ConsumerName("meta"), n.meta.Consumer)
		assert.False(t, n.meta.Timestamp.IsZero(), "timestamp")
		assert.True(t, n.meta.Timestamp.After(before), "timestamp %v is the server's store time", n.meta.Timestamp)
		if i == 1 {
			assert.Zero(t, n.meta.NumPending, "nothing pending after the last message")
		}
		assert.False(t, n.natsOK, "a JetStream delivery is not a *nats.Msg")
	}
	e.settled(t, "ASJS", natsbus.ConsumerName("meta"), 2) // the bus acked both
}

// TestMessageAsCore: a core NATS delivery's Message.As sets the *nats.Msg
// it came as (on a jetstream:// bus too, for a subject outside the
// stream); it is not a jetstream.Msg. A message built for publishing has
// no native message.
func TestMessageAsCore(t *testing.T) {
	e := jsTestStart(t)
	for name, js := range map[string]*natsbus.JetStreamConfig{
		"Core":                   nil,
		"OutsideJetStreamStream": withCore(jsTestStream("ASCORE", "ascore.stored.>"), "ascore.live"),
	} {
		t.Run(name, func(t *testing.T) {
			b := e.open(t, js)
			got := make(chan asTestNative, 1)
			_, err := b.Subscribe(t.Context(), "ascore.live", asTestHandler(got))
			require.NoError(t, err)
			m := bus.NewMessage("ascore.live", "io.busway.test.as.v1", []byte("hello"))
			m.Header.Set("X-Trace", "t1")
			assert.False(t, m.As(new(*nats.Msg)), "As on a message built for publishing")
			require.NoError(t, b.Publish(t.Context(), m))

			n := jsTestRecv(t, got, "the delivery")
			require.True(t, n.natsOK, "As(**nats.Msg) on a core delivery")
			assert.Equal(t, "ascore.live", n.nm.Subject)
			assert.Equal(t, "t1", n.nm.Header.Get("X-Trace"))
			assert.Equal(t, "hello", string(n.nm.Data))
			require.NotNil(t, n.nm.Sub, "the nats.go subscription that received it")
			assert.Equal(t, "ascore.live", n.nm.Sub.Subject)
			assert.False(t, n.jsOK, "a core delivery is not a jetstream.Msg")
		})
	}
}

// TestErrorsAsTargets: errors keep nats.go's in their chain beside the
// bus's sentinels, for errors.As and errors.Is.
func TestErrorsAsTargets(t *testing.T) {
	t.Run("OpenAPIError", func(t *testing.T) {
		// Creating the stream fails: its subjects overlap another stream's.
		e := jsTestStart(t)
		_, err := e.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"taken.>"}, Storage: jetstream.MemoryStorage})
		require.NoError(t, err)
		_, err = bus.Open(t.Context(), "jetstream://"+e.srv.Addr()+"?stream=MINE&subjects=taken.>&storage=memory")
		require.Error(t, err)
		var apiErr *jetstream.APIError
		require.ErrorAs(t, err, &apiErr)
		const subjectOverlap jetstream.ErrorCode = 10065 // nats-server's JSStreamSubjectOverlapErr
		assert.Equal(t, subjectOverlap, apiErr.ErrorCode, "%v", apiErr)
	})

	t.Run("PublishAPIError", func(t *testing.T) {
		// The stream (made by someone else) refuses a message over its
		// max_msg_size: bus.ErrPayloadTooLarge, with the API error inside.
		e := jsTestStart(t)
		_, err := e.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "SMALL", Subjects: []string{"small.>"},
			Storage: jetstream.MemoryStorage, MaxMsgSize: 512})
		require.NoError(t, err)
		b := e.open(t, &natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "SMALL"}, NoCreate: true})
		err = b.Publish(t.Context(), bus.NewMessage("small.x", "io.busway.test.as.v1", make([]byte, 1024)))
		require.ErrorIs(t, err, bus.ErrPayloadTooLarge)
		var apiErr *jetstream.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, jetstream.JSErrCodeStreamMessageExceedsMaximum, apiErr.ErrorCode, "%v", apiErr)
	})

	t.Run("CoreMaxPayload", func(t *testing.T) {
		srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir(), Configure: func(o *server.Options) { o.MaxPayload = 4096 }})
		require.NoError(t, err)
		t.Cleanup(srv.Stop)
		b, err := bus.Open(t.Context(), srv.URL(), bus.Logger(quiet))
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
		err = b.Publish(t.Context(), bus.NewMessage("core.big", "io.busway.test.as.v1", make([]byte, 5000)))
		require.ErrorIs(t, err, bus.ErrPayloadTooLarge)
		assert.ErrorIs(t, err, nats.ErrMaxPayload)
	})
}
