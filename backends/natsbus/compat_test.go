package natsbus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compatEnv names the variable that points the external-server
// conformance run at a NATS server.
const compatEnv = "BUSWAY_TEST_NATS_URL"

// TestConformanceExternal runs the conformance suite against an external
// NATS server named by BUSWAY_TEST_NATS_URL (for example
// nats://127.0.0.1:4222): core NATS always, JetStream when the server has
// it, on a stream private to the run that is deleted afterwards.
// Credentials come from the NATS_* variables (natsbus.AuthFromEnv).
func TestConformanceExternal(t *testing.T) {
	url := os.Getenv(compatEnv)
	if url == "" {
		t.Skip(compatEnv + " is not set; set it (e.g. " + compatEnv + "=nats://127.0.0.1:4222) to run the conformance suite against an external NATS server")
	}
	cfg := func(js *natsbus.JetStreamConfig) natsbus.Config {
		return natsbus.Config{URL: url, Auth: natsbus.AuthFromEnv(), JetStream: js, Logger: quiet}
	}
	probe := compatOpen(t, cfg(nil))
	var nc *nats.Conn
	require.True(t, probe.As(&nc))
	t.Logf("external server %s, version %s", url, nc.ConnectedServerVersion())
	core := compatFeatures(probe, func(t *testing.T) driver.Conn { return compatOpen(t, cfg(nil)) })
	pre210 := !compatVersionAtLeast(nc.ConnectedServerVersion(), 2, 10, 0)

	t.Run("Core", func(t *testing.T) {
		bustest.Run(t, compatOpener(cfg(nil)), core)
	})
	t.Run("JetStream", func(t *testing.T) {
		js := compatStream(t, cfg)
		f := core
		f.Redelivery = true
		f.OwnHeaders = []string{"Nats-Msg-Id", "Nats-Expected-Stream"}
		f.RawConn = func(t *testing.T) driver.Conn { return compatOpen(t, cfg(js)) }
		t.Run("Suite", func(t *testing.T) {
			bustest.Run(t, compatSkipping(cfg(js), nc.ConnectedServerVersion(), pre210), f)
		})
		t.Run("TermStopsRedelivery", func(t *testing.T) { compatTermStops(t, cfg, js) })
		t.Run("LiteralWildcardLeavesNoConsumer", func(t *testing.T) { compatNoStrayConsumer(t, cfg, js) })
		t.Run("GroupPatterns", func(t *testing.T) { compatGroupPatterns(t, cfg, js, nc.ConnectedServerVersion(), pre210) })
		t.Run("ConsumerRecreated", func(t *testing.T) { compatConsumerRecreated(t, cfg, js) })
		t.Run("StatusHeaderEnds", func(t *testing.T) { compatStatusHeaderEnds(t, cfg, js) })
	})
}

// compatFeatures is what core NATS offers, with the server's own payload
// limit.
func compatFeatures(c *natsbus.Conn, raw func(t *testing.T) driver.Conn) bustest.Features {
	return bustest.Features{
		RequestReply:        true,
		Groups:              true,
		Wildcards:           true,
		MultiValueHeaders:   true,
		MaxPayload:          c.MaxPayload(),
		Ordering:            true,
		DrainDeliversQueued: true,
		RawConn:             raw,
		Timeout:             15 * time.Second,
	}
}

// compatStream makes a stream name private to this run, skips when the
// server has no JetStream, and deletes the stream in Cleanup.
func compatStream(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config) *natsbus.JetStreamConfig {
	t.Helper()
	js := suiteStream()
	js.Stream.Name = "BUSTEST_" + compatRandom()
	c, err := natsbus.Open(t.Context(), cfg(js))
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Skipf("the external server has no JetStream: %v", err)
	}
	require.NoError(t, err, "create the run's stream %s (a stream left by an earlier run that captures bustest.> makes this fail: delete it with `nats stream rm`)", js.Stream.Name)
	var st jetstream.Stream
	require.True(t, c.As(&st))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var jsh jetstream.JetStream
		require.True(t, c.As(&jsh))
		assert.NoError(t, jsh.DeleteStream(ctx, js.Stream.Name), "delete the run's stream")
		assert.NoError(t, c.Close(ctx))
	})
	return js
}

// compatOpen opens a connection with cfg, closed in t.Cleanup.
func compatOpen(t testing.TB, cfg natsbus.Config) *natsbus.Conn {
	t.Helper()
	c, err := natsbus.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.Close(ctx))
	})
	return c
}

// compatOpener opens a Bus with cfg for each suite subtest.
func compatOpener(cfg natsbus.Config) bustest.OpenFunc {
	return compatOpenerWith(cfg, func(_ *testing.T, c *natsbus.Conn) driver.Conn { return c })
}

// compatOpenerWith opens a Bus with cfg for each suite subtest, over the
// connection wrap returns.
func compatOpenerWith(cfg natsbus.Config, wrap func(*testing.T, *natsbus.Conn) driver.Conn) bustest.OpenFunc {
	return func(t *testing.T) *bus.Bus {
		t.Helper()
		b := bus.New(wrap(t, compatOpenRaw(t, cfg)), bus.Logger(quiet))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, b.Close(ctx), "close bus")
		})
		return b
	}
}

// compatOpenRaw opens a connection the caller closes (through a Bus).
func compatOpenRaw(t *testing.T, cfg natsbus.Config) *natsbus.Conn {
	t.Helper()
	c, err := natsbus.Open(t.Context(), cfg)
	require.NoError(t, err)
	return c
}

