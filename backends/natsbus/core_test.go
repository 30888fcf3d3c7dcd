package natsbus_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
)

// coreTestWait bounds every wait in these tests.
const coreTestWait = 10 * time.Second

// coreTestBus opens a bus over natsbus.Open(cfg), closed in t.Cleanup.
func coreTestBus(t *testing.T, cfg natsbus.Config) *bus.Bus {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	c, err := natsbus.Open(t.Context(), cfg)
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), coreTestWait)
		defer cancel()
		assert.NoError(t, b.Close(ctx), "close bus")
	})
	return b
}

// coreTestNATS returns the bus's *nats.Conn.
func coreTestNATS(t *testing.T, b *bus.Bus) *nats.Conn {
	t.Helper()
	var nc *nats.Conn
	require.True(t, b.As(&nc), "As(**nats.Conn)")
	return nc
}

// coreTestWaitFor polls cond until it holds, failing the test after
// coreTestWait.
func coreTestWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(coreTestWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// coreTestRecv waits for a value on ch, failing the test after
// coreTestWait.
func coreTestRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(coreTestWait):
		t.Fatalf("timed out waiting: %s", what)
		panic("unreachable")
	}
}

// coreTestConnz returns the server's view of the client connection named
// name.
func coreTestConnz(t *testing.T, srv *embedded.Server, name string) *server.ConnInfo {
	t.Helper()
	cz, err := srv.NATS().Connz(&server.ConnzOptions{})
	require.NoError(t, err)
	for _, ci := range cz.Conns {
		if ci.Name == name {
			return ci
		}
	}
	t.Fatalf("no client connection named %q", name)
	return nil
}

func TestCoreReconnectDeliversBufferedPublish(t *testing.T) {
	srv := startEmbedded(t)
	// The publisher reaches the server through a gate, so that after the
	// restart it reconnects (and flushes its buffered publish) only once
	// the subscriber is back: otherwise the message could reach the
	// server before anyone subscribes, and core NATS would drop it.
	gate := coreTestStartGate(t, srv.Addr())
	subLog, pubLog := &coreTestLog{}, &coreTestLog{}
	cfg := func(url string, l *coreTestLog) natsbus.Config {
		return natsbus.Config{URL: url, ReconnectWait: 20 * time.Millisecond, MaxReconnects: -1, Logger: l.logger()}
	}
	subBus := coreTestBus(t, cfg(srv.URL(), subLog))
	pubBus := coreTestBus(t, cfg("nats://"+gate.addr(), pubLog))
	got := make(chan *bus.Message, 4)
	_, err := subBus.Subscribe(t.Context(), "core.reconnect", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}))
	require.NoError(t, err)
	subNC, pubNC := coreTestNATS(t, subBus), coreTestNATS(t, pubBus)

	gate.hold()
	srv.Shutdown()
	coreTestWaitFor(t, "both connections reconnecting", func() bool { return subNC.IsReconnecting() && pubNC.IsReconnecting() })
	sent := bus.NewMessage("core.reconnect", "test.buffered", []byte("kept while down"))
	require.NoError(t, pubBus.Publish(t.Context(), sent), "publish while disconnected is buffered")

	require.NoError(t, srv.Restart())
	coreTestWaitFor(t, "subscriber reconnected", subNC.IsConnected)
	require.NoError(t, subNC.Flush(), "the server has the subscription again")
	gate.release()

	m := coreTestRecv(t, got, "the buffered message after the reconnect")
	assert.Equal(t, sent.Event.ID, m.Event.ID)
	assert.Equal(t, "kept while down", string(m.Event.Data))
	assert.True(t, pubNC.IsConnected())
	for name, l := range map[string]*coreTestLog{"subscriber": subLog, "publisher": pubLog} {
		coreTestWaitFor(t, name+" logs the reconnect", func() bool { return l.has(`msg="natsbus: reconnected"`) })
		assert.True(t, l.has(`msg="natsbus: disconnected"`), "%s logs the disconnect", name)
	}
}

func TestCoreUserConnNeverClosed(t *testing.T) {
	srv := startEmbedded(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	own := make(chan *nats.Msg, 4)
	_, err = nc.ChanSubscribe("user.own", own)
	require.NoError(t, err)

	c, err := natsbus.Open(t.Context(), natsbus.Config{Conn: nc, Logger: quiet})
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet))
	t.Cleanup(func() { _ = b.Close(context.Background()) }) // after a failure; Close is idempotent
	handled := make(chan string, 4)
	_, err = b.Subscribe(t.Context(), "user.bus", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		handled <- string(m.Event.Data)
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("user.bus", "test.user", []byte("via bus"))))
	assert.Equal(t, "via bus", coreTestRecv(t, handled, "the bus's own delivery"))
	require.Equal(t, 2, nc.NumSubscriptions())

	require.NoError(t, b.Close(t.Context()))
	assert.True(t, nc.IsConnected(), "status %v", nc.Status())
	assert.False(t, nc.IsDraining())
	assert.Equal(t, 1, nc.NumSubscriptions(), "the bus removed its subscription, and only it")
	require.NoError(t, nc.Publish("user.own", []byte("after close")))
	require.NoError(t, nc.Flush())
	assert.Equal(t, "after close", string(coreTestRecv(t, own, "the user's subscription after bus Close").Data))
	assert.ErrorIs(t, b.Publish(t.Context(), bus.NewMessage("user.bus", "test.user", nil)), bus.ErrClosed)
}

