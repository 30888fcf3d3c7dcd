package natsbus_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Item 1 of issue 8: one durable consumer per group, whatever its patterns.

// grpCounts counts the events each handler received, by data.
type grpCounts struct {
	mu  sync.Mutex
	got map[string][]string // handler name -> data received, in order
	ch  chan string         // every data received
}

func newGrpCounts() *grpCounts {
	return &grpCounts{got: map[string][]string{}, ch: make(chan string, 256)}
}

func (g *grpCounts) handler(name string) bus.Handler {
	return bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		g.mu.Lock()
		g.got[name] = append(g.got[name], string(m.Event.Data))
		g.mu.Unlock()
		g.ch <- string(m.Event.Data)
		return nil
	})
}

// waitFor receives until every data in want arrived (in any order).
func (g *grpCounts) waitFor(t *testing.T, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	for len(missing) > 0 {
		delete(missing, jsTestRecv(t, g.ch, fmt.Sprintf("%v", want)))
	}
}

// all returns every data received by any handler, and how often.
func (g *grpCounts) all() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := map[string]int{}
	for _, ds := range g.got {
		for _, d := range ds {
			n[d]++
		}
	}
	return n
}

func (g *grpCounts) of(name string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.got[name]...)
}

// TestJetStreamGroupWidenedAcrossRedeployLosesNothing: a group that adds a
// pattern on a redeploy gets, on the new pattern, what was stored while no
// instance ran, and nothing twice: its consumer is widened in place.
func TestJetStreamGroupWidenedAcrossRedeployLosesNothing(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("WIDE", "wide.>")
	v1 := e.open(t, cfg)
	g1 := newGrpCounts()
	_, err := v1.Subscribe(t.Context(), "wide.x.>", g1.handler("x"), bus.Group("billing"))
	require.NoError(t, err)
	require.NoError(t, v1.Publish(t.Context(), jsTestEvent("wide.x.a", "X1")))
	g1.waitFor(t, "X1")
	ctx, cancel := context.WithTimeout(t.Context(), jsTestTimeout)
	defer cancel()
	require.NoError(t, v1.Close(ctx))

	pub := e.open(t, cfg)
	require.NoError(t, pub.Publish(t.Context(), jsTestEvent("wide.x.a", "X2")))
	require.NoError(t, pub.Publish(t.Context(), jsTestEvent("wide.y.a", "Y1")))

	v2 := e.open(t, cfg)
	g2 := newGrpCounts()
	_, err = v2.Subscribe(t.Context(), "wide.x.>", g2.handler("x"), bus.Group("billing"))
	require.NoError(t, err)
	_, err = v2.Subscribe(t.Context(), "wide.y.>", g2.handler("y"), bus.Group("billing"))
	require.NoError(t, err)
	g2.waitFor(t, "X2", "Y1")
	require.NoError(t, pub.Publish(t.Context(), jsTestEvent("wide.x.end", "END")))
	g2.waitFor(t, "END")
	assert.Equal(t, map[string]int{"X2": 1, "Y1": 1, "END": 1}, g2.all(), "the redeployed group's deliveries")
	assert.Equal(t, []string{"Y1"}, g2.of("y"))

	ci := e.consumerInfo(t, "WIDE", natsbus.ConsumerName("billing"))
	assert.ElementsMatch(t, []string{"wide.x.>", "wide.y.>"}, ci.Config.FilterSubjects, "filter subjects")
	assert.Equal(t, 1, e.streamInfo(t, "WIDE").State.Consumers, "one consumer for the group")
}

// TestJetStreamGroupOverlappingPatternsHandledOnce: a group on orders.>
// and orders.*.created handles an orders.x.created message once, as on
// mem and core NATS.
func TestJetStreamGroupOverlappingPatternsHandledOnce(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("OVL", "ovl.>"))
	g := newGrpCounts()
	_, err := b.Subscribe(t.Context(), "ovl.>", g.handler("all"), bus.Group("g"))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), "ovl.*.created", g.handler("created"), bus.Group("g"))
	require.NoError(t, err)
	for _, s := range []string{"ovl.a.created", "ovl.b.deleted", "ovl.c.created"} {
		require.NoError(t, b.Publish(t.Context(), jsTestEvent(s, s)))
	}
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("ovl.end", "END")))
	g.waitFor(t, "ovl.a.created", "ovl.b.deleted", "ovl.c.created", "END")
	// A second delivery would come from a second consumer at the same
	// time as the first; one more round trip lets it show.
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("ovl.end2", "END2")))
	g.waitFor(t, "END2")
	assert.Equal(t, map[string]int{"ovl.a.created": 1, "ovl.b.deleted": 1, "ovl.c.created": 1, "END": 1, "END2": 1}, g.all())
	ci := e.consumerInfo(t, "OVL", natsbus.ConsumerName("g"))
	assert.Equal(t, "ovl.>", ci.Config.FilterSubject, "the union reduced to the wider pattern")
	assert.Empty(t, ci.Config.FilterSubjects)
}

