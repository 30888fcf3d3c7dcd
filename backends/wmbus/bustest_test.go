package wmbus_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/busway/busway/bus/driver"
)

// goChannels hands each conformance subtest its own gochannel, shared by
// every Bus and raw Conn the subtest opens (the suite publishes on one Bus
// and subscribes on another).
type goChannels struct {
	mu  sync.Mutex
	gcs map[string]*gochannel.GoChannel
}

// get returns t's gochannel, made on first use and closed when t ends,
// after every Conn on it (cleanups run last-in first-out).
func (g *goChannels) get(t *testing.T) *gochannel.GoChannel {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gc := g.gcs[t.Name()]; gc != nil {
		return gc
	}
	gc := gochannel.NewGoChannel(gochannel.Config{}, nil)
	g.gcs[t.Name()] = gc
	t.Cleanup(func() { assert.NoError(t, gc.Close()) })
	return gc
}

// conn opens a Conn on t's gochannel, closed when t ends.
func (g *goChannels) conn(t *testing.T) driver.Conn {
	c, err := wmbus.NewConn(g.get(t), g.get(t), wmbus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	return c
}

// TestConformance runs Busway's conformance suite on a bus over Watermill's
// gochannel. The features are gochannel's as seen through NewConn.
func TestConformance(t *testing.T) {
	g := &goChannels{gcs: map[string]*gochannel.GoChannel{}}
	bustest.Run(t, func(t *testing.T) *bus.Bus {
		b := bus.New(g.conn(t), bus.Logger(slog.New(slog.DiscardHandler))) // the suite provokes failures
		t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
		return b
	}, bustest.Features{
		// gochannel redelivers a nacked message at once, and the Conn
		// counts deliveries per message UUID into Message.Attempt (see
		// Options.AttemptMemory), so MaxAttempts and Backoff see the
		// attempts go up as on mem.
		Redelivery: true,
		// Watermill has no request/reply.
		RequestReply: false,
		// gochannel has no consumer groups: every subscriber gets every
		// message, and NewConn without Options.GroupSubscriber refuses a
		// Group with ErrNotSupported.
		Groups: false,
		// Watermill topics match exactly: a "*" or ">" token fails with
		// ErrNotSupported.
		Wildcards: false,
		// Watermill metadata holds one value per key: Publish fails with
		// ErrInvalidHeader for a header with several values.
		MultiValueHeaders: false,
		// gochannel has no size limit.
		MaxPayload: 0,
		// gochannel sends every message from a goroutine of its own.
		Ordering: false,
		// gochannel discards what it queued for a subscriber that closes.
		DrainDeliversQueued: false,
		RawConn:             g.conn,
		// No AckWaitBus: gochannel has no ack deadline. No
		// DeleteSubscription: gochannel cannot remove one subscription
		// (closing it ends them all; see
		// TestWatermillClosingItsChannelEndsTheSubscription).
	})
}
