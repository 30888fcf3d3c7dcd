package bus_test

import (
	"context"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sinkConn is a backend whose Publish reads the message and drops it; with
// copies it declares that it keeps nothing (driver.PublishCopier).
type sinkConn struct {
	driver.Conn
	copies bool
	seen   []*driver.Message // every message Publish was given
	ids    []string          // the ce-id header of each, read during Publish
}

func (c *sinkConn) Publish(_ context.Context, m *driver.Message) error {
	c.seen = append(c.seen, m)
	c.ids = append(c.ids, m.Header["ce-id"][0])
	return nil
}

func (c *sinkConn) PublishCopies() bool { return c.copies }

func (c *sinkConn) Close(context.Context) error { return nil }

// On a backend that copies, the bus reuses the driver message, header map
// and header values from publish to publish, and a publish allocates
// nothing; on one that may keep them, every message gets its own, intact
// after later publishes.
func TestPublishReusesStorageOnlyWhenBackendCopies(t *testing.T) {
	ctx := t.Context()
	for _, copies := range []bool{false, true} {
		c := &sinkConn{copies: copies}
		b := bus.New(c)
		var ids []string
		for _, id := range []string{"a", "b", "c"} {
			m := bus.NewMessage("orders.created", "com.example.created.v1", []byte("x"))
			m.Event.ID = id
			m.Header = bus.Header{"X-Order": {id}}
			require.NoError(t, b.Publish(ctx, m))
			ids = append(ids, id)
		}
		assert.Equal(t, ids, c.ids, "copies=%v: what Publish saw", copies)
		if !copies {
			for i, dm := range c.seen {
				assert.Equal(t, []string{ids[i]}, dm.Header["ce-id"], "kept message %d", i)
				assert.Equal(t, []string{ids[i]}, dm.Header["X-Order"], "kept message %d", i)
			}
			assert.NotSame(t, c.seen[0], c.seen[1])
			continue
		}
		m := bus.NewMessage("orders.created", "com.example.created.v1", []byte("x"))
		m.Header = bus.Header{"X-Order": {"1"}}
		require.NoError(t, b.Publish(ctx, m)) // fills ID and Time once
		allocs := testing.AllocsPerRun(100, func() {
			c.seen, c.ids = c.seen[:0], c.ids[:0]
			if err := b.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		})
		if !raceEnabled { // the race detector drops pooled items at random
			assert.Zero(t, allocs, "allocations per publish on a copying backend")
		}
	}
}

// requestSink is a sinkConn that answers every request with an empty
// reply, keeping the request it was given.
type requestSink struct{ sinkConn }

func (c *requestSink) Request(ctx context.Context, m *driver.Message) (*driver.Message, error) {
	if err := c.Publish(ctx, m); err != nil {
		return nil, err
	}
	return &driver.Message{Subject: "_INBOX.x", Header: map[string][]string{
		"ce-specversion": {"1.0"}, "ce-id": {"r"}, "ce-source": {"s"}, "ce-type": {"t"},
	}}, nil
}

// Requests follow the same rule: a copying backend gets the pooled
// storage, reused from request to request; one that may keep it gets a
// message of its own per request.
func TestRequestReusesStorageOnlyWhenBackendCopies(t *testing.T) {
	ctx := t.Context()
	for _, copies := range []bool{false, true} {
		c := &requestSink{sinkConn{copies: copies}}
		b := bus.New(c)
		for _, id := range []string{"a", "b"} {
			m := bus.NewMessage("orders.get", "com.example.get.v1", []byte("x"))
			m.Event.ID = id
			reply, err := b.Request(ctx, m)
			require.NoError(t, err)
			assert.Equal(t, "r", reply.Event.ID)
		}
		require.Len(t, c.seen, 2)
		assert.Equal(t, []string{"a", "b"}, c.ids, "copies=%v: what Request saw", copies)
		if copies {
			if !raceEnabled { // the race detector drops pooled items at random
				assert.Same(t, c.seen[0], c.seen[1], "the pooled driver message is reused")
			}
			assert.Empty(t, c.seen[0].Header, "the pooled header is cleared after the request")
			continue
		}
		assert.NotSame(t, c.seen[0], c.seen[1])
		assert.Equal(t, []string{"a"}, c.seen[0].Header["ce-id"], "the first request's message is intact")
	}
}
