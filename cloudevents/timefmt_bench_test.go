package cloudevents

import (
	"testing"
	"time"
)

// BenchmarkTimeFormat measures the timestamp fast paths Encode and Decode
// use: go test -run '^$' -bench TimeFormat ./cloudevents
func BenchmarkTimeFormat(b *testing.B) {
	tm := time.Date(2026, 11, 27, 17, 48, 29, 123456789, time.UTC)
	s := string(appendTime(nil, tm))
	b.Run("append", func(b *testing.B) {
		var buf [maxTimeLen]byte
		for b.Loop() {
			_ = appendTime(buf[:0], tm)
		}
	})
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, ok := parseCanonicalTime(s); !ok {
				b.Fatal(s)
			}
		}
	})
}
