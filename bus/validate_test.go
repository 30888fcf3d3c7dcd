package bus_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// anyConn is a driver that takes any message, so that a test sees what the
// bus itself refuses.
type anyConn struct {
	mu   sync.Mutex
	sent []*driver.Message
}

func (c *anyConn) Publish(_ context.Context, m *driver.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m)
	return nil
}

func (c *anyConn) Request(_ context.Context, m *driver.Message) (*driver.Message, error) {
	return nil, c.Publish(context.Background(), m)
}

func (c *anyConn) Subscribe(context.Context, driver.SubscribeOptions, driver.Handler) (driver.Subscription, error) {
	return nil, driver.ErrNotSupported
}

func (c *anyConn) Close(context.Context) error { return nil }

// reservedNames are header names the NATS server or nats.go interpret:
// the status line a request reads as "no responders", and JetStream's
// per-message controls (rollup, TTL, batches, counters, dedup,
// expectations).
var reservedNames = []string{
	"Status", "status", "STATUS", "Description", "description",
	"Nats-Msg-Id", "Nats-Expected-Stream", "Nats-Expected-Last-Sequence", "Nats-Rollup",
	"Nats-TTL", "Nats-Batch-Id", "Nats-Batch-Commit", "Nats-Incr", "Nats-Schedule",
	"nats-rollup", "NATS-TTL", "Nats-Anything-New",
}

// Publish, PublishBatch and Request refuse reserved header names with
// ErrInvalidHeader on every backend, before the backend sees the message.
func TestPublishRefusesReservedHeaders(t *testing.T) {
	c := &anyConn{}
	b := bus.New(c)
	for _, name := range reservedNames {
		m := bus.NewMessage("orders.created", "t", []byte("x"))
		m.Header.Set(name, "v")
		err := b.Publish(t.Context(), m)
		require.ErrorIs(t, err, bus.ErrInvalidHeader, "Publish with %q", name)
		assert.Contains(t, err.Error(), name, "the error names the header")
		_, err = b.Request(t.Context(), m)
		assert.ErrorIs(t, err, bus.ErrInvalidHeader, "Request with %q", name)
		ok := bus.NewMessage("orders.created", "t", nil)
		assert.ErrorIs(t, b.PublishBatch(t.Context(), ok, m), bus.ErrInvalidHeader, "PublishBatch with %q", name)
	}
	assert.Empty(t, c.sent, "nothing reached the backend")

	for _, name := range []string{"X-Nats-Trace", "Natsy", "Nats", "Statuses", "Status-Code", "X-Description", "Traceparent"} {
		m := bus.NewMessage("orders.created", "t", []byte("x"))
		m.Header.Set(name, "v")
		assert.NoError(t, b.Publish(t.Context(), m), "%q is not reserved", name)
	}
}

// Header names break NATS rules the same way on every backend: the bus
// checks them (nats.go's rule: printable ASCII without separators), so a
// backend that would take anything (Watermill) refuses them too.
func TestPublishRefusesInvalidHeaderNames(t *testing.T) {
	c := &anyConn{}
	b := bus.New(c)
	for _, name := range []string{"", "Bad Name", "a:b", "a\tb", "a(b)", "ünï", "a\x00"} {
		m := bus.NewMessage("orders.created", "t", nil)
		m.Header = bus.Header{name: {"v"}}
		assert.ErrorIs(t, b.Publish(t.Context(), m), bus.ErrInvalidHeader, "%q", name)
	}
	assert.Empty(t, c.sent)
	m := bus.NewMessage("orders.created", "t", nil)
	m.Header = bus.Header{"X_Y.Z!#$%&'*+^`|~": {"v"}}
	assert.NoError(t, b.Publish(t.Context(), m))
}

// Group names follow one rule on every backend (subject.ValidateGroup):
// the bus refuses a bad one before the backend sees it.
func TestSubscribeRefusesInvalidGroup(t *testing.T) {
	b := bus.New(&anyConn{})
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	for _, g := range []string{"a b", "a\x01b", strings.Repeat("g", 256)} {
		_, err := b.Subscribe(t.Context(), "orders.*", noop, bus.Group(g))
		assert.ErrorIs(t, err, bus.ErrInvalidSubject, "group %q", g)
	}
}

// A subject over subject.MaxSubjectLen never reaches a backend: on NATS
// it would get the connection closed by the server.
func TestPublishRefusesLongSubject(t *testing.T) {
	c := &anyConn{}
	b := bus.New(c)
	long := "a." + strings.Repeat("x", 5000)
	assert.ErrorIs(t, b.Publish(t.Context(), bus.NewMessage(long, "t", nil)), bus.ErrInvalidSubject)
	_, err := b.Request(t.Context(), bus.NewMessage(long, "t", nil))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject)
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	_, err = b.Subscribe(t.Context(), long+".>", noop)
	assert.ErrorIs(t, err, bus.ErrInvalidSubject)
	_, err = b.Subscribe(t.Context(), "a.b", noop, bus.DeadLetter(long))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject)
	assert.Empty(t, c.sent)
}
