package natsbus_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsTestIDs collects the events a handler received, by id.
type jsTestIDs struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *jsTestIDs) handler() bus.Handler {
	return bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.seen == nil {
			r.seen = map[string]int{}
		}
		r.seen[m.Event.ID]++
		return nil
	})
}

// missing returns the ids of ms not received yet.
func (r *jsTestIDs) missing(ms []*bus.Message) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range ms {
		if r.seen[m.Event.ID] == 0 {
			out = append(out, m.Event.ID)
		}
	}
	return out
}

// waitPulling waits until n pull requests wait on the consumer, so that
// the server spreads the next messages over the pull loops.
func (e *jsTestEnv) waitPulling(t *testing.T, stream, name string, n int) {
	t.Helper()
	jsTestWait(t, strconv.Itoa(n)+" pull requests", func() bool {
		return e.consumerInfo(t, stream, name).NumWaiting >= n
	})
}

func TestJetStreamInFlightAtCloseRedeliveredAfterRestart(t *testing.T) {
	t.Run("hard stop", func(t *testing.T) {
		e := jsTestStart(t)
		cfg := jsTestStream("INFL", "infl.>")
		cfg.AckWait = time.Second
		b1 := e.open(t, cfg)
		started, returned := make(chan string, 4), make(chan error, 4)
		_, err := b1.Subscribe(t.Context(), "infl.>", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			started <- m.Event.ID
			<-ctx.Done()
			returned <- ctx.Err()
			return ctx.Err()
		}), bus.Group("workers"))
		require.NoError(t, err)
		m := jsTestEvent("infl.job", "work")
		require.NoError(t, b1.Publish(t.Context(), m))
		assert.Equal(t, m.Event.ID, jsTestRecv(t, started, "the handler to start"))

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, b1.Close(ctx), context.DeadlineExceeded, "close with a handler stuck")
		select {
		case <-returned:
		default:
			t.Error("Close returned while a handler was still running")
		}

		got := make(chan *bus.Message, 4)
		b2 := e.open(t, cfg)
		_, err = b2.Subscribe(t.Context(), "infl.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
			got <- m
			return nil
		}), bus.Group("workers"))
		require.NoError(t, err)
		r := jsTestRecv(t, got, "the redelivery to the new bus")
		assert.Equal(t, m.Event.ID, r.Event.ID)
		assert.GreaterOrEqual(t, r.Attempt(), 2)
		e.settled(t, "INFL", natsbus.ConsumerName("workers"), 1)
	})

	t.Run("crash", func(t *testing.T) {
		e := jsTestStart(t)
		cfg := jsTestStream("CRASH", "crash.>")
		cfg.AckWait = time.Second
		c1, err := natsbus.Open(t.Context(), natsbus.Config{URL: e.srv.URL(), JetStream: cfg, Logger: quiet})
		require.NoError(t, err)
		started := make(chan int, 4)
		// The handlers' context, owned by the caller of the driver (the
		// bus, normally); it ends when a drain's deadline passes.
		handlerCtx, hardStop := context.WithCancel(context.Background())
		defer hardStop()
		_, err = c1.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "crash.>", Group: "workers"},
			func(m *driver.Message) {
				started <- m.Attempt
				<-handlerCtx.Done() // no ack, no nak: the process "dies" with the message
			})
		require.NoError(t, err)
		b := e.open(t, cfg)
		m := jsTestEvent("crash.job", "work")
		require.NoError(t, b.Publish(t.Context(), m))
		assert.Equal(t, 1, jsTestRecv(t, started, "the first delivery"))
		dead, cancel := context.WithCancel(context.Background())
		cancel()
		context.AfterFunc(dead, hardStop) // as the bus does past a drain's deadline
		_ = c1.Close(dead)                // fails: nothing drained or flushed

		got := make(chan *bus.Message, 4)
		_, err = b.Subscribe(t.Context(), "crash.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
			got <- m
			return nil
		}), bus.Group("workers"))
		require.NoError(t, err)
		r := jsTestRecv(t, got, "the redelivery after AckWait")
		assert.Equal(t, m.Event.ID, r.Event.ID)
		assert.Equal(t, 2, r.Attempt())
		e.settled(t, "CRASH", natsbus.ConsumerName("workers"), 1)
	})
}

