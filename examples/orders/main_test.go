package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite testdata/output.golden")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExampleOutput runs the README's main command's code on its default
// URL (embedded NATS with JetStream) and on mem://, and compares what it
// prints with testdata/output.golden: the same on both, on every run.
func TestExampleOutput(t *testing.T) {
	golden := filepath.Join("testdata", "output.golden")
	for _, url := range []string{defaultURL, "mem://orders-example"} {
		t.Run(url, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := &syncbuf.Buffer{}
			require.NoError(t, run(ctx, url, out))
			if *update && url == defaultURL {
				require.NoError(t, os.WriteFile(golden, []byte(out.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), out.String())
		})
	}
}

// TestAsyncAPIFlag writes the AsyncAPI document (CI validates it with
// scripts/check-asyncapi.sh): every service's operations are in it.
func TestAsyncAPIFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "orders.json")
	require.NoError(t, writeAsyncAPI(t.Context(), file))
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc struct {
		AsyncAPI   string
		Operations map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, "3.0.0", doc.AsyncAPI)
	for _, op := range []string{
		"receive_orders_com.example.order.place.v1",
		"receive_orders_com.example.order.get.v1",
		"send_com.example.order.placed.v2",
		"receive_billing_com.example.order.placed.v2",
		"receive_billing_com.example.order.placed.v1",
		"receive_shipping_com.example.order.placed.v2",
	} {
		assert.Contains(t, doc.Operations, op)
	}
}
