package difftest

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
)

// Backend opens the driver connections of one run.
type Backend struct {
	// Name names the backend in reports.
	Name string
	// Open returns a new connection. Every Open with the same run name
	// reaches the same broker, so two buses of one run talk to each other.
	Open func(ctx context.Context, run string) (driver.Conn, error)
	// Flush returns once the broker has routed every message published on
	// c so far. Nil when Publish routes before it returns.
	Flush func(c driver.Conn) error
}

// Mem is the mem:// backend with the given payload limit.
func Mem(maxPayload int) Backend {
	return Backend{
		Name: "mem",
		Open: func(_ context.Context, run string) (driver.Conn, error) {
			return membus.Open(membus.Options{Name: run, MaxPayload: maxPayload})
		},
	}
}

// NATS is core NATS (nats://) on the server at url. Runs must not overlap
// on one server: wildcard subscriptions would see each other's messages.
func NATS(url string) Backend {
	return Backend{
		Name: "nats",
		Open: func(ctx context.Context, _ string) (driver.Conn, error) {
			return natsbus.Open(ctx, natsbus.Config{URL: url, Logger: quiet})
		},
		Flush: func(c driver.Conn) error {
			var nc *nats.Conn
			if a, ok := c.(driver.Aser); !ok || !a.As(&nc) {
				return fmt.Errorf("difftest: %T has no *nats.Conn", c)
			}
			return nc.Flush()
		},
	}
}

// quiet is the logger of every bus and connection in a run: the runs
// provoke failures on purpose.
var quiet = slog.New(slog.DiscardHandler)

// countingConn counts the messages published through a driver connection
// (the bus's own dead letters and answers included), markers left out, so
// that a run can tell when its handlers have stopped publishing: started
// counts calls to Publish, done those that returned (the message is then
// in the connection's buffer, which a flush sends).
type countingConn struct {
	driver.Conn
	started, done atomic.Int64
}

var (
	_ driver.Requester = (*countingConn)(nil)
	_ driver.Aser      = (*countingConn)(nil)
)

func (c *countingConn) Publish(ctx context.Context, m *driver.Message) error {
	if t := m.Header["ce-type"]; len(t) == 1 && t[0] == markerType {
		return c.Conn.Publish(ctx, m)
	}
	c.started.Add(1)
	defer c.done.Add(1)
	return c.Conn.Publish(ctx, m)
}

func (c *countingConn) Request(ctx context.Context, m *driver.Message) (*driver.Message, error) {
	r, ok := c.Conn.(driver.Requester)
	if !ok {
		return nil, fmt.Errorf("%w: request/reply", driver.ErrNotSupported)
	}
	return r.Request(ctx, m)
}

func (c *countingConn) As(target any) bool {
	a, ok := c.Conn.(driver.Aser)
	return ok && a.As(target)
}