func TestJetStreamFileStoreRestartLosesNoAckedPublish(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("DUR", "dur.>")
	cfg.Stream.Storage, cfg.Start = "file", natsbus.StartAll
	b := e.openConfig(t, natsbus.Config{URL: e.srv.URL(), JetStream: cfg,
		ReconnectWait: 50 * time.Millisecond, MaxReconnects: -1})
	acked, failed := jsTestPublishThroughRestart(t, e, b)
	t.Logf("%d publishes acknowledged, %d failed around the restart", len(acked), failed)
	var nc *nats.Conn
	require.True(t, b.As(&nc))
	assert.Positive(t, nc.Stats().Reconnects, "the bus's connection never reconnected")

	var ids jsTestIDs
	_, err := b.Subscribe(t.Context(), "dur.>", ids.handler(), bus.Group("audit"))
	require.NoError(t, err)
	jsTestWait(t, "every acknowledged event", func() bool { return len(ids.missing(acked)) == 0 })
	assert.Empty(t, ids.missing(acked))

	stored := e.streamInfo(t, "DUR").State.Msgs
	require.NoError(t, b.PublishBatch(t.Context(), acked...), "republish")
	assert.Equal(t, stored, e.streamInfo(t, "DUR").State.Msgs, "a republished event was stored twice")
}

// jsTestPublishThroughRestart publishes from four goroutines; after 50
// acknowledged publishes it restarts the server, and stops when 20 more
// were acknowledged after the restart. It returns the acknowledged messages
// and how many publishes failed.
func jsTestPublishThroughRestart(t *testing.T, e *jsTestEnv, b *bus.Bus) ([]*bus.Message, int) {
	t.Helper()
	var (
		mu             sync.Mutex
		acked          []*bus.Message
		failed, after  int
		restarted, end bool
	)
	done, stop := make(chan error, 1), make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m := jsTestEvent("dur.ev", strconv.Itoa(w)+"-"+strconv.Itoa(i))
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				err := b.Publish(ctx, m)
				cancel()
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case restarted:
					after++
					fallthrough
				default:
					acked = append(acked, m)
				}
				if len(acked) == 50 && err == nil {
					go func() { done <- e.srv.Restart() }()
				}
				if after >= 20 && !end {
					end = true
					close(stop)
				}
				mu.Unlock()
			}
		})
	}
	defer func() { // on failure too: the publishers stop before the test ends
		mu.Lock()
		if !end {
			end = true
			close(stop)
		}
		mu.Unlock()
		wg.Wait()
	}()
	require.NoError(t, jsTestRecv(t, done, "the restart"))
	mu.Lock()
	restarted = true
	mu.Unlock()
	jsTestRecv(t, stop, "publishes after the restart")
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return acked, failed
}

// jsTestTwoInFlight subscribes a group with two pull loops whose handlers
// run h, publishes "a" and "b" (one to each loop) and waits until both
// handlers started.
func jsTestTwoInFlight(t *testing.T, stream string, h func(ctx context.Context, m *bus.Message) error) *bus.Subscription {
	t.Helper()
	e := jsTestStart(t)
	subject := strings.ToLower(stream) + ".>"
	b := e.open(t, jsTestStream(stream, subject))
	started := make(chan string, 2)
	sub, err := b.Subscribe(t.Context(), subject, bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		started <- string(m.Event.Data)
		return h(ctx, m)
	}), bus.Group("g"), bus.Concurrency(2))
	require.NoError(t, err)
	e.waitPulling(t, stream, natsbus.ConsumerName("g"), 2)
	x := strings.ToLower(stream) + ".x"
	require.NoError(t, b.PublishBatch(t.Context(), jsTestEvent(x, "a"), jsTestEvent(x, "b")))
	jsTestRecv(t, started, "a handler")
	jsTestRecv(t, started, "the other handler")
	return sub
}

