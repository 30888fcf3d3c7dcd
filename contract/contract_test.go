package contract_test

import (
	"context"
	"strings"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type placedV1 struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"` // whole euros
}

type placedV2 struct {
	ID       string `json:"id"`
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

func upV1(v placedV1) (placedV2, error) {
	return placedV2{ID: v.ID, Cents: int64(v.Amount) * 100, Currency: "EUR"}, nil
}

var d = contract.MustDomain("com.example", "orders")

func TestNaming(t *testing.T) {
	ev := contract.NewEvent[placedV2](d, "order", "placed", contract.Version(2), contract.From(1, upV1))
	assert.Equal(t, "com.example.order.placed.v2", ev.Type())
	assert.Equal(t, "orders.order.placed", ev.Subject())
	assert.Equal(t, []int{1, 2}, ev.Versions())
	m, err := ev.New(context.Background(), placedV2{ID: "o-1", Cents: 250, Currency: "EUR"})
	require.NoError(t, err)
	assert.Equal(t, "orders.order.placed", m.Subject)
	assert.Equal(t, "com.example.order.placed.v2", m.Event.Type)
	assert.Equal(t, "application/json", m.Event.DataContentType)
	assert.Equal(t, "urn:com.example:schema:com.example.order.placed.v2", m.Event.DataSchema)

	custom := contract.MustDomain("com.example", "orders",
		contract.Subjects(func(svc, entity, action string) string { return "evt." + svc + "." + action }),
		contract.SchemaBase("https://schemas.example.com/"))
	c := contract.NewCommand[placedV1](custom, "order", "place")
	assert.Equal(t, "evt.orders.place", c.Subject())
	assert.Equal(t, "orders", c.Owner())
	m, err = c.New(nil, placedV1{ID: "x"})
	require.NoError(t, err)
	assert.Equal(t, "https://schemas.example.com/com.example.order.place.v1.json", m.Event.DataSchema)
	explicit := contract.NewEvent[placedV1](d, "order", "placed", contract.Subject("legacy.placed"))
	assert.Equal(t, "legacy.placed", explicit.Subject())
}

func TestDeclarationErrors(t *testing.T) {
	_, err := contract.NewDomain("Com.Example", "orders")
	assert.ErrorIs(t, err, contract.ErrDeclaration)
	_, err = contract.NewDomain("com.example", "ord ers")
	assert.ErrorIs(t, err, contract.ErrDeclaration)
	cases := map[string][]contract.Option{
		"bad subject":       {contract.Subject("orders.*.placed")},
		"version 0":         {contract.Version(0)},
		"upcast from v2":    {contract.Version(2), contract.From(2, upV1)},
		"duplicate step":    {contract.Version(2), contract.From(1, upV1), contract.From(1, upV1)},
		"wrong target type": {contract.Version(2), contract.From(1, func(placedV1) (placedV1, error) { return placedV1{}, nil })},
		"gap":               {contract.Version(3), contract.From(1, upV1)},
		"protobuf non-pb":   {contract.Protobuf()},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := contract.DeclareEvent[placedV2](d, "order", "placed", opts...)
			require.ErrorIs(t, err, contract.ErrDeclaration)
			t.Log(err)
		})
	}
	assert.PanicsWithError(t, `contract: invalid declaration: event com.example.order.placed.v1: subject: `+
		`busway: invalid subject "orders.>": wildcard > in a subject to publish to`, func() {
		contract.NewEvent[placedV1](d, "order", "placed", contract.Subject("orders.>"))
	})
	_, err = contract.DeclareEvent[placedV1](d, "order", "placed", contract.Subject("orders.>"))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject)
}

