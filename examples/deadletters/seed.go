package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/deadletter"
)

// OrderPlaced is the quickstart's event.
type OrderPlaced struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
}

const orderPlaced = "com.example.order.placed.v1"

var errNegative = errors.New("negative amount")

// billing is the quickstart's billing handler: a negative amount fails
// for good.
func billing(ctx context.Context, m *bus.Message, o OrderPlaced) error {
	if o.Amount < 0 {
		return bus.Permanent(fmt.Errorf("order %s: %w", o.OrderID, errNegative))
	}
	return nil
}

// seedQuickstartDeadLetter does what the quickstart does to produce its
// dead letter: billing (group "billing", route "orders.*.placed") refuses
// order o-2 for good, and it goes to subj.
func seedQuickstartDeadLetter(ctx context.Context, url, subj string) error {
	b, err := bus.Open(ctx, url, bus.Source("/examples/quickstart"))
	if err != nil {
		return err
	}
	defer b.Close(context.Background())
	st, err := deadletter.Open(ctx, b, subj)
	if err != nil {
		return err
	}
	sub, err := b.Subscribe(ctx, "orders.*.placed", bus.JSON(billing), bus.Group("billing"), bus.DeadLetter(subj))
	if err != nil {
		return err
	}
	defer sub.Drain(context.Background())
	m, err := bus.NewJSON("orders.eu.placed", orderPlaced, OrderPlaced{OrderID: "o-2", Amount: -5})
	if err != nil {
		return err
	}
	if err := b.Publish(ctx, m); err != nil {
		return err
	}
	_, err = st.Wait(ctx, deadletter.Filter{}, 1)
	return err
}
