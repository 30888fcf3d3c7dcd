package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	_ "github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
)

type OrderPlaced struct {
	OrderID string `json:"order_id"`
	Cents   int    `json:"cents"`
}

func Example() {
	ctx := context.Background()
	b, err := bus.Open(ctx, "mem://example")
	if err != nil {
		panic(err)
	}
	defer b.Close(ctx)

	var wg sync.WaitGroup
	wg.Add(1)
	_, err = b.Subscribe(ctx, "orders.*.placed", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderPlaced) error {
		defer wg.Done()
		fmt.Printf("%s on %s: order %s, %d cents\n", m.Event.Type, m.Subject, o.OrderID, o.Cents)
		return nil
	}), bus.Group("billing"))
	if err != nil {
		panic(err)
	}

	m, _ := bus.NewJSON("orders.eu.placed", "com.example.order.placed.v1", OrderPlaced{OrderID: "o-1", Cents: 1999})
	if err := b.Publish(ctx, m); err != nil {
		panic(err)
	}
	wg.Wait()
	// Output: com.example.order.placed.v1 on orders.eu.placed: order o-1, 1999 cents
}

func ExampleRouter() {
	ctx, stop := context.WithCancel(context.Background())
	b, _ := bus.Open(ctx, "mem://")
	defer b.Close(context.Background())

	dead := make(chan *bus.Message, 1)
	r := bus.NewRouter(b)
	r.HandleFunc("jobs.run", func(ctx context.Context, m *bus.Message) error {
		return bus.Permanent(errors.New("job spec invalid"))
	}, bus.DeadLetter("jobs.dead"))
	r.HandleFunc("jobs.dead", func(ctx context.Context, m *bus.Message) error {
		dead <- m
		return nil
	})
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()

	_ = b.Publish(ctx, bus.NewMessage("jobs.run", "com.example.job.v1", []byte(`{"spec":"?"}`)))
	m := <-dead
	fmt.Println("dead letter from:", m.Header.Get(bus.DeadLetterSubjectHeader))
	fmt.Println("reason:", m.Header.Get(bus.DeadLetterReasonHeader))
	fmt.Println("permanent:", m.Header.Get(bus.DeadLetterPermanentHeader))
	fmt.Println("original body:", string(m.Event.Data))

	stop()
	fmt.Println("router stopped:", <-done)
	// Output:
	// dead letter from: jobs.run
	// reason: job spec invalid
	// permanent: true
	// original body: {"spec":"?"}
	// router stopped: <nil>
}

func ExampleReply() {
	ctx := context.Background()
	b, _ := bus.Open(ctx, "mem://")
	defer b.Close(ctx)

	type Query struct{ SKU string }
	type Price struct{ Cents int }
	_, _ = b.Subscribe(ctx, "pricing.quote", bus.Reply("com.example.price.v1", func(ctx context.Context, q Query) (Price, error) {
		if q.SKU == "" {
			return Price{}, errors.New("sku required")
		}
		return Price{Cents: 1299}, nil
	}))

	p, err := bus.RequestJSON[Price](ctx, b, "pricing.quote", "com.example.price.query.v1", Query{SKU: "book"})
	fmt.Println(p.Cents, err)

	_, err = bus.RequestJSON[Price](ctx, b, "pricing.quote", "com.example.price.query.v1", Query{})
	var remote *bus.RemoteError
	fmt.Println(errors.As(err, &remote), remote.Reason)

	_, err = bus.RequestJSON[Price](ctx, b, "nobody.home", "com.example.ping.v1", nil)
	fmt.Println(errors.Is(err, bus.ErrNoResponders))
	// Output:
	// 1299 <nil>
	// true sku required
	// true
}