// TestJetStreamGroupPartialOverlapRefused: the server refuses overlapping
// filter subjects, so two patterns of one group that overlap without one
// containing the other are refused at Subscribe, naming both.
func TestJetStreamGroupPartialOverlapRefused(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("POV", "pov.>"))
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	_, err := b.Subscribe(t.Context(), "pov.*.c", noop, bus.Group("g"))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), "pov.b.*", noop, bus.Group("g"))
	require.ErrorIs(t, err, bus.ErrNotSupported)
	assert.Contains(t, err.Error(), `"pov.*.c"`)
	assert.Contains(t, err.Error(), `"pov.b.*"`)
	ci := e.consumerInfo(t, "POV", natsbus.ConsumerName("g"))
	assert.Equal(t, "pov.*.c", ci.Config.FilterSubject, "the refused pattern was not added")
	_, err = b.Subscribe(t.Context(), "pov.b.*", noop, bus.Group("other"))
	assert.NoError(t, err, "in another group the same pattern is fine")
}

// TestJetStreamGroupTwoRoutesEachGetTheirOwn: two routes of one group on
// disjoint patterns share the group's consumer; each handler gets exactly
// the messages of its pattern, whichever pull loop received them.
func TestJetStreamGroupTwoRoutesEachGetTheirOwn(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("ROUTES", "routes.>"))
	g := newGrpCounts()
	r := bus.NewRouter(b)
	r.Handle("routes.orders.>", g.handler("orders"), bus.Group("billing"), bus.Concurrency(3))
	r.Handle("routes.refunds.>", g.handler("refunds"), bus.Group("billing"), bus.Concurrency(3))
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	t.Cleanup(func() { stop(); jsTestRecv(t, ran, "Router.Run to return") })
	jsTestWait(t, "both routes to subscribe", func() bool {
		st, err := e.js.Stream(t.Context(), "ROUTES")
		if err != nil {
			return false
		}
		c, err := st.Consumer(t.Context(), natsbus.ConsumerName("billing"))
		return err == nil && len(c.CachedInfo().Config.FilterSubjects) == 2
	})
	var want []string
	var orders, refunds []string
	for i := range 30 {
		kind := "orders"
		if i%3 == 0 {
			kind = "refunds"
		}
		d := fmt.Sprintf("%s-%d", kind, i)
		want = append(want, d)
		if kind == "orders" {
			orders = append(orders, d)
		} else {
			refunds = append(refunds, d)
		}
		require.NoError(t, b.Publish(t.Context(), jsTestEvent("routes."+kind+".x", d)))
	}
	g.waitFor(t, want...)
	assert.ElementsMatch(t, orders, g.of("orders"))
	assert.ElementsMatch(t, refunds, g.of("refunds"))
	for d, n := range g.all() {
		assert.Equal(t, 1, n, "deliveries of %s", d)
	}
}

// legacyConsumerName is the name the backend gave a group's consumer
// before issue 8: the group, "-", and FNV-32a of group, NUL, subject.
func legacyConsumerName(group, subject string) string {
	h := fnv.New32a()
	h.Write([]byte(group))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	return fmt.Sprintf("%s-%08x", group, h.Sum32())
}

