package bus

import "testing"

// BenchmarkEncodeWithHeader is the encode step of a message carrying one
// transport header (say, a trace context set by a hook):
// go test -run '^$' -bench EncodeWithHeader -cpu 1 ./bus
func BenchmarkEncodeWithHeader(b *testing.B) {
	bb := New(nil)
	data := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		m := NewMessage("bench.orders", "com.example.bench.v1", data)
		m.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if _, err := bb.encode(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
}
