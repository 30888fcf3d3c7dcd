package cqrs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	_ "github.com/busway/busway/backends/membus"  // mem://
	_ "github.com/busway/busway/backends/natsbus" // jetstream://
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
	"github.com/stretchr/testify/require"
)

// Test contracts: the orders service's order.placed event in three
// versions, a command, a query, and an unrelated event type.
type placedV1 struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"` // whole euros
}

type placedV2 struct {
	ID       string `json:"id"`
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

type placedV3 struct {
	ID    string `json:"id"`
	Money string `json:"money"`
}

type placeOrder struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

type getOrder struct {
	ID string `json:"id"`
}

type orderView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func upV1(v placedV1) (placedV2, error) {
	return placedV2{ID: v.ID, Cents: int64(v.Amount) * 100, Currency: "EUR"}, nil
}

var (
	orders  = contract.MustDomain("com.example", "orders")
	billing = contract.MustDomain("com.example", "billing")

	placedOld  = contract.NewEvent[placedV1](orders, "order", "placed")
	placed     = contract.NewEvent[placedV2](orders, "order", "placed", contract.Version(2), contract.From(1, upV1))
	placedNext = contract.NewEvent[placedV3](orders, "order", "placed", contract.Version(3))
	place      = contract.NewCommand[placeOrder](orders, "order", "place")
	get        = contract.NewQuery[getOrder, orderView](orders, "view", "get")
)

// buses opens one bus per backend for a test: mem, and JetStream on an
// embedded server of its own with a stream capturing the orders subjects
// and the dead letters (queries stay on core NATS).
func buses(t *testing.T) map[string]*bus.Bus {
	t.Helper()
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	urls := map[string]string{
		"mem":       "mem://" + name,
		"jetstream": "jetstream://" + srv.Addr() + "?stream=CQRS&subjects=orders.order.>,orders.dead,billing.dead&core=orders.view.>",
	}
	out := map[string]*bus.Bus{}
	for k, u := range urls {
		out[k] = openBus(t, u)
	}
	return out
}

func openBus(t *testing.T, url string) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// run runs svc until the test ends and waits until it is subscribed.
func run(t *testing.T, svc *cqrs.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-svc.Running():
	case err := <-done:
		t.Fatalf("service %s did not start: %v", svc.Name(), err)
	case <-time.After(10 * time.Second):
		t.Fatalf("service %s did not start within 10s", svc.Name())
	}
}

// collect subscribes to pattern and returns the messages it receives.
func collect(t *testing.T, b *bus.Bus, pattern string) <-chan *bus.Message {
	t.Helper()
	ch := make(chan *bus.Message, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := b.Subscribe(ctx, pattern, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		ch <- m
		return nil
	}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Drain(context.Background()) })
	return ch
}

// next waits for the next value on ch, failing the test after 10s.
func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		panic("unreachable")
	}
}

func publish(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}
