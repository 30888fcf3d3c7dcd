package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsExample runs the example on its default URL (embedded NATS),
// publishes ten orders (two rejected and dead-lettered), and scrapes
// /metrics and the health endpoints over HTTP.
func TestMetricsExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &syncbuf.Buffer{}
	a, err := start(ctx, defaultURL, "127.0.0.1:0", out)
	require.NoError(t, err)
	defer func() { assert.NoError(t, a.close(context.Background())) }()
	for i := range 10 {
		require.NoError(t, a.publish(ctx, i))
	}
	for a.handled.Load() < 10 { // 8 orders + 2 dead letters
		select {
		case <-a.done:
		case <-ctx.Done():
			t.Fatalf("handled %d of 10", a.handled.Load())
		}
	}
	base := "http://" + a.ln.Addr().String()
	code, body := scrape(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		"# TYPE busway_messages_published_total counter",
		`busway_messages_published_total{busway_backend="embedded",cloudevents_event_type="com.example.order.placed.v1"`,
		`busway_outcome="acked"`,
		`busway_outcome="dead_lettered"`,
		`messaging_destination_template="orders.*"`,
		"# TYPE busway_handler_duration_seconds histogram",
		"busway_handlers_in_flight",
	} {
		assert.True(t, strings.Contains(body, want), "/metrics lacks %s", want)
	}
	code, body = scrape(t, base+"/healthz/ready")
	assert.Equal(t, http.StatusOK, code, body)
	code, _ = scrape(t, base+"/healthz/live")
	assert.Equal(t, http.StatusOK, code)
}

// TestRunExitsAfterN: the -n flag's path ends by itself.
func TestRunExitsAfterN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &syncbuf.Buffer{}
	require.NoError(t, run(ctx, "mem://metrics-example", "127.0.0.1:0", 3, time.Millisecond, out))
	assert.Contains(t, out.String(), "handled 3 messages")
}

func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
