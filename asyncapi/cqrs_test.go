package asyncapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/busway/busway/asyncapi"
	_ "github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type placedV1 struct {
	ID string `json:"id"`
}

type placedV2 struct {
	ID    string `json:"id"`
	Cents int    `json:"cents"`
}

type getQ struct {
	ID string `json:"id"`
}

// TestFromServices maps cqrs registrations: a handler reading v1 through an
// upcaster receives both types, each service's receive is its own
// operation, a query carries its reply, Sends become send operations.
func TestFromServices(t *testing.T) {
	b, err := bus.Open(t.Context(), "mem://")
	require.NoError(t, err)
	defer b.Close(context.Background())
	d := contract.MustDomain("com.example", "shop")
	placed := contract.NewEvent[placedV2](d, "order", "placed", contract.Version(2),
		contract.From(1, func(v placedV1) (placedV2, error) { return placedV2{ID: v.ID}, nil }))
	get := contract.NewQuery[getQ, placedV2](d, "order", "get")

	shop := cqrs.New(b, d)
	shop.Sends(placed)
	require.NoError(t, cqrs.OnQuery(shop, get, func(context.Context, getQ) (placedV2, error) { return placedV2{}, nil }))
	audit := cqrs.New(b, contract.MustDomain("com.example", "audit"))
	require.NoError(t, cqrs.OnEvent(audit, placed, func(context.Context, placedV2) error { return nil }))

	raw, err := asyncapi.Generate(asyncapi.FromServices("shop", shop, audit))
	require.NoError(t, err)
	var doc struct {
		Operations map[string]struct {
			Action string
			Reply  map[string]any
		}
		Components struct{ Messages map[string]json.RawMessage }
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, "send", doc.Operations["send_com.example.order.placed.v2"].Action)
	assert.Equal(t, "receive", doc.Operations["receive_audit_com.example.order.placed.v2"].Action)
	assert.Equal(t, "receive", doc.Operations["receive_audit_com.example.order.placed.v1"].Action)
	assert.NotNil(t, doc.Operations["receive_shop_com.example.order.get.v1"].Reply)
	assert.Contains(t, doc.Components.Messages, "com.example.order.get.reply.v1")
}
