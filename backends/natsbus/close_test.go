package natsbus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Item 6 of issue 8: shutdown bounded by its context.

// TestCloseBoundedByContextWithServerUnreachable: with the server gone,
// Close returns by its context's deadline (not after a fixed API timeout
// or drain_timeout), with an error wrapping context.DeadlineExceeded.
func TestCloseBoundedByContextWithServerUnreachable(t *testing.T) {
	for name, js := range map[string]*natsbus.JetStreamConfig{"core": nil, "jetstream": jsTestStream("UNR", "unr.>")} {
		t.Run(name, func(t *testing.T) {
			srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
			require.NoError(t, err)
			defer srv.Stop()
			c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet,
				MaxReconnects: -1, ReconnectWait: 50 * time.Millisecond})
			require.NoError(t, err)
			b := bus.New(c, bus.Logger(quiet))
			started := make(chan struct{}, 1)
			block := bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			})
			noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
			_, err = b.Subscribe(t.Context(), "unr.busy", block, bus.Group("g"))
			require.NoError(t, err)
			_, err = b.Subscribe(t.Context(), "unr.plain", noop)
			require.NoError(t, err)
			_, err = b.Subscribe(t.Context(), "unr.other", noop, bus.Group("h"), bus.Concurrency(2))
			require.NoError(t, err)
			require.NoError(t, b.Publish(t.Context(), jsTestEvent("unr.busy", "x")))
			jsTestRecv(t, started, "the handler to start")
			srv.Stop()

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			closed := make(chan error, 1)
			go func() { closed <- b.Close(ctx) }()
			select {
			case err := <-closed:
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(2 * time.Second):
				t.Fatal("Close with a 300ms deadline still running after 2s")
			}
		})
	}
}

// TestConnCloseLetsRunningHandlersPublish: on the driver connection
// itself, handlers still running while Close drains can publish (a
// dead-letter copy, a follow-up event), as on mem; new subscriptions are
// refused from the moment Close begins.
func TestConnCloseLetsRunningHandlersPublish(t *testing.T) {
	for name, js := range map[string]*natsbus.JetStreamConfig{"core": nil, "jetstream": jsTestStream("CCP", "ccp.>")} {
		t.Run(name, func(t *testing.T) {
			srv := startEmbedded(t)
			c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: failureLog(t)})
			require.NoError(t, err)
			started, release, published := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "ccp.in", Group: "g"}, func(m *driver.Message) {
				close(started)
				<-release
				published <- c.Publish(context.Background(), &driver.Message{Subject: "ccp.out", Data: []byte("follow-up")})
				if m.Acker != nil {
					_ = m.Acker.Ack(context.Background())
				}
			})
			require.NoError(t, err)
			require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "ccp.in", Data: []byte("x")}))
			jsTestRecv(t, started, "the handler to start")

			closed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), jsTestTimeout)
				defer cancel()
				closed <- c.Close(ctx)
			}()
			jsTestWait(t, "Close to refuse new subscriptions", func() bool {
				s, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "ccp.late"}, func(*driver.Message) {})
				if err == nil {
					_ = s.Drain(t.Context())
				}
				return errors.Is(err, bus.ErrClosed)
			})
			close(release)
			assert.NoError(t, jsTestRecv(t, published, "the handler's publish"), "publish from a handler during Close")
			assert.NoError(t, jsTestRecv(t, closed, "Close to return"))
			assert.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "ccp.out"}), bus.ErrClosed, "publish after Close")
		})
	}
}

// TestCloseLetsRunningHandlersPublish: the same through a Bus.
func TestCloseLetsRunningHandlersPublish(t *testing.T) {
	for name, js := range map[string]*natsbus.JetStreamConfig{"core": nil, "jetstream": jsTestStream("CLP", "clp.>")} {
		t.Run(name, func(t *testing.T) {
			e := jsTestStart(t)
			b := e.open(t, js)
			started, release, published := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			_, err := b.Subscribe(t.Context(), "clp.in", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
				close(started)
				<-release
				published <- b.Publish(ctx, jsTestEvent("clp.out", "follow-up"))
				return nil
			}), bus.Group("g"))
			require.NoError(t, err)
			require.NoError(t, b.Publish(t.Context(), jsTestEvent("clp.in", "x")))
			jsTestRecv(t, started, "the handler to start")

			closed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), jsTestTimeout)
				defer cancel()
				closed <- b.Close(ctx)
			}()
			noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
			jsTestWait(t, "Close to refuse new subscriptions", func() bool {
				s, err := b.Subscribe(t.Context(), "clp.late", noop)
				if err == nil {
					_ = s.Drain(t.Context())
				}
				return errors.Is(err, bus.ErrClosed)
			})
			close(release)
			assert.NoError(t, jsTestRecv(t, published, "the handler's publish"), "publish from a handler during Close")
			assert.NoError(t, jsTestRecv(t, closed, "Close to return"))
		})
	}
}
