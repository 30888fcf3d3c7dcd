package embedded_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
)

// With the package imported, an empty bus URL is an in-process NATS
// server, started by Open and stopped by Close.
func Example() {
	ctx := context.Background()
	b, err := bus.Open(ctx, "", bus.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = b.Close(ctx) }()

	got := make(chan *bus.Message, 1)
	_, err = b.Subscribe(ctx, "greetings.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Publish(ctx, bus.NewMessage("greetings.hello", "com.example.greeting.v1", []byte("hi"))); err != nil {
		fmt.Println(err)
		return
	}
	m := <-got
	fmt.Println(m.Subject, m.Event.Type, string(m.Event.Data))
	// Output: greetings.hello com.example.greeting.v1 hi
}

// Start runs a server that jetstream:// (or nats://) URLs can reach. Here
// an event is stored before anyone subscribes; the group, starting at the
// beginning of the stream (start=all), still gets it.
func ExampleStart() {
	ctx := context.Background()
	srv, err := embedded.Start(embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Stop()

	b, err := bus.Open(ctx, "jetstream://"+srv.Addr()+"?stream=ORDERS&subjects=orders.>&start=all")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = b.Close(ctx) }()
	if err := b.Publish(ctx, bus.NewMessage("orders.created", "com.example.order.created.v1", []byte(`{"id":42}`))); err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	_, err = b.Subscribe(ctx, "orders.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		fmt.Println(m.Event.Type, string(m.Event.Data), "attempt", m.Attempt())
		close(done)
		return nil
	}), bus.Group("billing"))
	if err != nil {
		fmt.Println(err)
		return
	}
	<-done
	// Output: com.example.order.created.v1 {"id":42} attempt 1
}