func TestCoreCloseDrainsSubscriptions(t *testing.T) {
	srv := startEmbedded(t)
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), Name: "core-drain", Logger: quiet})
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet))
	const n = 5
	gate, started := make(chan struct{}), make(chan struct{}, n)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(func() { release(); _ = b.Close(context.Background()) })
	var handled atomic.Int32
	_, err = b.Subscribe(t.Context(), "core.drain", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		started <- struct{}{}
		<-gate
		handled.Add(1)
		return nil
	}))
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, b.Publish(t.Context(), bus.NewMessage("core.drain", "test.drain", fmt.Appendf(nil, "%d", i))))
	}
	// One connection publishes and subscribes: once the flush's PONG is
	// back, the server's MSGs before it were read into the subscription.
	require.NoError(t, coreTestNATS(t, b).Flush())
	coreTestRecv(t, started, "the first handler")

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), coreTestWait)
		defer cancel()
		closed <- b.Close(ctx)
	}()
	coreTestWaitFor(t, "Close unsubscribed on the server", func() bool {
		return coreTestConnz(t, srv, "core-drain").NumSubs == 0
	})
	assert.Equal(t, int32(0), handled.Load(), "the gate holds every handler")
	release()
	require.NoError(t, coreTestRecv(t, closed, "Close"))
	assert.Equal(t, int32(n), handled.Load(), "messages queued when Close began are handled")
}

func TestCoreRequestReply(t *testing.T) {
	srv := startEmbedded(t)
	b := coreTestBus(t, natsbus.Config{URL: srv.URL()})
	tap, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(tap.Close)
	inbox, err := tap.SubscribeSync("_INBOX.>")
	require.NoError(t, err)
	require.NoError(t, tap.Flush())

	isRequest := make(chan bool, 1)
	_, err = b.Subscribe(t.Context(), "core.rpc.echo", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		isRequest <- m.IsRequest()
		return m.Respond(ctx, bus.NewMessage("", "test.echoed", append([]byte("echo: "), m.Event.Data...)))
	}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), coreTestWait)
	defer cancel()
	reply, err := b.Request(ctx, bus.NewMessage("core.rpc.echo", "test.echo", []byte("hi")))
	require.NoError(t, err)
	assert.Equal(t, "echo: hi", string(reply.Event.Data))
	assert.Equal(t, "test.echoed", reply.Event.Type)
	assert.True(t, <-isRequest, "the responder sees a request")
	seen, err := inbox.NextMsg(coreTestWait)
	require.NoError(t, err, "the reply travels to the requester's inbox")
	assert.Equal(t, "echo: hi", string(seen.Data))

	t.Run("NoResponders", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), coreTestWait)
		defer cancel()
		_, err := b.Request(ctx, bus.NewMessage("core.rpc.nobody", "test.echo", nil))
		assert.ErrorIs(t, err, bus.ErrNoResponders)
		assert.NotErrorIs(t, err, bus.ErrTimeout, "no responders is known at once, not after the deadline")
		assert.NoError(t, ctx.Err())
	})

	t.Run("SlowResponder", func(t *testing.T) {
		release := make(chan struct{})
		_, err := b.Subscribe(t.Context(), "core.rpc.slow", bus.HandlerFunc(func(context.Context, *bus.Message) error {
			<-release
			return nil
		}))
		require.NoError(t, err)
		defer close(release)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err = b.Request(ctx, bus.NewMessage("core.rpc.slow", "test.echo", nil))
		assert.ErrorIs(t, err, bus.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, bus.ErrNoResponders)
	})
}

