// Package busway_test runs one realistic scenario end to end, through
// bus.Open, on every backend URL the project ships.
package busway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/busway/busway/backends/membus"  // mem://
	_ "github.com/busway/busway/backends/natsbus" // nats://, jetstream://
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backendURLs returns a URL per backend for one test; each test gets its
// own broker (NATS: an embedded server on a random port, stopped at the
// end of the test).
func backendURLs(t *testing.T) map[string]string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	// The stream captures the events and the dead letters; requests
	// (shop.pricing.*, declared core; shop.nobody.*) stay outside it. One
	// message per pull, so that the two billing members share the work
	// (a larger pull batch may hand all 20 orders to one of them).
	stream := "&subjects=shop.orders.>,shop.refunds.>,shop.dead&core=shop.pricing.>&pull_max_messages=1"
	return map[string]string{
		"mem":       "mem://" + name,
		"nats":      srv.URL(),
		"jetstream": "jetstream://" + srv.Addr() + "?stream=E2E" + stream,
		"embedded":  "embedded://" + name + "?stream=E2E" + stream,
	}
}

type orderPlaced struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

type quote struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

func TestEndToEnd(t *testing.T) {
	urls := backendURLs(t)
	for _, scheme := range bus.Schemes() {
		require.Contains(t, urls, scheme, "every registered backend runs the end-to-end scenario")
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) { scenario(t, url) })
	}
}

// scenarioState counts what the consumer service saw.
type scenarioState struct {
	audit, billing, flaky sync.Map // order id -> count
	billingMembers        [2]atomic.Int64
	flakyFailed           sync.Map // order id -> failed once
	wg                    sync.WaitGroup
}

func count(m *sync.Map, id string) {
	v, _ := m.LoadOrStore(id, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// scenario: a producer service and a consumer service on two Bus values.
// The consumer has a fan-out audit log, a billing group with two members,
// a handler that fails once per message (retried in process, so it works
// on every backend), a refund handler that fails permanently (dead-letter),
// and a pricing responder. 20 orders are placed.
func scenario(t *testing.T, url string) {
	const orders = 20
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	producer, err := bus.Open(ctx, url, bus.Source("/e2e/producer"))
	require.NoError(t, err)
	consumer, err := bus.Open(ctx, url, bus.Source("/e2e/consumer"))
	require.NoError(t, err)
	defer func() { assert.NoError(t, producer.Close(context.Background())) }()

	st := &scenarioState{}
	st.wg.Add(3 * orders) // audit, billing, flaky see each order once
	router := buildRouter(consumer, st)
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- router.Run(runCtx) }()
	select {
	case <-router.Running():
	case err := <-runErr:
		t.Fatalf("router did not start: %v", err)
	}
	dead := make(chan *bus.Message, 1)
	_, err = producer.Subscribe(ctx, "shop.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)

	for i := range orders {
		m, err := bus.NewJSON("shop.orders.placed", "com.example.order.placed.v1", orderPlaced{ID: fmt.Sprint("o", i), Amount: i})
		require.NoError(t, err)
		require.NoError(t, producer.Publish(ctx, m))
		assert.NotEmpty(t, m.Event.ID, "publish fills the id")
	}
	waitOrFail(t, &st.wg, "every handler saw every order")

	// A refund the handler rejects for good is dead-lettered, bytes intact.
	bad, err := bus.NewJSON("shop.refunds.requested", "com.example.refund.requested.v1", orderPlaced{ID: "r1", Amount: -1})
	require.NoError(t, err)
	require.NoError(t, producer.Publish(ctx, bad))
	select {
	case d := <-dead:
		assert.Equal(t, bad.Event.ID, d.Event.ID)
		assert.Equal(t, bad.Event.Data, d.Event.Data, "original bytes")
		assert.Equal(t, "shop.refunds.requested", d.Header.Get(bus.DeadLetterSubjectHeader))
		assert.Contains(t, d.Header.Get(bus.DeadLetterReasonHeader), "negative refund")
	case <-ctx.Done():
		t.Fatal("no dead letter")
	}

	q, err := bus.RequestJSON[quote](ctx, producer, "shop.pricing.quote", "com.example.quote.query.v1", quote{SKU: "b-1"})
	require.NoError(t, err)
	assert.Equal(t, quote{SKU: "b-1", Cents: 1299}, q)

	_, err = bus.RequestJSON[quote](ctx, producer, "shop.pricing.quote", "com.example.quote.query.v1", quote{SKU: ""})
	var remote *bus.RemoteError
	require.ErrorAs(t, err, &remote, "a failed responder answers with its error")
	assert.Contains(t, remote.Reason, "sku required")

	_, err = producer.Request(ctx, bus.NewMessage("shop.nobody.home", "com.example.ping.v1", nil))
	assert.ErrorIs(t, err, bus.ErrNoResponders)

	stop()
	require.NoError(t, <-runErr, "router drains cleanly")
	require.NoError(t, consumer.Close(context.Background()))

	for i := range orders {
		id := fmt.Sprint("o", i)
		for what, m := range map[string]*sync.Map{"audit": &st.audit, "billing": &st.billing, "flaky": &st.flaky} {
			v, ok := m.Load(id)
			require.True(t, ok, "%s saw %s", what, id)
			assert.EqualValues(t, 1, v.(*atomic.Int64).Load(), "%s handled %s exactly once", what, id)
		}
	}
	assert.Positive(t, st.billingMembers[0].Load(), "group work is spread")
	assert.Positive(t, st.billingMembers[1].Load(), "group work is spread")
}

func buildRouter(b *bus.Bus, st *scenarioState) *bus.Router {
	r := bus.NewRouter(b, bus.DrainTimeout(10*time.Second))
	r.Handle("shop.orders.*", bus.JSON(func(_ context.Context, _ *bus.Message, o orderPlaced) error {
		count(&st.audit, o.ID)
		st.wg.Done()
		return nil
	}))
	for member := range 2 {
		r.Handle("shop.orders.placed", bus.JSON(func(_ context.Context, _ *bus.Message, o orderPlaced) error {
			st.billingMembers[member].Add(1)
			count(&st.billing, o.ID)
			st.wg.Done()
			return nil
		}), bus.Group("billing"))
	}
	retry := middleware.Retry(middleware.RetryConfig{MaxRetries: 3, Backoff: bus.ConstantBackoff(time.Millisecond)})
	r.Handle("shop.orders.placed", bus.JSON(func(_ context.Context, _ *bus.Message, o orderPlaced) error {
		if _, failed := st.flakyFailed.LoadOrStore(o.ID, true); !failed {
			return errors.New("transient: inventory service busy")
		}
		count(&st.flaky, o.ID)
		st.wg.Done()
		return nil
	}), bus.Group("inventory"), bus.Wrap(retry))
	r.Handle("shop.refunds.requested", bus.JSON(func(_ context.Context, _ *bus.Message, o orderPlaced) error {
		if o.Amount < 0 {
			return bus.Permanent(errors.New("negative refund"))
		}
		return nil
	}), bus.Group("refunds"), bus.DeadLetter("shop.dead"))
	r.Handle("shop.pricing.quote", bus.Reply("com.example.quote.v1", func(_ context.Context, q quote) (quote, error) {
		if q.SKU == "" {
			return quote{}, bus.Permanent(errors.New("sku required"))
		}
		return quote{SKU: q.SKU, Cents: 1299}, nil
	}))
	return r
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
}
