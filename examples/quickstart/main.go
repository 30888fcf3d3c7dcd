package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	_ "github.com/busway/busway/backends/membus"           // registers mem://
	_ "github.com/busway/busway/backends/natsbus"          // registers nats:// and jetstream://
	_ "github.com/busway/busway/backends/natsbus/embedded" // registers embedded:// (in-process NATS)
	"github.com/busway/busway/bus"
)

// OrderPlaced is the event the order service publishes.
type OrderPlaced struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
}

// PriceQuery asks the pricing service for a price.
type PriceQuery struct {
	SKU string `json:"sku"`
}

// Price answers a PriceQuery.
type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

const orderPlaced = "com.example.order.placed.v1"

// defaultURL runs on an in-process NATS server with JetStream (nothing to
// install): a stream captures the order events and the dead letters; the
// pricing requests stay outside it, on core NATS, declared with core=.
const defaultURL = "embedded://?stream=QUICKSTART&subjects=orders.>,dead.>&core=pricing.>"

func main() {
	url := flag.String("url", envOr("BUSWAY_URL", defaultURL), "bus URL")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url string, out io.Writer) error {
	b, err := bus.Open(ctx, url, bus.Source("/examples/quickstart"))
	if err != nil {
		return err
	}
	defer b.Close(context.Background())

	var wg sync.WaitGroup
	wg.Add(4) // billing o-1, shipping o-1 and o-2, the dead letter of o-2
	r := routes(b, &wg, out)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	select {
	case <-r.Running():
	case err := <-done:
		return err
	}

	for i, amount := range []float64{19.99, -5} {
		m, err := bus.NewJSON("orders.eu.placed", orderPlaced, OrderPlaced{OrderID: fmt.Sprint("o-", i+1), Amount: amount})
		if err != nil {
			return err
		}
		if err := b.Publish(ctx, m); err != nil {
			return err
		}
	}
	wg.Wait()

	price, err := bus.RequestJSON[Price](ctx, b, "pricing.quote", "com.example.price.query.v1", PriceQuery{SKU: "book-42"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pricing: %s costs %d cents\n", price.SKU, price.Cents)

	stop()
	return <-done
}

// routes registers the handlers; wg counts the messages they see.
func routes(b *bus.Bus, wg *sync.WaitGroup, out io.Writer) *bus.Router {
	r := bus.NewRouter(b)
	r.Handle("orders.*.placed", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderPlaced) error {
		if o.Amount < 0 {
			return bus.Permanent(fmt.Errorf("order %s: %w", o.OrderID, errNegative))
		}
		defer wg.Done()
		fmt.Fprintf(out, "billing: charged %s %.2f (event %s, attempt %d)\n", o.OrderID, o.Amount, m.Event.Type, m.Attempt())
		return nil
	}), bus.Group("billing"), bus.DeadLetter("dead.orders"))

	r.Handle("orders.>", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderPlaced) error {
		defer wg.Done()
		fmt.Fprintf(out, "shipping: saw %s on %s\n", o.OrderID, m.Subject)
		return nil
	}), bus.Group("shipping"))

	r.HandleFunc("dead.orders", func(ctx context.Context, m *bus.Message) error {
		defer wg.Done()
		fmt.Fprintf(out, "dead letter: %s from %s: %s\n", m.Event.ID[:8]+"…",
			m.Header.Get(bus.DeadLetterSubjectHeader), m.Header.Get(bus.DeadLetterReasonHeader))
		return nil
	})

	r.Handle("pricing.quote", bus.Reply("com.example.price.v1", func(ctx context.Context, q PriceQuery) (Price, error) {
		return Price{SKU: q.SKU, Cents: 1299}, nil
	}))
	return r
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

var errNegative = errors.New("negative amount")
