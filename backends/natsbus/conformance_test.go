package natsbus_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startEmbedded starts an embedded server (JetStream on a temporary store)
// for the test, stopped in t.Cleanup.
func startEmbedded(t testing.TB) *embedded.Server {
	t.Helper()
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// quiet discards the bus's failure logs (the suite provokes failures).
var quiet = slog.New(slog.DiscardHandler)

// openConn opens a natsbus connection with cfg on srv, closed in t.Cleanup.
func openConn(t testing.TB, srv *embedded.Server, js *natsbus.JetStreamConfig) *natsbus.Conn {
	t.Helper()
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: failureLog(t)})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.Close(ctx))
	})
	return c
}

func opener(srv *embedded.Server, js *natsbus.JetStreamConfig, opts ...bus.Option) bustest.OpenFunc {
	opts = append([]bus.Option{bus.Logger(quiet)}, opts...)
	return func(t *testing.T) *bus.Bus {
		t.Helper()
		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet})
		require.NoError(t, err)
		b := bus.New(c, opts...)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, b.Close(ctx), "close bus")
		})
		return b
	}
}

// coreFeatures is what core NATS offers: everything but redelivery.
func coreFeatures(srv *embedded.Server) bustest.Features {
	return bustest.Features{
		RequestReply:        true,
		Groups:              true,
		Wildcards:           true,
		MultiValueHeaders:   true,
		MaxPayload:          1 << 20,
		Ordering:            true,
		DrainDeliversQueued: true,
		RawConn:             func(t *testing.T) driver.Conn { return openConn(t, srv, nil) },
	}
}

// suiteStream captures the suite's event subjects (not its requests).
func suiteStream() *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{
		Stream:       natsbus.StreamConfig{Name: "BUSTEST", Subjects: []string{"bustest.>"}},
		CoreSubjects: []string{"bustestrpc.>"},
		AckWait:      5 * time.Second,
	}
}

func jsFeatures(srv *embedded.Server) bustest.Features {
	f := coreFeatures(srv)
	f.Redelivery = true
	f.OwnHeaders = []string{"Nats-Msg-Id", "Nats-Expected-Stream"}
	f.RawConn = func(t *testing.T) driver.Conn { return openConn(t, srv, suiteStream()) }
	return f
}

func TestConformanceCore(t *testing.T) {
	srv := startEmbedded(t)
	bustest.Run(t, opener(srv, nil), coreFeatures(srv))
}

func TestConformanceCoreStructured(t *testing.T) {
	srv := startEmbedded(t)
	bustest.Run(t, opener(srv, nil, bus.Structured()), coreFeatures(srv))
}

func TestConformanceJetStream(t *testing.T) {
	srv := startEmbedded(t)
	bustest.Run(t, opener(srv, suiteStream()), jsFeatures(srv))
}

func TestConformanceJetStreamStructured(t *testing.T) {
	srv := startEmbedded(t)
	bustest.Run(t, opener(srv, suiteStream(), bus.Structured()), jsFeatures(srv))
}
