package bus

import (
	"testing"

	"github.com/busway/busway/cloudevents"
)

// BenchmarkEncodeDecode breaks the bus's per-message cost into its parts:
// go test -run '^$' -bench EncodeDecode -cpu 1 ./bus
func BenchmarkEncodeDecode(b *testing.B) {
	bb := New(nil)
	data := make([]byte, 256)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m := NewMessage("bench.orders", "com.example.bench.v1", data)
			if _, err := bb.encode(b.Context(), m); err != nil {
				b.Fatal(err)
			}
		}
	})
	m := NewMessage("bench.orders", "com.example.bench.v1", data)
	dm, _ := bb.encode(b.Context(), m)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := bb.decode(dm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		ev := m.Event
		for i := 0; i < b.N; i++ {
			_ = ev.Validate()
		}
	})
	b.Run("cloudevents.Encode", func(b *testing.B) {
		ev := m.Event
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			h := make(map[string][]string, 8)
			_, _ = cloudevents.Encode(&ev, cloudevents.Binary, h)
		}
	})
	b.Run("fillDefaults", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m := Message{}
			m.fillDefaults("/src")
		}
	})
}
