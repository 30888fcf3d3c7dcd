package cqrs_test

import (
	"context"
	"fmt"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

type OrderPlaced struct {
	ID string `json:"id"`
}

type PlaceOrder struct {
	ID string `json:"id"`
}

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	b, _ := bus.Open(ctx, "mem://")
	defer b.Close(context.Background())

	d := contract.MustDomain("com.example", "shop")
	placeOrder := contract.NewCommand[PlaceOrder](d, "order", "place")
	orderPlaced := contract.NewEvent[OrderPlaced](d, "order", "placed")

	done := make(chan struct{})
	svc := cqrs.New(b, d)
	_ = cqrs.OnCommand(svc, placeOrder, func(ctx context.Context, c PlaceOrder) error {
		fmt.Println("command", placeOrder.Type(), c.ID)
		return orderPlaced.Publish(ctx, b, OrderPlaced{ID: c.ID}) // correlated with the command
	})
	_ = cqrs.OnEvent(svc, orderPlaced, func(ctx context.Context, e OrderPlaced) error {
		m := cqrs.Message(ctx)
		fmt.Println("event", m.Event.Type, e.ID, "caused by the command:", m.Event.Extensions["causationid"] != "")
		close(done)
		return nil
	})
	for _, h := range svc.Describe().Handlers {
		fmt.Println(h.Kind, h.Type, "on", h.Subject, "group", h.Group)
	}

	ran := make(chan error, 1)
	go func() { ran <- svc.Run(ctx) }()
	<-svc.Running()
	_ = placeOrder.Send(ctx, b, PlaceOrder{ID: "o-1"})
	<-done
	cancel()
	fmt.Println("run:", <-ran)
	// Output:
	// command com.example.order.place.v1 on shop.order.place group shop
	// event com.example.order.placed.v1 on shop.order.placed group shop
	// command com.example.order.place.v1 o-1
	// event com.example.order.placed.v1 o-1 caused by the command: true
	// run: <nil>
}
