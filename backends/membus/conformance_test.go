package membus

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformance runs Busway's conformance suite on mem. Each subtest gets
// its own named broker (the subtest's name), shared by every Bus and raw
// Conn the subtest opens.
func TestConformance(t *testing.T) {
	bustest.Run(t, conformanceOpener(), memFeatures)
}

// TestConformanceStructured runs the suite again with every Bus publishing
// structured-mode CloudEvents.
func TestConformanceStructured(t *testing.T) {
	bustest.Run(t, conformanceOpener(bus.Structured()), memFeatures)
}

// memFeatures is what mem offers.
var memFeatures = bustest.Features{
	Redelivery:          true,
	RequestReply:        true,
	Groups:              true,
	Wildcards:           true,
	MultiValueHeaders:   true,
	MaxPayload:          DefaultMaxPayload,
	Ordering:            true,
	DrainDeliversQueued: true,
	RawConn:             func(t *testing.T) driver.Conn { return openConformanceConn(t) },
	// No AckWaitBus: mem has no ack deadline (InProgress does nothing).
	// No DeleteSubscription: nothing outside the process can remove a
	// subscription's backend side.
}

// conformanceOpener returns an OpenFunc giving Buses with opts on the
// subtest's broker. Dead-letter and failure logs are discarded.
func conformanceOpener(opts ...bus.Option) bustest.OpenFunc {
	opts = append([]bus.Option{bus.Logger(slog.New(slog.DiscardHandler))}, opts...)
	return func(t *testing.T) *bus.Bus { return openConformanceBus(t, opts...) }
}

func openConformanceBus(t *testing.T, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b := bus.New(openConformanceConn(t), opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, b.Close(ctx), "close bus")
	})
	return b
}

// openConformanceConn opens a Conn on the subtest's broker. The Conn is
// closed at cleanup: a Bus closes it first (a second Close returns the
// first's result), a raw Conn only there.
func openConformanceConn(t *testing.T) *Conn {
	t.Helper()
	c, err := Open(Options{Name: "bustest/" + t.Name()})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.Close(ctx), "close conn")
	})
	return c
}