// compatRandom is a random token for names private to a run.
func compatRandom() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// compatVersionAtLeast reports whether a server version such as "2.9.10"
// is at least major.minor.patch; an unparsable version counts as new.
func compatVersionAtLeast(v string, major, minor, patch int) bool {
	var a, b, c int
	if n, _ := fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c); n < 2 {
		return true
	}
	if a != major {
		return a > major
	}
	if b != minor {
		return b > minor
	}
	return c >= patch
}

// compatLiteralWildcard reports whether pattern has a '*' or '>' inside a
// longer token (a literal character, not a wildcard).
func compatLiteralWildcard(pattern string) bool {
	for _, tok := range strings.Split(pattern, ".") {
		if len(tok) > 1 && strings.ContainsAny(tok, "*>") {
			return true
		}
	}
	return false
}

// compatConn skips the running contract when a JetStream subscription to
// a pattern with a literal '*' or '>' fails on a server older than 2.10:
// the consumer filter for it needs FilterSubjects, which 2.9 ignores. It
// wraps the driver connection, below the *bus.Bus the suite uses, so
// bus.Subscribe calls it on the subscribing test's goroutine; every other
// method (and optional interface) is the embedded Conn's.
type compatConn struct {
	*natsbus.Conn
	t       *testing.T
	version string
}

// Subscribe subscribes, skipping the contract on the known 2.9 limits: a
// consumer on a pattern with a literal wildcard, or a group consumer with
// several filter subjects, needs 2.10.
func (c compatConn) Subscribe(ctx context.Context, o driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	s, err := c.Conn.Subscribe(ctx, o, h)
	if err != nil && (compatLiteralWildcard(o.Subject) || errors.Is(err, driver.ErrNotSupported)) {
		c.t.Skipf("nats-server %s: a JetStream consumer on %q needs consumer FilterSubjects, nats-server 2.10+: %v",
			c.version, o.Subject, err)
	}
	return s, err
}

// compatSkipping opens Buses with cfg, over compatConn on servers older
// than 2.10.
func compatSkipping(cfg natsbus.Config, version string, pre210 bool) bustest.OpenFunc {
	if !pre210 {
		return compatOpener(cfg)
	}
	return compatOpenerWith(cfg, func(t *testing.T, c *natsbus.Conn) driver.Conn {
		return compatConn{Conn: c, t: t, version: version}
	})
}

// compatTermStops: a message whose handler fails for good (no dead-letter
// subject) is terminated on the server: the consumer's ack floor moves
// past it and it is not delivered again, even after AckWait.
func compatTermStops(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config, js *natsbus.JetStreamConfig) {
	short := *js
	short.AckWait = 200 * time.Millisecond
	b := compatOpener(cfg(&short))(t)
	id := compatRandom()
	subject, group := "bustest."+id+".term", "term-"+id
	var calls atomic.Int32
	_, err := b.Subscribe(t.Context(), subject, bus.HandlerFunc(func(context.Context, *bus.Message) error {
		calls.Add(1)
		return bus.Permanent(errors.New("refused for good"))
	}), bus.Group(group))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage(subject, "com.example.term.v1", nil)))
	var jsh jetstream.JetStream
	require.True(t, b.As(&jsh))
	cons, err := jsh.Consumer(t.Context(), js.Stream.Name, natsbus.ConsumerName(group))
	require.NoError(t, err)
	var info *jetstream.ConsumerInfo
	settled := compatPoll(5*time.Second, func() bool {
		info, err = cons.Info(t.Context())
		return err == nil && info.AckFloor.Consumer >= 1 && info.NumAckPending == 0
	})
	require.NoError(t, err)
	require.True(t, settled, "the terminated message is still pending after 5s (%d handler calls, ack pending %d, redelivered %d): "+
		"the Term did not reach the server (TermWithReason needs nats-server 2.10.4+)", calls.Load(), info.NumAckPending, info.NumRedelivered)
	assert.Equal(t, int32(1), calls.Load(), "handler calls for a message terminated at the first attempt")
}

// compatNoStrayConsumer: subscribing to a pattern with a literal '*' or
// '>' either works with the pattern as the consumer's filter, or fails
// leaving no consumer behind (on 2.9 the server would create one without
// any filter: it would hold every message of an interest stream).
func compatNoStrayConsumer(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config, js *natsbus.JetStreamConfig) {
	b := compatOpener(cfg(js))(t)
	var st jetstream.Stream
	require.True(t, b.As(&st))
	before := compatConsumers(t, st)
	id := compatRandom()
	for _, opts := range [][]bus.SubscribeOption{nil, {bus.Group("lit-" + id)}} {
		pattern := "bustest." + id + ".lit.foo*"
		sub, err := b.Subscribe(t.Context(), pattern, bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }), opts...)
		if err != nil {
			t.Logf("subscribe to %q failed (expected before nats-server 2.10): %v", pattern, err)
			assert.ElementsMatch(t, before, compatConsumers(t, st), "consumers on the stream after a failed subscribe")
			continue
		}
		assert.NoError(t, sub.Drain(t.Context()))
	}
}

// compatConsumers lists the stream's consumers as "name filter=[...]".
func compatConsumers(t *testing.T, st jetstream.Stream) []string {
	t.Helper()
	var out []string
	list := st.ListConsumers(t.Context())
	for ci := range list.Info() {
		out = append(out, fmt.Sprintf("%s filter=%q filters=%q", ci.Name, ci.Config.FilterSubject, ci.Config.FilterSubjects))
	}
	require.NoError(t, list.Err())
	return out
}

// compatPoll checks cond every 20ms until it holds (true) or d passes
// (false).
func compatPoll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
