package middleware_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
)

// Per-message cost of each middleware around a handler that succeeds,
// without a backend: what the middleware adds to the bus's own cost.
func BenchmarkMiddleware(b *testing.B) {
	ok := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	quiet := slog.New(slog.DiscardHandler)
	for _, bc := range []struct {
		name string
		mw   bus.Middleware
	}{
		{"Retry", middleware.Retry(middleware.RetryConfig{MaxRetries: 3, Backoff: bus.ConstantBackoff(time.Millisecond)})},
		{"Timeout", middleware.Timeout(time.Second)},
		{"Correlation", middleware.Correlation()},
		{"Logging/discarded", middleware.Logging(quiet)},
		{"Dedup", middleware.Dedup(middleware.DedupConfig{MaxEntries: 1 << 16})},
		{"Filter", middleware.Filter(func(*bus.Message) bool { return true })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.mw(ok)
			msgs := make([]*bus.Message, 1024)
			for i := range msgs {
				msgs[i] = event(strconv.Itoa(i))
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m := msgs[i%len(msgs)]
				m.Event.ID = strconv.Itoa(i) // a new event each time for Dedup
				_ = h.Handle(ctx, m)
				i++
			}
		})
	}
}
