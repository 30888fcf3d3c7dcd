package contract_test

import (
	"testing"

	"github.com/busway/busway/contract"
)

// BenchmarkDecode measures Decode of a current-version and of an upcast
// (v1) JSON payload: go test -bench Decode -benchmem ./contract/
func BenchmarkDecode(b *testing.B) {
	v1 := contract.NewEvent[placedV1](d, "order", "placed")
	v2 := contract.NewEvent[placedV2](d, "order", "placed", contract.Version(2), contract.From(1, upV1))
	cur, _ := v2.New(nil, placedV2{ID: "o-1", Cents: 100, Currency: "EUR"})
	old, _ := v1.New(nil, placedV1{ID: "o-1", Amount: 1})
	b.Run("current", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v2.Decode(cur); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("upcast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v2.Decode(old); err != nil {
				b.Fatal(err)
			}
		}
	})
}