// TestJetStreamDrainWaitsForEveryHandler: with two pull loops, Drain
// returns only when both handlers returned, whichever finishes first.
func TestJetStreamDrainWaitsForEveryHandler(t *testing.T) {
	for _, first := range []string{"a", "b"} {
		t.Run("first done "+first, func(t *testing.T) {
			gates := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
			sub := jsTestTwoInFlight(t, "DRAIN", func(ctx context.Context, m *bus.Message) error {
				select {
				case <-gates[string(m.Event.Data)]:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			drained := make(chan error, 1)
			go func() { drained <- sub.Drain(context.Background()) }()
			close(gates[first])
			select {
			case err := <-drained:
				t.Fatalf("Drain returned (%v) while a handler was still running", err)
			case <-time.After(300 * time.Millisecond): // room for a premature return
			}
			for k, g := range gates {
				if k != first {
					close(g)
				}
			}
			require.NoError(t, jsTestRecv(t, drained, "Drain"))
		})
	}
}

// TestJetStreamHardStopWaitsForEveryHandler: when Drain's context ends,
// handlers see theirs cancelled, and Drain returns once they returned.
func TestJetStreamHardStopWaitsForEveryHandler(t *testing.T) {
	var returned atomic.Int32
	sub := jsTestTwoInFlight(t, "HARD", func(ctx context.Context, _ *bus.Message) error {
		<-ctx.Done()
		<-time.After(100 * time.Millisecond) // slow clean-up after the cancellation
		returned.Add(1)
		return ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, sub.Drain(ctx), context.DeadlineExceeded)
	assert.EqualValues(t, 2, returned.Load(), "handlers returned when Drain did")
}

func TestJetStreamConcurrencyRunsHandlersInParallel(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("CONC", "conc.>"))
	const n, total = 4, 12
	var cur, peak atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	var ids jsTestIDs
	record := ids.handler()
	_, err := b.Subscribe(t.Context(), "conc.>", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		c := cur.Add(1)
		defer cur.Add(-1)
		for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
		}
		if c == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all: // n handlers were in at once
		case <-ctx.Done():
			return ctx.Err()
		}
		return record.Handle(ctx, m)
	}), bus.Group("g"), bus.Concurrency(n))
	require.NoError(t, err)
	name := natsbus.ConsumerName("g")
	e.waitPulling(t, "CONC", name, n)
	ms := make([]*bus.Message, total)
	for i := range ms {
		ms[i] = jsTestEvent("conc.x", strconv.Itoa(i))
	}
	require.NoError(t, b.PublishBatch(t.Context(), ms...))

	jsTestRecv(t, all, strconv.Itoa(n)+" handlers at once")
	jsTestWait(t, "every message", func() bool { return len(ids.missing(ms)) == 0 })
	ci := e.settled(t, "CONC", name, total)
	assert.EqualValues(t, total, ci.Delivered.Consumer, "deliveries")
	assert.LessOrEqual(t, peak.Load(), int32(n), "handlers at once")
	ids.mu.Lock()
	defer ids.mu.Unlock()
	for id, k := range ids.seen {
		assert.Equal(t, 1, k, "event %s handled %d times", id, k)
	}
}

func TestJetStreamPublishBatchStoresEveryMessage(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, withCore(jsTestStream("BATCH", "batch.>"), "outside.>"))
	core := make(chan *nats.Msg, 1)
	_, err := e.nc.ChanSubscribe("outside.note", core)
	require.NoError(t, err)
	require.NoError(t, e.nc.Flush())
	ms := make([]*bus.Message, 0, 501)
	for i := range 500 {
		if i == 250 {
			ms = append(ms, jsTestEvent("outside.note", "core"))
		}
		ms = append(ms, jsTestEvent("batch.ev", strconv.Itoa(i)))
	}
	require.NoError(t, b.PublishBatch(t.Context(), ms...))
	assert.EqualValues(t, 500, e.streamInfo(t, "BATCH").State.Msgs, "stored when PublishBatch returned")

	got := jsTestRecv(t, core, "the message outside the stream, over core NATS")
	assert.Equal(t, ms[250].Event.ID, got.Header.Get("ce-id"))
	require.NoError(t, b.PublishBatch(t.Context(), ms[:10]...), "republish")
	assert.EqualValues(t, 500, e.streamInfo(t, "BATCH").State.Msgs, "republished events stored twice")
}
