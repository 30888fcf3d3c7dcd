package asyncapi_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/busway/busway/asyncapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// orderSchema is shaped like github.com/invopop/jsonschema's output: the
// root refers to a definition under $defs.
const orderSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:x","$ref":"#/$defs/OrderPlaced",
 "$defs":{"OrderPlaced":{"type":"object","properties":{"order_id":{"type":"string"},"lines":{"type":"array","items":{"$ref":"#/$defs/Line"}}},"required":["order_id"]},
 "Line":{"type":"object","properties":{"sku":{"type":"string"}}}}}`

func model() asyncapi.Model {
	obj := []byte(`{"type":"object","properties":{"id":{"type":"string"}}}`)
	return asyncapi.Model{
		Service: "orders", Version: "1.0.0", Description: "The order service.",
		Registrations: []asyncapi.Registration{
			{Kind: asyncapi.Command, Action: asyncapi.Receive, Type: "com.example.orders.order.place.v1", Subject: "orders.order.place", Group: "orders", GoType: "PlaceOrder", Schema: obj},
			{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "com.example.orders.order.placed.v2", Subject: "orders.order.placed", GoType: "OrderPlaced", DataSchema: "urn:com.example:schema:com.example.orders.order.placed.v2", Schema: []byte(orderSchema)},
			{Kind: asyncapi.Event, Action: asyncapi.Receive, Type: "com.example.orders.order.placed.v2", Subject: "orders.order.placed", Group: "billing", Schema: []byte(orderSchema)},
			{Kind: asyncapi.Event, Action: asyncapi.Receive, Type: "com.example.orders.order.shipped.v1", Subject: "orders.*.shipped", Group: "billing"},
			{Kind: asyncapi.Query, Action: asyncapi.Receive, Type: "com.example.orders.order.get.v1", Subject: "orders.order.get", Schema: obj,
				Reply: &asyncapi.Reply{Type: "com.example.orders.order.v1", GoType: "Order", Schema: obj}},
		},
	}
}

// TestGenerateGolden pins the generated document (go test ./asyncapi
// -update rewrites it; scripts/check-asyncapi.sh validates it with AsyncAPI's
// parser in CI).
func TestGenerateGolden(t *testing.T) {
	got, err := asyncapi.Generate(model())
	require.NoError(t, err)
	golden := filepath.Join("testdata", "orders.asyncapi.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// TestGenerateStructure checks the mapping: channels are subjects (wildcards
// become parameters), messages are CloudEvents types with their schemas and
// headers, operations send/receive, a query has a reply, and schema
// definitions resolve inside the document.
func TestGenerateStructure(t *testing.T) {
	raw, err := asyncapi.Generate(model())
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.Equal(t, "3.0.0", d["asyncapi"])

	ch := get(t, d, "channels", "orders.any.shipped")
	assert.Equal(t, "orders.{token2}.shipped", ch["address"])
	assert.Contains(t, ch["parameters"], "token2")

	msg := get(t, d, "components", "messages", "com.example.orders.order.placed.v2")
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/OrderPlaced"}, msg["payload"])
	hdr := msg["headers"].(map[string]any)["properties"].(map[string]any)
	assert.Equal(t, "com.example.orders.order.placed.v2", hdr["ce-type"].(map[string]any)["const"])
	assert.Equal(t, "urn:com.example:schema:com.example.orders.order.placed.v2", hdr["ce-dataschema"].(map[string]any)["const"])
	line := get(t, d, "components", "schemas", "OrderPlaced", "properties", "lines", "items")
	assert.Equal(t, "#/components/schemas/Line", line["$ref"])

	assert.Equal(t, "send", get(t, d, "operations", "send_com.example.orders.order.placed.v2")["action"])
	assert.Equal(t, "receive", get(t, d, "operations", "receive_billing_com.example.orders.order.placed.v2")["action"])
	reply := get(t, d, "operations", "receive_com.example.orders.order.get.v1", "reply")
	assert.Equal(t, map[string]any{"$ref": "#/channels/orders.order.get_reply"}, reply["channel"])
	assert.Nil(t, get(t, d, "channels", "orders.order.get_reply")["address"])
}

// TestGenerateRejects shows the model errors.
func TestGenerateRejects(t *testing.T) {
	for name, m := range map[string]asyncapi.Model{
		"no service": {},
		"no subject": {Service: "s", Registrations: []asyncapi.Registration{{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "t"}}},
		"bad action": {Service: "s", Registrations: []asyncapi.Registration{{Kind: asyncapi.Event, Action: "eat", Type: "t", Subject: "a"}}},
		"bad schema": {Service: "s", Registrations: []asyncapi.Registration{{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "t", Subject: "a", Schema: []byte("[")}}},
		"twice": {Service: "s", Registrations: []asyncapi.Registration{
			{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "t", Subject: "a"},
			{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "t", Subject: "b"}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := asyncapi.Generate(m)
			assert.True(t, errors.Is(err, asyncapi.ErrInvalidModel), "%v", err)
		})
	}
}

// TestSchemaNameClash: two types whose schemas use one definition name
// for different shapes keep both, under distinct names.
func TestSchemaNameClash(t *testing.T) {
	a := []byte(`{"$ref":"#/$defs/V","$defs":{"V":{"type":"string"}}}`)
	b := []byte(`{"$ref":"#/$defs/V","$defs":{"V":{"type":"integer"}}}`)
	raw, err := asyncapi.Generate(asyncapi.Model{Service: "s", Registrations: []asyncapi.Registration{
		{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "a.v1", Subject: "a", Schema: a},
		{Kind: asyncapi.Event, Action: asyncapi.Send, Type: "b.v1", Subject: "b", Schema: b},
	}})
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.Unmarshal(raw, &d))
	schemas := get(t, d, "components", "schemas")
	assert.Len(t, schemas, 2)
	pa := get(t, d, "components", "messages", "a.v1")["payload"].(map[string]any)["$ref"].(string)
	pb := get(t, d, "components", "messages", "b.v1")["payload"].(map[string]any)["$ref"].(string)
	assert.NotEqual(t, pa, pb)
}

func get(t *testing.T, d map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := d
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		require.True(t, ok, "no object at %v (stopped at %q)", path, p)
		cur = next
	}
	return cur
}