// coreTestConcurrency subscribes a counting handler with opts on each of
// subs, publishes n messages from pub, and returns how often each event id
// was handled once every subscription drained, and the peak number of
// handlers running at once. Handlers wait until three run at once (for at
// most coreTestWait in all), so the peak shows whether three can.
func coreTestConcurrency(t *testing.T, pub *bus.Bus, subs []*bus.Bus, n int, opts ...bus.SubscribeOption) (counts map[string]int, peak int32) {
	t.Helper()
	var mu sync.Mutex
	counts = map[string]int{}
	var running, maxRunning atomic.Int32
	three := make(chan struct{})
	var once sync.Once
	patience, cancel := context.WithTimeout(t.Context(), coreTestWait)
	defer cancel()
	all := make(chan struct{})
	h := bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		now := running.Add(1)
		defer running.Add(-1)
		for old := maxRunning.Load(); now > old && !maxRunning.CompareAndSwap(old, now); old = maxRunning.Load() {
		}
		if now >= 3 {
			once.Do(func() { close(three) })
		}
		select {
		case <-three:
		case <-patience.Done():
		}
		mu.Lock()
		defer mu.Unlock()
		counts[m.Event.ID]++
		if len(counts) == n {
			close(all)
		}
		return nil
	})
	var ss []*bus.Subscription
	for _, b := range subs {
		s, err := b.Subscribe(t.Context(), "core.concurrency", h, opts...)
		require.NoError(t, err)
		ss = append(ss, s)
	}
	for i := range n {
		require.NoError(t, pub.Publish(t.Context(), bus.NewMessage("core.concurrency", "test.work", fmt.Appendf(nil, "%d", i))))
	}
	coreTestRecv(t, all, "every message handled")
	for _, s := range ss {
		require.NoError(t, s.Drain(t.Context()), "drain: duplicates, if any, are handled by now")
	}
	mu.Lock()
	defer mu.Unlock()
	return counts, maxRunning.Load()
}

func TestCoreConcurrency(t *testing.T) {
	srv := startEmbedded(t)
	// 60 messages over three queue members: the chance that one member
	// gets none of them (and the peak stays below 3) is about 1e-10.
	const n = 60
	t.Run("Plain", func(t *testing.T) {
		b := coreTestBus(t, natsbus.Config{URL: srv.URL()})
		counts, peak := coreTestConcurrency(t, coreTestBus(t, natsbus.Config{URL: srv.URL()}), []*bus.Bus{b}, n, bus.Concurrency(3))
		assert.Len(t, counts, n)
		for id, c := range counts {
			assert.Equal(t, 1, c, "message %s handled once, not once per unit of concurrency", id)
		}
		assert.Equal(t, int32(3), peak, "up to three handlers at once")
	})
	t.Run("GroupAcrossBuses", func(t *testing.T) {
		b1 := coreTestBus(t, natsbus.Config{URL: srv.URL()})
		b2 := coreTestBus(t, natsbus.Config{URL: srv.URL()})
		counts, peak := coreTestConcurrency(t, b1, []*bus.Bus{b1, b2}, n, bus.Group("workers"), bus.Concurrency(3))
		assert.Len(t, counts, n)
		for id, c := range counts {
			assert.Equal(t, 1, c, "message %s handled once in the whole group", id)
		}
		assert.GreaterOrEqual(t, peak, int32(3))
		assert.LessOrEqual(t, peak, int32(6))
	})
}

func TestCorePublishBatchReachesServer(t *testing.T) {
	srv := startEmbedded(t)
	pub := coreTestBus(t, natsbus.Config{URL: srv.URL(), Name: "core-batch-publisher"})
	sub := coreTestBus(t, natsbus.Config{URL: srv.URL()})
	const n = 1000
	var mu sync.Mutex
	seen := map[string]bool{}
	all := make(chan struct{})
	_, err := sub.Subscribe(t.Context(), "core.batch", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		seen[m.Event.ID] = true
		if len(seen) == n {
			close(all)
		}
		return nil
	}))
	require.NoError(t, err)
	ms := make([]*bus.Message, n)
	for i := range ms {
		ms[i] = bus.NewMessage("core.batch", "test.batch", fmt.Appendf(nil, "%d", i))
	}
	require.NoError(t, pub.PublishBatch(t.Context(), ms...))
	// No waiting: when PublishBatch returns, the server has counted them.
	assert.EqualValues(t, n, coreTestConnz(t, srv, "core-batch-publisher").InMsgs)
	coreTestRecv(t, all, "every batched message at the subscriber")
	for _, m := range ms {
		assert.True(t, seen[m.Event.ID], "message %s", m.Event.ID)
	}
}

func TestCoreOversizedPayload(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir(), Configure: func(o *server.Options) { o.MaxPayload = 4096 }})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	for name, js := range map[string]*natsbus.JetStreamConfig{
		"Core":      nil,
		"JetStream": {Stream: natsbus.StreamConfig{Name: "BIG", Subjects: []string{"core.big.>"}}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet})
			require.NoError(t, err)
			assert.Equal(t, 4096, c.MaxPayload())
			b := bus.New(c, bus.Logger(quiet))
			t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })

			require.NoError(t, b.Publish(t.Context(), bus.NewMessage("core.big.ok", "test.big", make([]byte, 2048))))
			for what, err := range map[string]error{
				"Publish":      b.Publish(t.Context(), bus.NewMessage("core.big.no", "test.big", make([]byte, 5000))),
				"PublishBatch": b.PublishBatch(t.Context(), bus.NewMessage("core.big.no", "test.big", make([]byte, 5000))),
			} {
				require.Error(t, err, what)
				assert.ErrorIs(t, err, bus.ErrPayloadTooLarge, what)
				assert.Contains(t, err.Error(), "4096", "%s: the error names the limit", what)
			}
		})
	}
}
