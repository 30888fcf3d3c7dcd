package main

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the README's main command's code on its default URL
// (an embedded NATS server with JetStream) and on mem://, so CI proves the
// example works on a machine with nothing installed.
func TestQuickstart(t *testing.T) {
	for _, url := range []string{defaultURL, "mem://quickstart-test"} {
		t.Run(url, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := &syncbuf.Buffer{}
			require.NoError(t, run(ctx, url, out))
			got := out.String()
			assert.Contains(t, got, "billing: charged o-1 19.99 (event com.example.order.placed.v1, attempt 1)")
			assert.Contains(t, got, "shipping: saw o-1 on orders.eu.placed")
			assert.Contains(t, got, "shipping: saw o-2 on orders.eu.placed")
			assert.Contains(t, got, "from orders.eu.placed: order o-2: negative amount")
			assert.Contains(t, got, "pricing: book-42 costs 1299 cents")
			assert.NotContains(t, got, "billing: charged o-2", "a permanent failure is not retried into success")
		})
	}
}