func TestDecodeUpcastsAndRefuses(t *testing.T) {
	v1 := contract.NewEvent[placedV1](d, "order", "placed")
	v2 := contract.NewEvent[placedV2](d, "order", "placed", contract.Version(2), contract.From(1, upV1))
	type placedV3 struct{ ID string }
	v3 := contract.NewEvent[placedV3](d, "order", "placed", contract.Version(3))

	old, err := v1.New(nil, placedV1{ID: "o-1", Amount: 3})
	require.NoError(t, err)
	got, err := v2.Decode(old)
	require.NoError(t, err)
	assert.Equal(t, placedV2{ID: "o-1", Cents: 300, Currency: "EUR"}, got, "v1 upcast to v2")

	newer, err := v3.New(nil, placedV3{ID: "o-2"})
	require.NoError(t, err)
	_, err = v2.Decode(newer)
	require.ErrorIs(t, err, contract.ErrUnknownVersion)
	assert.True(t, bus.IsPermanent(err))
	assert.Contains(t, err.Error(), "com.example.order.placed.v3: this service knows v1, v2")

	m2, err := v2.New(nil, placedV2{ID: "o-3", Cents: 1})
	require.NoError(t, err)
	_, err = v1.Decode(m2)
	require.ErrorIs(t, err, contract.ErrUnknownVersion, "v2 bytes are never decoded into a v1 struct")
	assert.Contains(t, err.Error(), "com.example.order.placed.v2: this service knows v1")

	other := bus.NewMessage("orders.order.placed", "com.example.order.shipped.v1", []byte(`{}`))
	_, err = v2.Decode(other)
	require.ErrorIs(t, err, contract.ErrUnknownType)
	assert.True(t, bus.IsPermanent(err))
	assert.Contains(t, err.Error(), "com.example.order.shipped.v1")

	bad := bus.NewMessage("orders.order.placed", v2.Type(), []byte(`{"id":`))
	_, err = v2.Decode(bad)
	require.ErrorIs(t, err, contract.ErrDecode)
	assert.True(t, bus.IsPermanent(err))
}

func TestUpcastRegisteredLater(t *testing.T) {
	type placedV3 struct {
		ID    string `json:"id"`
		Cents int64  `json:"cents"`
	}
	v3, err := contract.DeclareEvent[placedV3](d, "order", "placed", contract.Version(3))
	require.NoError(t, err)
	require.NoError(t, contract.Upcast(v3, 1, upV1))
	assert.ErrorIs(t, v3.Check(), contract.ErrDeclaration, "v2->v3 missing: a gap")
	assert.Equal(t, []int{3}, v3.Versions(), "a broken chain reads nothing old")
	require.ErrorIs(t, contract.Upcast(v3, 2, func(v placedV1) (placedV3, error) { return placedV3{}, nil }),
		contract.ErrDeclaration, "v2 is placedV2 per the v1->v2 step")
	require.NoError(t, contract.Upcast(v3, 2, func(v placedV2) (placedV3, error) {
		return placedV3{ID: v.ID, Cents: v.Cents}, nil
	}))
	require.NoError(t, v3.Check())
	require.ErrorIs(t, contract.Upcast(v3, 2, func(v placedV2) (placedV3, error) { return placedV3{}, nil }),
		contract.ErrDeclaration, "duplicate step")
	v1 := contract.NewEvent[placedV1](d, "order", "placed")
	m, err := v1.New(nil, placedV1{ID: "o", Amount: 2})
	require.NoError(t, err)
	got, err := v3.Decode(m)
	require.NoError(t, err)
	assert.Equal(t, placedV3{ID: "o", Cents: 200}, got, "two steps")
}

func TestStrict(t *testing.T) {
	loose := contract.NewEvent[placedV1](d, "order", "placed")
	strict := contract.NewEvent[placedV1](d, "order", "placed", contract.Strict())
	m := bus.NewMessage("orders.order.placed", loose.Type(), []byte(`{"id":"o","amount":1,"extra":true}`))
	_, err := loose.Decode(m)
	require.NoError(t, err)
	_, err = strict.Decode(m)
	require.ErrorIs(t, err, contract.ErrDecode)
	assert.True(t, bus.IsPermanent(err))
	assert.Contains(t, err.Error(), "extra")
}

type validated struct {
	ID  string `json:"id" jsonschema:"minLength=3"`
	Qty int    `json:"qty" jsonschema:"minimum=1"`
}

