package embedded_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openBus opens url with bus.Open; the caller closes the Bus (a Cleanup
// closes it too, which is then a no-op).
func openBus(t *testing.T, url string) *bus.Bus {
	t.Helper()
	b, err := bus.Open(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, closeBus(b)) })
	return b
}

func closeBus(b *bus.Bus) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.Close(ctx)
}

// busRoundTrip subscribes to subject, publishes one event there and
// waits for it.
func busRoundTrip(t *testing.T, b *bus.Bus, subject string, opts ...bus.SubscribeOption) {
	t.Helper()
	got := make(chan *bus.Message, 1)
	sub, err := b.Subscribe(t.Context(), subject, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}), opts...)
	require.NoError(t, err)
	defer func() { assert.NoError(t, sub.Drain(context.Background())) }()
	sent := bus.NewMessage(subject, "com.example.embedded.v1", []byte("hello"))
	require.NoError(t, b.Publish(t.Context(), sent))
	select {
	case m := <-got:
		assert.Equal(t, sent.Event.ID, m.Event.ID)
		assert.Equal(t, "hello", string(m.Event.Data))
	case <-time.After(10 * time.Second):
		t.Fatalf("no message on %s", subject)
	}
}

// busServer returns the embedded server behind b.
func busServer(t *testing.T, b *bus.Bus) *embedded.Server {
	t.Helper()
	var srv *embedded.Server
	require.True(t, b.As(&srv), "As(**embedded.Server)")
	require.NotNil(t, srv)
	return srv
}

func TestOpenEmptyURLIsEmbeddedCore(t *testing.T) {
	b := openBus(t, "")
	srv := busServer(t, b)
	assert.NotEqual(t, 4222, embPort(t, srv.Addr()), "the default never binds 4222")
	var js jetstream.JetStream
	assert.False(t, b.As(&js), "without stream= the bus is core NATS")
	var nc *nats.Conn
	require.True(t, b.As(&nc))
	assert.Equal(t, srv.URL(), nc.ConnectedUrl())
	busRoundTrip(t, b, "emb.core")

	dir := srv.StoreDir()
	require.NoError(t, closeBus(b))
	assert.Nil(t, srv.NATS(), "Close stops the embedded server")
	assert.NoDirExists(t, dir, "Close removes the temporary store")
}

func TestOpenEmbeddedJetStream(t *testing.T) {
	b := openBus(t, "embedded://?stream=S&subjects=s.>&ack_wait=5s")
	var js jetstream.JetStream
	require.True(t, b.As(&js), "stream= opens the jetstream backend")
	busRoundTrip(t, b, "s.orders", bus.Group("workers"))
	st, err := js.Stream(t.Context(), "S")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.CachedInfo().State.Msgs, "the event was stored")
	assert.Equal(t, []string{"s.>"}, st.CachedInfo().Config.Subjects)
}

func TestOpenEmbeddedStoreKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	url := "embedded://?stream=KEEP&subjects=keep.>&store=" + dir
	b := openBus(t, url)
	assert.Equal(t, dir, busServer(t, b).StoreDir())
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("keep.one", "com.example.keep.v1", nil)))
	require.NoError(t, closeBus(b))
	assert.DirExists(t, dir, "a store= directory survives Close")

	b = openBus(t, url)
	var st jetstream.Stream
	require.True(t, b.As(&st))
	info, err := st.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "the stream came back from the store")
}

func TestOpenEmbeddedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	b := openBus(t, "embedded://?port="+strconv.Itoa(port))
	assert.Equal(t, port, embPort(t, busServer(t, b).Addr()))
	busRoundTrip(t, b, "emb.port")
}

func TestOpenEmbeddedRejects(t *testing.T) {
	taken := embStart(t, embedded.Options{NoJetStream: true})
	for _, url := range []string{
		"embedded://?port=abc",
		"embedded://?port=-1",
		"embedded://?port=70000",
		"embedded://?port=" + strconv.Itoa(embPort(t, taken.Addr())),
		"embedded://somehost:4222",
		"embedded://user@",
		"embedded://?nosuch=1",
		"embedded://?subjects=s.>",
		"embedded://?stream=NOSUBJECTS",
		"embedded://?stream=bad.name&subjects=s.>",
	} {
		b, err := bus.Open(t.Context(), url)
		if !assert.Error(t, err, "Open(%q)", url) {
			_ = closeBus(b)
			continue
		}
		t.Logf("%s: %v", url, err)
	}
}

func TestOpenEmbeddedNamedServerIsShared(t *testing.T) {
	name := "embshared" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a := openBus(t, "embedded://"+name)
	b := openBus(t, "embedded://"+name+"?stream=SH&subjects=sh.>")
	srv := busServer(t, a)
	assert.Same(t, srv, busServer(t, b), "one server for one name")
	assert.NotSame(t, srv, busServer(t, openBus(t, "embedded://other"+name)), "another name, another server")

	got := make(chan string, 1)
	_, err := b.Subscribe(t.Context(), "sh.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m.Event.ID
		return nil
	}))
	require.NoError(t, err)
	sent := bus.NewMessage("sh.x", "com.example.shared.v1", nil)
	require.NoError(t, a.Publish(t.Context(), sent), "a core publish from one bus...")
	select {
	case id := <-got:
		assert.Equal(t, sent.Event.ID, id, "...reaches the other bus's stream consumer")
	case <-time.After(10 * time.Second):
		t.Fatal("the event did not cross between the buses")
	}

	_, err = bus.Open(t.Context(), "embedded://"+name+"?port=1")
	assert.Error(t, err, "the shared server is already running on another port")
	require.NoError(t, closeBus(a))
	assert.NotNil(t, srv.NATS(), "still running while a Bus uses it")
	require.NoError(t, closeBus(b))
	assert.Nil(t, srv.NATS(), "stopped when the last Bus closed")
}
