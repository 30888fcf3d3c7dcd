package contract_test

import (
	"fmt"

	"github.com/busway/busway/contract"
)

type OrderPlacedV1 struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

type OrderPlacedV2 struct {
	ID    string `json:"id"`
	Cents int64  `json:"cents"`
}

func Example() {
	d := contract.MustDomain("com.example", "orders")
	placedV1 := contract.NewEvent[OrderPlacedV1](d, "order", "placed")
	placed := contract.NewEvent[OrderPlacedV2](d, "order", "placed", contract.Version(2),
		contract.From(1, func(v OrderPlacedV1) (OrderPlacedV2, error) {
			return OrderPlacedV2{ID: v.ID, Cents: int64(v.Amount) * 100}, nil
		}))
	fmt.Println(placed.Type(), placed.Subject(), placed.Versions())

	old, _ := placedV1.New(nil, OrderPlacedV1{ID: "o-1", Amount: 12})
	v, err := placed.Decode(old) // a v1 message, upcast
	fmt.Printf("%+v %v\n", v, err)

	_, err = placedV1.Decode(must(placed.New(nil, v))) // a v2 message to a v1-only reader
	fmt.Println(err)
	// Output:
	// com.example.order.placed.v2 orders.order.placed [1 2]
	// {ID:o-1 Cents:1200} <nil>
	// contract: unknown event version: com.example.order.placed.v2: this service knows v1
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