func TestValidate(t *testing.T) {
	ev := contract.NewEvent[validated](d, "line", "added", contract.Validate())
	_, err := ev.New(nil, validated{ID: "ab", Qty: 1})
	require.Error(t, err, "publish side")
	_, err = ev.New(nil, validated{ID: "abc", Qty: 1})
	require.NoError(t, err)
	m := bus.NewMessage("orders.line.added", ev.Type(), []byte(`{"id":"abc","qty":0}`))
	_, err = ev.Decode(m)
	require.ErrorIs(t, err, contract.ErrDecode, "receive side")
	assert.True(t, bus.IsPermanent(err))
	off := contract.NewEvent[validated](d, "line", "added")
	_, err = off.Decode(m)
	require.NoError(t, err, "validation is off by default")
}

func TestSchema(t *testing.T) {
	ev := contract.NewEvent[placedV2](d, "order", "placed", contract.Version(2))
	s, err := ev.Schema()
	require.NoError(t, err)
	assert.Contains(t, string(s), `"$id":"urn:com.example:schema:com.example.order.placed.v2"`)
	assert.Contains(t, string(s), `"cents"`)
	info := ev.Info()
	assert.Equal(t, "contract_test.placedV2", info.GoType)
	assert.Equal(t, contract.KindEvent, info.Kind)
}

func TestProtobuf(t *testing.T) {
	ev := contract.NewEvent[*wrapperspb.StringValue](d, "note", "added", contract.Protobuf())
	m, err := ev.New(nil, wrapperspb.String("hello"))
	require.NoError(t, err)
	assert.Equal(t, "application/protobuf", m.Event.DataContentType)
	got, err := ev.Decode(m)
	require.NoError(t, err)
	assert.Equal(t, "hello", got.GetValue())
	m.Event.DataContentType = "application/json"
	_, err = ev.Decode(m)
	require.ErrorIs(t, err, contract.ErrDecode, "content type mismatch")
	_, err = contract.DeclareEvent[*wrapperspb.StringValue](d, "note", "added", contract.Protobuf(), contract.Strict())
	require.ErrorIs(t, err, contract.ErrDeclaration)
}

func TestCorrelationFromHandlerContext(t *testing.T) {
	ev := contract.NewEvent[placedV1](d, "order", "placed")
	in := bus.NewMessage("orders.order.place", "com.example.order.place.v1", nil)
	in.Event.ID = "cmd-1"
	var out *bus.Message
	h := middleware.Correlation()(bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		var err error
		out, err = ev.New(ctx, placedV1{ID: "o"})
		return err
	}))
	require.NoError(t, h.Handle(context.Background(), in))
	assert.Equal(t, "cmd-1", out.Event.Extensions[middleware.CorrelationIDExtension])
	assert.Equal(t, "cmd-1", out.Event.Extensions[middleware.CausationIDExtension])
}

func TestQueryDeclaration(t *testing.T) {
	type getQ struct{ ID string }
	type view struct{ Status string }
	q := contract.NewQuery[getQ, view](d, "order", "get")
	assert.Equal(t, "com.example.order.get.v1", q.Type())
	assert.Equal(t, "com.example.order.get.reply.v1", q.ReplyType())
	assert.Equal(t, "orders.order.get", q.Subject())
	r, err := q.NewReply(nil, view{Status: "placed"})
	require.NoError(t, err)
	got, err := q.DecodeReply(r)
	require.NoError(t, err)
	assert.Equal(t, "placed", got.Status)
	assert.Equal(t, "com.example.order.get.reply.v1", q.Info().ReplyType)
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]string{"a.b.v2": "a.b 2", "a.b.v0": "", "a.b.v02": "", "a.b": "", "v1": ""} {
		base, v, ok := contract.ParseType(in)
		got := ""
		if ok {
			got = base + " " + strings.TrimSpace(string(rune('0'+v)))
		}
		assert.Equal(t, want, got, in)
	}
}

// Validate checks the schema, not unknown fields: an added field is a
// compatible change unless the declaration is Strict.
func TestValidateAllowsAddedFields(t *testing.T) {
	ev := contract.NewEvent[validated](d, "line", "added", contract.Validate())
	m := bus.NewMessage("orders.line.added", ev.Type(), []byte(`{"id":"abc","qty":1,"gift":true}`))
	_, err := ev.Decode(m)
	require.NoError(t, err)
	strict := contract.NewEvent[validated](d, "line", "added", contract.Validate(), contract.Strict())
	_, err = strict.Decode(m)
	require.ErrorIs(t, err, contract.ErrDecode)
}
