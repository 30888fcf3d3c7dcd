package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/busway/busway/asyncapi"
	_ "github.com/busway/busway/backends/membus"           // registers mem://
	_ "github.com/busway/busway/backends/natsbus"          // registers nats:// and jetstream://
	_ "github.com/busway/busway/backends/natsbus/embedded" // registers embedded:// (in-process NATS)
	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

// defaultURL is an in-process NATS server with JetStream: a stream keeps
// the commands, events and dead letters; the query stays on core NATS.
const defaultURL = "embedded://?stream=ORDERS&subjects=orders.order.place,orders.order.placed,orders.dead,billing.dead,shipping.dead&core=orders.order.get"

// legacyOrderPlaced is what a producer not yet upgraded still publishes.
var legacyOrderPlaced = contract.NewEvent[OrderPlacedV1](Orders, "order", "placed")

func main() {
	url := flag.String("url", envOr("BUSWAY_URL", defaultURL), "bus URL")
	doc := flag.String("asyncapi", "", "write the AsyncAPI 3.0 document of the services to this file and exit")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if *doc != "" {
		err = writeAsyncAPI(ctx, *doc)
	} else {
		err = run(ctx, *url, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// services builds the three services on b.
func services(b *bus.Bus, say Say) ([]*cqrs.Service, error) {
	opts := []cqrs.Option{cqrs.MaxAttempts(3), cqrs.RetryBackoff(bus.ConstantBackoff(20 * time.Millisecond))}
	o, err1 := NewOrders(b, say, opts...)
	bl, err2 := NewBilling(b, say, opts...)
	sh, err3 := NewShipping(b, say, opts...)
	return []*cqrs.Service{o, bl, sh}, errors.Join(err1, err2, err3)
}

func writeAsyncAPI(ctx context.Context, file string) error {
	b, err := bus.Open(ctx, "mem://")
	if err != nil {
		return err
	}
	defer b.Close(context.Background())
	svcs, err := services(b, func(string, string, ...any) {})
	if err != nil {
		return err
	}
	m := asyncapi.FromServices("orders-example", svcs...)
	m.Title, m.Version = "Busway order example", "1.0.0"
	m.Description = "The services of examples/orders: orders, billing and shipping."
	doc, err := asyncapi.Generate(m)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(doc, '\n'), 0o644)
}

func run(ctx context.Context, url string, out io.Writer) error {
	b, err := bus.Open(ctx, url, bus.Source("/examples/orders"))
	if err != nil {
		return err
	}
	defer b.Close(context.Background())
	n := newNarrator(out)
	svcs, err := services(b, n.say)
	if err != nil {
		return err
	}
	deadLetters := bus.NewRouter(b)
	for _, s := range svcs {
		deadLetters.HandleFunc(s.Describe().DeadLetter, func(ctx context.Context, m *bus.Message) error {
			n.say("dead letters", "%s on %s (from %s): %s", m.Event.Type, m.Subject,
				m.Header.Get(bus.DeadLetterSubjectHeader), m.Header.Get(bus.DeadLetterReasonHeader))
			return nil
		})
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- cqrs.RunAll(runCtx, svcs[0], svcs[1], svcs[2], deadLetters) }()
	for _, ready := range []<-chan struct{}{svcs[0].Running(), svcs[1].Running(), svcs[2].Running(), deadLetters.Running()} {
		select {
		case <-ready:
		case err := <-done:
			return err
		}
	}
	if err := steps(ctx, b, n); err != nil {
		return err
	}
	stop()
	return <-done
}

// steps runs the scenario, printing what each step caused.
func steps(ctx context.Context, b *bus.Bus, n *narrator) error {
	err := n.step(ctx, "send PlaceOrder o-1 (2 x book)", 4, func() error {
		return Place.Send(ctx, b, PlaceOrder{OrderID: "o-1", SKU: "book", Qty: 2, Cents: 1299})
	})
	if err == nil {
		err = n.step(ctx, "an old producer publishes "+legacyOrderPlaced.Type()+" o-2", 2, func() error {
			return legacyOrderPlaced.Publish(ctx, b, OrderPlacedV1{OrderID: "o-2", Amount: 5.5})
		})
	}
	if err == nil {
		err = n.step(ctx, "send PlaceOrder o-3 (50 x lamp)", 4, func() error {
			return Place.Send(ctx, b, PlaceOrder{OrderID: "o-3", SKU: "lamp", Qty: 50, Cents: 2500})
		})
	}
	if err != nil {
		return err
	}
	n.printf("== query GetOrder o-1\n")
	view, err := Get.Request(ctx, b, GetOrder{OrderID: "o-1"})
	if err != nil {
		return err
	}
	n.printf("   reply %s: %+v\n", Get.ReplyType(), view)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// narrator prints each step's notes, grouped by service, so the output is
// the same on every run although the services run concurrently.
type narrator struct {
	out   io.Writer
	notes chan note
}

type note struct{ service, text string }

func newNarrator(out io.Writer) *narrator { return &narrator{out: out, notes: make(chan note, 64)} }

func (n *narrator) say(service, format string, args ...any) {
	n.notes <- note{service, fmt.Sprintf(format, args...)}
}

func (n *narrator) printf(format string, args ...any) { fmt.Fprintf(n.out, format, args...) }

// step prints title, runs act, waits for want notes and prints them
// sorted by service (each service's own notes keep their order).
func (n *narrator) step(ctx context.Context, title string, want int, act func() error) error {
	n.printf("== %s\n", title)
	if err := act(); err != nil {
		return err
	}
	got := make([]note, 0, want)
	for len(got) < want {
		select {
		case x := <-n.notes:
			got = append(got, x)
		case <-ctx.Done():
			return fmt.Errorf("step %q: %d of %d expected notes: %w", title, len(got), want, ctx.Err())
		}
	}
	slices.SortStableFunc(got, func(a, b note) int { return strings.Compare(a.service, b.service) })
	for _, x := range got {
		n.printf("   %-14s %s\n", x.service+":", x.text)
	}
	return nil
}
