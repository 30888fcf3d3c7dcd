package natsbus_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func noop(context.Context, *bus.Message) error { return nil }

// TestReadyFailsWhenConsumerDeletedAndRecovers: a plain subscription
// whose consumer is deleted makes the bus not ready (503 with the reason)
// until it is drained and the subscription is made again.
func TestReadyFailsWhenConsumerDeletedAndRecovers(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("HEALTH", "health.>"))
	srv := httptest.NewServer(b.ReadyHandler())
	defer srv.Close()
	s, err := b.Subscribe(t.Context(), "health.>", bus.HandlerFunc(noop))
	require.NoError(t, err)
	require.NoError(t, b.Ready(t.Context()))
	code, _ := get(t, srv.URL)
	assert.Equal(t, http.StatusOK, code)

	deleteSubscription(t, b, "health.>", "")
	jsTestRecv(t, s.Done(), "the subscription to end")
	err = b.Ready(t.Context())
	require.ErrorIs(t, err, bus.ErrNotReady)
	assert.ErrorIs(t, err, natsbus.ErrConsumerDeleted)
	code, body := get(t, srv.URL)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, `"health.>"`)

	require.NoError(t, s.Drain(t.Context()))
	_, err = b.Subscribe(t.Context(), "health.>", bus.HandlerFunc(noop))
	require.NoError(t, err)
	assert.NoError(t, b.Ready(t.Context()))
	assert.NoError(t, b.Live(t.Context()))
}

// TestReadyFollowsServerRestart: the bus is not ready while the server is
// down, and ready again after it restarts (same port and store); the
// connection events reach the callback.
func TestReadyFollowsServerRestart(t *testing.T) {
	e := jsTestStart(t)
	js := jsTestStream("RESTART", "restart.>")
	js.Stream.Storage = "file"
	events := make(chan bus.ConnectionEvent, 16)
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: e.srv.URL(), JetStream: js, Logger: quiet,
		ReconnectWait: 20 * time.Millisecond, MaxReconnects: -1})
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet), bus.OnConnectionEvent(func(ev bus.ConnectionEvent) { events <- ev }))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	_, err = b.Subscribe(t.Context(), "restart.>", bus.HandlerFunc(noop), bus.Group("g"))
	require.NoError(t, err)
	require.NoError(t, b.Ready(t.Context()))

	e.srv.Shutdown()
	ev := jsTestRecv(t, events, "the disconnected event")
	assert.Equal(t, bus.ConnDisconnected, ev.Kind)
	assert.NotContains(t, ev.Server, "@", "server URL redacted")
	assert.ErrorIs(t, b.Ready(t.Context()), bus.ErrNotReady)
	assert.NoError(t, b.Live(t.Context()), "a lost server is not a reason to restart the process")

	require.NoError(t, e.srv.Restart())
	ev = jsTestRecv(t, events, "the reconnected event")
	assert.Equal(t, bus.ConnReconnected, ev.Kind)
	jsTestWait(t, "ready after the restart", func() bool { return b.Ready(t.Context()) == nil })

	require.NoError(t, b.Close(t.Context()))
	assert.ErrorIs(t, b.Live(t.Context()), bus.ErrClosed)
	assert.ErrorIs(t, b.Ready(t.Context()), bus.ErrClosed)
}

// TestConnectionEventsOnUserConn: on a connection the user passed in,
// natsbus keeps the user's handlers and still reports state changes.
func TestConnectionEventsOnUserConn(t *testing.T) {
	srv := startEmbedded(t)
	userSaw := make(chan struct{}, 4)
	nc, err := nats.Connect(srv.URL(), nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { userSaw <- struct{}{} }))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	c, err := natsbus.Open(t.Context(), natsbus.Config{Conn: nc, Logger: quiet})
	require.NoError(t, err)
	events := make(chan bus.ConnectionEvent, 16)
	b := bus.New(c, bus.OnConnectionEvent(func(ev bus.ConnectionEvent) { events <- ev }))
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	srv.Shutdown()
	assert.Equal(t, bus.ConnDisconnected, jsTestRecv(t, events, "the disconnected event").Kind)
	jsTestRecv(t, userSaw, "the user's own handler")
	require.NoError(t, srv.Restart())
	assert.Equal(t, bus.ConnReconnected, jsTestRecv(t, events, "the reconnected event").Kind)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}
