package natsbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fidelityNoop is a handler that accepts everything.
var fidelityNoop = bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })

// A subject, pattern or group longer than the server's control line lets
// nats.go's Publish return nil and then the server closes the connection.
// The bus and the driver refuse them with ErrInvalidSubject instead, and
// the connection survives.
func TestCoreLongSubjectKeepsConnection(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{NoJetStream: true})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	b := coreTestBus(t, natsbus.Config{URL: srv.URL()})
	nc := coreTestNATS(t, b)
	long := "a." + strings.Repeat("x", 5000)

	assert.ErrorIs(t, b.Publish(t.Context(), bus.NewMessage(long, "t", nil)), bus.ErrInvalidSubject, "Publish")
	_, err = b.Request(t.Context(), bus.NewMessage(long, "t", nil))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Request")
	_, err = b.Subscribe(t.Context(), long+".>", fidelityNoop)
	assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Subscribe")
	_, err = b.Subscribe(t.Context(), "ok", fidelityNoop, bus.Group(strings.Repeat("q", 5000)))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Group")

	// The driver refuses them too, for callers that skip package bus.
	c := openConn(t, srv, nil)
	assert.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: long}), driver.ErrInvalidSubject, "driver Publish")
	_, err = c.Request(t.Context(), &driver.Message{Subject: long})
	assert.ErrorIs(t, err, driver.ErrInvalidSubject, "driver Request")
	h := func(*driver.Message) {}
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: long}, h)
	assert.ErrorIs(t, err, driver.ErrInvalidSubject, "driver Subscribe")
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "ok", Group: strings.Repeat("q", 5000)}, h)
	assert.ErrorIs(t, err, driver.ErrInvalidSubject, "driver Subscribe with a long group")

	require.NoError(t, nc.Flush(), "the connection survives")
	assert.False(t, nc.IsClosed())
	rec := make(chan *bus.Message, 1)
	_, err = b.Subscribe(t.Context(), "still.works", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		rec <- m
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("still.works", "t", []byte("x"))))
	assert.Equal(t, "x", string(coreTestRecv(t, rec, "a message after the refusals").Event.Data))
}

// The server sends its no-responders notice to the first plain
// subscription of the requesting connection that matches the reply
// subject. A wildcard subscription of the same bus ("_INBOX.>", or
// "*.*.*" for nats.go's three-token inboxes) must not take it, or the
// request waits for its deadline instead of failing at once.
func TestCoreNoRespondersWithInboxWildcardOnSameConnection(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{NoJetStream: true})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	for _, pattern := range []string{"_INBOX.>", "_INBOX.*.*", "*.*.*"} {
		t.Run(pattern, func(t *testing.T) {
			b := coreTestBus(t, natsbus.Config{URL: srv.URL()})
			responder := coreTestBus(t, natsbus.Config{URL: srv.URL()})
			seen := make(chan *bus.Message, 4)
			_, err := b.Subscribe(t.Context(), pattern, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
				seen <- m
				return nil
			}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			_, err = b.Request(ctx, bus.NewMessage("nobody.here", "t", nil))
			require.ErrorIs(t, err, bus.ErrNoResponders)
			require.NoError(t, ctx.Err(), "no-responders came at once")

			_, err = responder.Subscribe(t.Context(), "svc", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
				return m.Respond(ctx, bus.NewMessage("", "reply", []byte("re")))
			}))
			require.NoError(t, err)
			reply, err := b.Request(t.Context(), bus.NewMessage("svc", "t", nil))
			require.NoError(t, err)
			assert.Equal(t, "re", string(reply.Event.Data))
			assert.Equal(t, "re", string(coreTestRecv(t, seen, "the reply, seen by "+pattern).Event.Data),
				"the wildcard subscription still sees replies, as on mem")
		})
	}
}

// nats.go refuses a queue group name with whitespace (nats.ErrBadQueueName)
// and the server takes control characters; the driver refuses both as
// ErrInvalidSubject, as mem does.
func TestCoreInvalidGroupIsInvalidSubject(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{NoJetStream: true})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	c := openConn(t, srv, nil)
	for _, g := range []string{"a b", "a\tb", "a\x01b"} {
		_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "x", Group: g}, func(*driver.Message) {})
		assert.ErrorIs(t, err, driver.ErrInvalidSubject, "group %q", g)
	}
}
