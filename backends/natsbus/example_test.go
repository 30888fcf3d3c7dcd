package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
)

// Open from a Go config: a JetStream stream provisioned at open, a group
// whose handler fails for good, and the dead letter stored in the same
// stream before the original is acked.
func ExampleOpen() {
	ctx := context.Background()
	srv, err := embedded.Start(embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Stop()

	conn, err := natsbus.Open(ctx, natsbus.Config{
		URL: srv.URL(),
		JetStream: &natsbus.JetStreamConfig{
			Stream:  natsbus.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>", "dead.orders"}},
			AckWait: 10 * time.Second,
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := bus.New(conn, bus.Logger(slog.New(slog.DiscardHandler)))
	defer func() { _ = b.Close(ctx) }()

	reject := bus.HandlerFunc(func(context.Context, *bus.Message) error {
		return bus.Permanent(errors.New("unknown customer"))
	})
	if _, err := b.Subscribe(ctx, "orders.created", reject, bus.Group("billing"), bus.DeadLetter("dead.orders")); err != nil {
		fmt.Println(err)
		return
	}
	dead := make(chan *bus.Message, 1)
	if _, err := b.Subscribe(ctx, "dead.orders", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}), bus.Group("ops")); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Publish(ctx, bus.NewMessage("orders.created", "com.example.order.created.v1", []byte(`{"id":7}`))); err != nil {
		fmt.Println(err)
		return
	}
	m := <-dead
	fmt.Println(string(m.Event.Data), m.Header.Get(bus.DeadLetterSubjectHeader), m.Header.Get(bus.DeadLetterReasonHeader))
	fmt.Println("billing's consumer:", natsbus.ConsumerName("billing"))
	// Output:
	// {"id":7} orders.created unknown customer
	// billing's consumer: billing-417000dc
}
