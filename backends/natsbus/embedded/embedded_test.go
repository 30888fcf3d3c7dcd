package embedded_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// embStart starts a server with opts, stopped in t.Cleanup.
func embStart(t *testing.T, opts embedded.Options) *embedded.Server {
	t.Helper()
	srv, err := embedded.Start(opts)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// embConnect connects a plain nats.go client to url, closed in t.Cleanup.
func embConnect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// embRoundTrip subscribes and publishes one message on nc.
func embRoundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.SubscribeSync("emb.ping")
	require.NoError(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	require.NoError(t, nc.Publish("emb.ping", []byte("ping")))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(m.Data))
}

// embPort is the port of a host:port address.
func embPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

func TestEmbeddedStartDefaults(t *testing.T) {
	srv := embStart(t, embedded.Options{})
	port := embPort(t, srv.Addr())
	assert.NotZero(t, port)
	assert.NotEqual(t, 4222, port, "the default must never take NATS's standard port")
	assert.Equal(t, "nats://"+srv.Addr(), srv.URL())
	assert.True(t, strings.HasPrefix(srv.Addr(), "127.0.0.1:"), "listens on loopback: %s", srv.Addr())
	require.NotNil(t, srv.NATS())
	assert.True(t, srv.NATS().JetStreamEnabled(), "JetStream on by default")
	assert.DirExists(t, srv.StoreDir())
	assert.True(t, strings.HasPrefix(srv.NATS().JetStreamConfig().StoreDir, srv.StoreDir()),
		"the server stores under StoreDir: %s", srv.NATS().JetStreamConfig().StoreDir)
	embRoundTrip(t, embConnect(t, srv.URL()))

	dir := srv.StoreDir()
	srv.Stop()
	assert.Nil(t, srv.NATS(), "no server after Stop")
	assert.NoDirExists(t, dir, "a temporary store directory is removed by Stop")
	srv.Stop() // a second Stop is a no-op
}

func TestEmbeddedStopKeepsUserStoreDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	srv := embStart(t, embedded.Options{StoreDir: dir})
	assert.Equal(t, dir, srv.StoreDir())
	srv.Stop()
	assert.DirExists(t, dir, "a store directory the user chose survives Stop")
}

func TestEmbeddedNoJetStream(t *testing.T) {
	srv := embStart(t, embedded.Options{NoJetStream: true})
	assert.False(t, srv.NATS().JetStreamEnabled())
	assert.Empty(t, srv.StoreDir(), "no store directory without JetStream")
	embRoundTrip(t, embConnect(t, srv.URL()))
}

func TestEmbeddedRestartKeepsPortAndStream(t *testing.T) {
	srv := embStart(t, embedded.Options{})
	addr := srv.Addr()
	nc := embConnect(t, srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	for range 3 {
		_, err := js.Publish(ctx, "keep.x", []byte("x"))
		require.NoError(t, err)
	}
	before := srv.NATS()

	require.NoError(t, srv.Restart())
	assert.Equal(t, addr, srv.Addr(), "same address after Restart")
	assert.NotSame(t, before, srv.NATS(), "a new nats-server after Restart")
	assert.False(t, before.Running(), "the old nats-server is down")
	st, err := js.Stream(ctx, "KEEP") // through the reconnected client
	require.NoError(t, err, "the client reconnects to the same address")
	assert.Equal(t, uint64(3), st.CachedInfo().State.Msgs, "file stream messages kept across Restart")
}

func TestEmbeddedShutdownThenRestart(t *testing.T) {
	srv := embStart(t, embedded.Options{})
	addr := srv.Addr()
	srv.Shutdown()
	assert.Nil(t, srv.NATS())
	assert.DirExists(t, srv.StoreDir(), "Shutdown keeps the store")
	_, err := nats.Connect(srv.URL(), nats.MaxReconnects(0))
	assert.Error(t, err, "nothing listens after Shutdown")
	srv.Shutdown() // a no-op when down
	require.NoError(t, srv.Restart())
	assert.Equal(t, addr, srv.Addr())
	embRoundTrip(t, embConnect(t, srv.URL()))
}

func TestEmbeddedSyncAlways(t *testing.T) {
	for _, sync := range []bool{false, true} {
		srv := embStart(t, embedded.Options{SyncAlways: sync})
		assert.Equal(t, sync, srv.NATS().JetStreamConfig().SyncAlways, "SyncAlways=%v reaches the server", sync)
	}
}

func TestEmbeddedConfigureHook(t *testing.T) {
	calls := 0
	srv := embStart(t, embedded.Options{Configure: func(o *server.Options) {
		calls++
		o.MaxPayload = 4096
	}})
	assert.Equal(t, int64(4096), embConnect(t, srv.URL()).MaxPayload(), "Configure's option reaches the server")
	require.NoError(t, srv.Restart())
	assert.Equal(t, 2, calls, "Configure is called again on Restart")
	assert.Equal(t, int64(4096), embConnect(t, srv.URL()).MaxPayload(), "and still applies after Restart")
}

func TestEmbeddedStartFailsOnTakenPort(t *testing.T) {
	srv := embStart(t, embedded.Options{NoJetStream: true})
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where Start makes its temporary store
	_, err := embedded.Start(embedded.Options{Port: embPort(t, srv.Addr())})
	assert.ErrorIs(t, err, embedded.ErrNotReady, "a second server on a taken port")
	assert.ErrorContains(t, err, "listening", "the error gives the cause, not just a timeout")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "a failed Start removes its temporary store directory")
}
