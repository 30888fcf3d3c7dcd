package main

import (
	"math"

	"github.com/busway/busway/contract"
)

// PlaceOrder asks the order service to place an order.
type PlaceOrder struct {
	OrderID string `json:"order_id"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
	Cents   int    `json:"cents"` // unit price
}

// OrderPlacedV1 is the first version of the event: one amount in dollars.
type OrderPlacedV1 struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
}

// OrderPlacedV2 is the current version: what was ordered, total in cents.
type OrderPlacedV2 struct {
	OrderID    string `json:"order_id"`
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	TotalCents int    `json:"total_cents"`
}

// GetOrder asks for an order's state.
type GetOrder struct {
	OrderID string `json:"order_id"`
}

// OrderView answers GetOrder.
type OrderView struct {
	OrderID    string `json:"order_id"`
	Status     string `json:"status"`
	TotalCents int    `json:"total_cents"`
}

// The order service's contracts: CloudEvents types, subjects and codecs
// derive from these declarations ("com.example.order.placed.v2" on
// "orders.order.placed").
var (
	Orders      = contract.MustDomain("com.example", "orders")
	Place       = contract.NewCommand[PlaceOrder](Orders, "order", "place")
	OrderPlaced = contract.NewEvent[OrderPlacedV2](Orders, "order", "placed", contract.Version(2),
		contract.From(1, upcastOrderPlaced))
	Get = contract.NewQuery[GetOrder, OrderView](Orders, "order", "get")
)

// upcastOrderPlaced reads a v1 event as v2: one item of unknown SKU.
func upcastOrderPlaced(v1 OrderPlacedV1) (OrderPlacedV2, error) {
	return OrderPlacedV2{OrderID: v1.OrderID, SKU: "unknown", Qty: 1,
		TotalCents: int(math.Round(v1.Amount * 100))}, nil
}
