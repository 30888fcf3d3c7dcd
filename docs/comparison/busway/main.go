// Command busway is the order service of examples/orders (orders, billing,
// shipping; a v1 -> v2 upcast, a retried handler, a dead-lettered message, a
// query with a typed reply) without the example's narration, for the line
// count next to the same service on Watermill (../watermill). Lines between
// "//count:plumbing" and "//count:end" are plumbing: names, wiring,
// start/stop.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

type PlaceOrder struct {
	OrderID string `json:"order_id"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
	Cents   int    `json:"cents"`
}

type OrderPlacedV1 struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
}

type OrderPlacedV2 struct {
	OrderID    string `json:"order_id"`
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	TotalCents int    `json:"total_cents"`
}

type GetOrder struct {
	OrderID string `json:"order_id"`
}

type OrderView struct {
	OrderID    string `json:"order_id"`
	Status     string `json:"status"`
	TotalCents int    `json:"total_cents"`
}

//count:plumbing
var (
	Orders      = contract.MustDomain("com.example", "orders")
	Place       = contract.NewCommand[PlaceOrder](Orders, "order", "place")
	OrderPlaced = contract.NewEvent[OrderPlacedV2](Orders, "order", "placed", contract.Version(2),
		contract.From(1, upcastOrderPlaced))
	Get = contract.NewQuery[GetOrder, OrderView](Orders, "order", "get")
)

//count:end

func upcastOrderPlaced(v1 OrderPlacedV1) (OrderPlacedV2, error) {
	return OrderPlacedV2{OrderID: v1.OrderID, SKU: "unknown", Qty: 1, TotalCents: int(math.Round(v1.Amount * 100))}, nil
}

func NewOrders(b *bus.Bus, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, Orders, opts...)
	var mu sync.Mutex
	orders := map[string]OrderView{}
	err := errors.Join(
		cqrs.OnCommand(svc, Place, func(ctx context.Context, c PlaceOrder) error {
			total := c.Qty * c.Cents
			mu.Lock()
			orders[c.OrderID] = OrderView{OrderID: c.OrderID, Status: "placed", TotalCents: total}
			mu.Unlock()
			return OrderPlaced.Publish(ctx, b, OrderPlacedV2{OrderID: c.OrderID, SKU: c.SKU, Qty: c.Qty, TotalCents: total})
		}),
		cqrs.OnQuery(svc, Get, func(ctx context.Context, q GetOrder) (OrderView, error) {
			mu.Lock()
			defer mu.Unlock()
			if o, ok := orders[q.OrderID]; ok {
				return o, nil
			}
			return OrderView{}, fmt.Errorf("order %s: not found", q.OrderID)
		}),
	)
	return svc, err
}

func NewBilling(b *bus.Bus, done *sync.WaitGroup, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, contract.MustDomain("com.example", "billing"), opts...)
	var calls atomic.Int32
	return svc, cqrs.OnEvent(svc, OrderPlaced, func(ctx context.Context, e OrderPlacedV2) error {
		if calls.Add(1) == 1 {
			return errors.New("payment gateway timeout")
		}
		log.Printf("billing: charged %s %d cents", e.OrderID, e.TotalCents)
		done.Done()
		return nil
	})
}

func NewShipping(b *bus.Bus, done *sync.WaitGroup, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, contract.MustDomain("com.example", "shipping"), opts...)
	const stock = 10
	return svc, cqrs.OnEvent(svc, OrderPlaced, func(ctx context.Context, e OrderPlacedV2) error {
		defer done.Done()
		if e.Qty > stock {
			return bus.Permanent(fmt.Errorf("order %s: %d x %s: out of stock", e.OrderID, e.Qty, e.SKU))
		}
		log.Printf("shipping: shipped %s", e.OrderID)
		return nil
	})
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var done sync.WaitGroup
	done.Add(6)
	//count:plumbing
	b, err := bus.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close(context.Background())
	opts := []cqrs.Option{cqrs.MaxAttempts(3), cqrs.RetryBackoff(bus.ConstantBackoff(20 * time.Millisecond))}
	orders, err1 := NewOrders(b, opts...)
	billing, err2 := NewBilling(b, &done, opts...)
	shipping, err3 := NewShipping(b, &done, opts...)
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- cqrs.RunAll(runCtx, orders, billing, shipping) }()
	<-orders.Running()
	<-billing.Running()
	<-shipping.Running()
	//count:end
	legacy := contract.NewEvent[OrderPlacedV1](Orders, "order", "placed")
	err = errors.Join(
		Place.Send(ctx, b, PlaceOrder{OrderID: "o-1", SKU: "book", Qty: 2, Cents: 1299}),
		legacy.Publish(ctx, b, OrderPlacedV1{OrderID: "o-2", Amount: 5.5}),
		Place.Send(ctx, b, PlaceOrder{OrderID: "o-3", SKU: "lamp", Qty: 50, Cents: 2500}),
	)
	if err != nil {
		log.Fatal(err)
	}
	done.Wait()
	view, err := Get.Request(ctx, b, GetOrder{OrderID: "o-1"})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("query: %+v", view)
	//count:plumbing
	stop()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	//count:end
}
