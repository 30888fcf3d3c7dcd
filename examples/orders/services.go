package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

// Say reports what a service did (the example prints it; tests ignore it).
type Say func(service, format string, args ...any)

// NewOrders is the order service: it places orders and answers queries.
func NewOrders(b *bus.Bus, say Say, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, Orders, opts...)
	svc.Sends(OrderPlaced)
	var mu sync.Mutex
	orders := map[string]OrderView{}
	err := errors.Join(
		cqrs.OnCommand(svc, Place, func(ctx context.Context, c PlaceOrder) error {
			total := c.Qty * c.Cents
			mu.Lock()
			orders[c.OrderID] = OrderView{OrderID: c.OrderID, Status: "placed", TotalCents: total}
			mu.Unlock()
			say("orders", "placed %s, published %s", c.OrderID, OrderPlaced.Type())
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

// NewBilling charges placed orders; its payment gateway times out on the
// first call, so that charge is retried.
func NewBilling(b *bus.Bus, say Say, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, contract.MustDomain("com.example", "billing"), opts...)
	var calls atomic.Int32
	return svc, cqrs.OnEvent(svc, OrderPlaced, func(ctx context.Context, e OrderPlacedV2) error {
		m := cqrs.Message(ctx)
		if calls.Add(1) == 1 {
			say("billing", "%s attempt %d: payment gateway timeout, will retry", e.OrderID, m.Attempt())
			return errors.New("payment gateway timeout")
		}
		say("billing", "charged %s %d cents (attempt %d%s)", e.OrderID, e.TotalCents, m.Attempt(), upcast(m))
		return nil
	})
}

// NewShipping ships placed orders; an order larger than the stock can never
// ship, so it fails for good and goes to the dead-letter subject.
func NewShipping(b *bus.Bus, say Say, opts ...cqrs.Option) (*cqrs.Service, error) {
	svc := cqrs.New(b, contract.MustDomain("com.example", "shipping"), opts...)
	const stock = 10
	return svc, cqrs.OnEvent(svc, OrderPlaced, func(ctx context.Context, e OrderPlacedV2) error {
		if e.Qty > stock {
			say("shipping", "cannot ship %s: %d > %d in stock", e.OrderID, e.Qty, stock)
			return bus.Permanent(fmt.Errorf("order %s: %d x %s: out of stock", e.OrderID, e.Qty, e.SKU))
		}
		say("shipping", "shipped %s: %d x %s%s", e.OrderID, e.Qty, e.SKU, upcast(cqrs.Message(ctx)))
		return nil
	})
}

// upcast notes when the handler got an older version, upcast.
func upcast(m *bus.Message) string {
	if m.Event.Type != OrderPlaced.Type() {
		return ", upcast from " + m.Event.Type
	}
	return ""
}