// TestJetStreamGroupMigratesFromLegacyConsumers: a group whose consumers
// were made by the previous naming (one per group and subject) gets its
// new consumer started after the lowest of their ack floors, so nothing
// published during the upgrade is skipped; the old consumers are left for
// the operator and named in an Info log.
func TestJetStreamGroupMigratesFromLegacyConsumers(t *testing.T) {
	e := jsTestStart(t)
	cfg := jsTestStream("LEG", "leg.>")
	pub := e.open(t, cfg)
	for i := range 4 {
		require.NoError(t, pub.Publish(t.Context(), jsTestEvent("leg.a", fmt.Sprintf("m%d", i+1))))
	}
	// Two legacy consumers of group "g": one acked up to 3, one up to 2.
	legacy := func(subject string, floor int) string {
		name := legacyConsumerName("g", subject)
		c, err := e.js.CreateConsumer(t.Context(), "LEG", jetstream.ConsumerConfig{
			Durable: name, FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy, AckWait: 30 * time.Second,
			Description: fmt.Sprintf("busway group %q on %q", "g", subject),
		})
		require.NoError(t, err)
		for range floor {
			m, err := c.Next(jetstream.FetchMaxWait(jsTestTimeout))
			require.NoError(t, err)
			require.NoError(t, m.DoubleAck(t.Context()))
		}
		return name
	}
	l1, l2 := legacy("leg.a", 3), legacy("leg.>", 2)
	_, err := e.js.CreateConsumer(t.Context(), "LEG", jetstream.ConsumerConfig{
		Durable: "other", AckPolicy: jetstream.AckExplicitPolicy,
		Description: fmt.Sprintf("busway group %q on %q", "gg", "leg.a"),
	})
	require.NoError(t, err, "another group's legacy consumer, not ours")

	var logs syncbuf.Buffer
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: e.srv.URL(), JetStream: cfg,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet))
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	g := newGrpCounts()
	_, err = b.Subscribe(t.Context(), "leg.>", g.handler("new"), bus.Group("g"))
	require.NoError(t, err)
	require.NoError(t, pub.Publish(t.Context(), jsTestEvent("leg.a", "END")))
	g.waitFor(t, "m3", "m4", "END")
	assert.Equal(t, []string{"m3", "m4", "END"}, g.of("new"), "resumed after the lowest legacy ack floor (2)")
	out := logs.String()
	assert.Contains(t, out, "legacy")
	assert.Contains(t, out, l1)
	assert.Contains(t, out, l2)
	assert.NotContains(t, out, "other")
	for _, n := range []string{l1, l2} {
		_, err := e.js.Consumer(t.Context(), "LEG", n)
		assert.NoError(t, err, "legacy consumer %s is left for the operator", n)
	}
}

// TestJetStreamGroupMaxDeliverBackstop: the group's consumer gets
// MaxDeliver = MaxAttempts+1 (unlimited when a member has no limit), and
// a configured max_deliver below MaxAttempts is refused at Subscribe.
func TestJetStreamGroupMaxDeliverBackstop(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("MD", "md.>"))
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	_, err := b.Subscribe(t.Context(), "md.a", noop, bus.Group("g"), bus.MaxAttempts(3))
	require.NoError(t, err)
	assert.Equal(t, 4, e.consumerInfo(t, "MD", natsbus.ConsumerName("g")).Config.MaxDeliver)
	_, err = b.Subscribe(t.Context(), "md.b", noop, bus.Group("g"), bus.MaxAttempts(7))
	require.NoError(t, err)
	assert.Equal(t, 8, e.consumerInfo(t, "MD", natsbus.ConsumerName("g")).Config.MaxDeliver, "the largest member's")
	_, err = b.Subscribe(t.Context(), "md.c", noop, bus.Group("u"), bus.MaxAttempts(0))
	require.NoError(t, err)
	assert.Equal(t, -1, e.consumerInfo(t, "MD", natsbus.ConsumerName("u")).Config.MaxDeliver, "no limit")

	capped := jsTestStream("MD", "md.>")
	capped.MaxDeliver = 4
	b2 := e.open(t, capped)
	_, err = b2.Subscribe(t.Context(), "md.d", noop, bus.Group("h"), bus.MaxAttempts(5))
	require.ErrorIs(t, err, bus.ErrNotSupported)
	assert.Contains(t, err.Error(), "max_deliver 4")
	assert.Contains(t, err.Error(), "MaxAttempts 5")
	_, err = b2.Subscribe(t.Context(), "md.d", noop, bus.Group("h"), bus.MaxAttempts(4))
	require.NoError(t, err, "max_deliver equal to MaxAttempts")
	assert.Equal(t, 4, e.consumerInfo(t, "MD", natsbus.ConsumerName("h")).Config.MaxDeliver, "the configured cap")
}

func TestConsumerNameFromGroupAlone(t *testing.T) {
	assert.Equal(t, natsbus.ConsumerName("billing"), natsbus.ConsumerName("billing"))
	assert.NotEqual(t, natsbus.ConsumerName("a.b"), natsbus.ConsumerName("a_b"), "cleaned names keep the hash of the group")
	n := natsbus.ConsumerName("a.b *>/\\ é")
	assert.True(t, strings.HasPrefix(n, "a_b_______-"), n)
	assert.Len(t, n, len("a_b_______")+9)
}
