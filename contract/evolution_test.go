package contract_test

import (
	"testing"

	"github.com/busway/busway/contract"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type lineV1 struct {
	SKU   string `json:"sku"`
	Qty   int    `json:"qty"`
	Note  string `json:"note,omitempty"`
	Items []struct {
		Code string `json:"code"`
	} `json:"items"`
}

// lineV2Compatible only adds an optional field.
type lineV2Compatible struct {
	SKU   string `json:"sku"`
	Qty   int    `json:"qty"`
	Note  string `json:"note,omitempty"`
	Gift  bool   `json:"gift,omitempty"`
	Items []struct {
		Code string `json:"code"`
	} `json:"items"`
}

// lineV2Breaking removes note, retypes qty and items[].code, adds a required field.
type lineV2Breaking struct {
	SKU   string `json:"sku"`
	Qty   string `json:"qty"`
	Store string `json:"store"`
	Items []struct {
		Code int `json:"code"`
	} `json:"items"`
}

func TestCheckEvolution(t *testing.T) {
	v1 := contract.NewEvent[lineV1](d, "line", "added")
	ok := contract.NewEvent[lineV2Compatible](d, "line", "added", contract.Version(2))
	ev, err := contract.CheckEvolution(v1, ok)
	require.NoError(t, err)
	assert.Empty(t, ev.Breaks, ev.String())
	assert.True(t, ev.OK())

	bad := contract.NewEvent[lineV2Breaking](d, "line", "added", contract.Version(2))
	ev, err = contract.CheckEvolution(v1, bad)
	require.NoError(t, err)
	var got []string
	for _, b := range ev.Breaks {
		got = append(got, b.String())
	}
	assert.Equal(t, []string{
		"$.items[].code: retyped string -> integer",
		"$.note: removed",
		"$.qty: retyped integer -> string",
		"$.store: required added",
	}, got)
	assert.False(t, ev.OK(), "breaking and no upcaster")
	assert.Contains(t, ev.String(), "no upcaster is registered")

	covered := contract.NewEvent[lineV2Breaking](d, "line", "added", contract.Version(2),
		contract.From(1, func(v lineV1) (lineV2Breaking, error) { return lineV2Breaking{SKU: v.SKU}, nil }))
	ev, err = contract.CheckEvolution(v1, covered)
	require.NoError(t, err)
	assert.Len(t, ev.Breaks, 4)
	assert.True(t, ev.Upcastable)
	assert.True(t, ev.OK(), "an upcaster covers the break")
}
