package asyncapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/busway/busway/asyncapi"
)

// A service that handles a command and sends an event: one channel per
// subject, one operation per direction.
func ExampleGenerate() {
	doc, err := asyncapi.Generate(asyncapi.Model{
		Service: "orders",
		Registrations: []asyncapi.Registration{
			{Kind: asyncapi.Command, Action: asyncapi.Receive, Type: "com.example.orders.order.place.v1", Subject: "orders.order.place", Group: "orders"},
			{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "com.example.orders.order.placed.v1", Subject: "orders.*.placed"},
		},
	})
	if err != nil {
		panic(err)
	}
	var d struct {
		Channels   map[string]struct{ Address string }
		Operations map[string]struct{ Summary string }
	}
	_ = json.Unmarshal(doc, &d)
	fmt.Println(d.Channels["orders.any.placed"].Address)
	fmt.Println(d.Operations["receive_orders_com.example.orders.order.place.v1"].Summary)
	// Output:
	// orders.{token2}.placed
	// Handles the command com.example.orders.order.place.v1 (group "orders").
}
