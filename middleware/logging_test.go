package middleware_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBuffer is a concurrency-safe buffer of JSON log lines.
type logBuffer struct{ syncbuf.Buffer }

// records decodes every line written so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

func newLogger(level slog.Level) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level})), buf
}

func TestLoggingSuccessAtDebug(t *testing.T) {
	logger, buf := newLogger(slog.LevelDebug)
	m := event("e1")
	m.Event.Extensions = map[string]string{middleware.CorrelationIDExtension: "flow-1"}
	require.NoError(t, middleware.Logging(logger)(&counter{}).Handle(context.Background(), m))

	recs := buf.records(t)
	require.Len(t, recs, 1)
	rec := recs[0]
	assert.Equal(t, "DEBUG", rec["level"])
	assert.Equal(t, "busway: message handled", rec["msg"])
	assert.Equal(t, "orders.created", rec["subject"])
	assert.Equal(t, "com.example.order.created.v1", rec["type"])
	assert.Equal(t, "/test", rec["source"])
	assert.Equal(t, "e1", rec["event_id"])
	assert.Equal(t, 0.0, rec["attempt"], "a message built by hand has attempt 0")
	assert.Equal(t, "flow-1", rec["correlation_id"])
	assert.IsType(t, 0.0, rec["duration"], "duration in nanoseconds")
	assert.NotContains(t, rec, "error")
	assert.NotContains(t, rec, "retry_attempt")
	b, _ := json.Marshal(rec)
	assert.NotContains(t, string(b), "secret", "the payload is not logged")
}

// Failures are logged at Debug too: the bus logs each failure once, at
// Warn or Error (see TestFailureLoggedOnceWithLoggingOnBus).
func TestLoggingFailures(t *testing.T) {
	for _, tc := range []struct {
		err       error
		level     string
		permanent bool
	}{
		{errTransient, "DEBUG", false},
		{bus.Permanent(errTransient), "DEBUG", true},
	} {
		t.Run(fmt.Sprint(tc.permanent), func(t *testing.T) {
			logger, buf := newLogger(slog.LevelDebug)
			h := &counter{fn: func(context.Context, int) error { return tc.err }}
			err := middleware.Logging(logger)(h).Handle(context.Background(), event("e1"))
			assert.Equal(t, tc.err, err, "the error is returned unchanged")

			recs := buf.records(t)
			require.Len(t, recs, 1)
			assert.Equal(t, tc.level, recs[0]["level"])
			assert.Equal(t, "busway: handler failed", recs[0]["msg"])
			assert.Equal(t, "transient", recs[0]["error"])
			assert.Equal(t, tc.permanent, recs[0]["permanent"])
			assert.Equal(t, "e1", recs[0]["event_id"])
		})
	}
}

func TestLoggingSkipsDisabledLevels(t *testing.T) {
	logger, buf := newLogger(slog.LevelInfo)
	require.NoError(t, middleware.Logging(logger)(&counter{}).Handle(context.Background(), event("e1")))
	require.Error(t, middleware.Logging(logger)(&counter{fn: func(context.Context, int) error {
		return bus.Permanent(errTransient)
	}}).Handle(context.Background(), event("e2")))
	assert.Empty(t, buf.records(t), "successes and failures are Debug")
}

func TestLoggingCorrelationFromContext(t *testing.T) {
	logger, buf := newLogger(slog.LevelDebug)
	h := bus.Chain(&counter{}, middleware.Correlation(), middleware.Logging(logger))
	require.NoError(t, h.Handle(context.Background(), event("e1")))
	assert.Equal(t, "e1", buf.records(t)[0]["correlation_id"])
}

// Inside Retry, Logging writes one record per in-process attempt.
func TestLoggingInsideRetry(t *testing.T) {
	logger, buf := newLogger(slog.LevelDebug)
	h := &counter{fn: func(_ context.Context, call int) error {
		if call == 1 {
			return errTransient
		}
		return nil
	}}
	handler := bus.Chain(h, middleware.Retry(middleware.RetryConfig{MaxRetries: 1}), middleware.Logging(logger))
	require.NoError(t, handler.Handle(context.Background(), event("e1")))
	recs := buf.records(t)
	require.Len(t, recs, 2)
	assert.Equal(t, []any{1.0, 2.0}, []any{recs[0]["retry_attempt"], recs[1]["retry_attempt"]})
	assert.Equal(t, []any{"DEBUG", "DEBUG"}, []any{recs[0]["level"], recs[1]["level"]})
	assert.Equal(t, "transient", recs[0]["error"])
}

// Through the bus the record carries the delivery attempt.
func TestLoggingOnBus(t *testing.T) {
	b := newBus(t)
	logger, buf := newLogger(slog.LevelDebug)
	results := make(chan result, 4)
	h := &counter{fn: func(_ context.Context, call int) error {
		if call == 1 {
			return fmt.Errorf("first: %w", errTransient)
		}
		return nil
	}}
	_, err := b.Subscribe(context.Background(), "orders.>", h, noBackoff,
		bus.Wrap(observe(results), middleware.Logging(logger)))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), event("e1")))
	recv(t, results)
	recv(t, results)

	recs := buf.records(t)
	require.Len(t, recs, 2)
	assert.Equal(t, "DEBUG", recs[0]["level"])
	assert.Equal(t, 1.0, recs[0]["attempt"])
	assert.Equal(t, "first: transient", recs[0]["error"])
	assert.Equal(t, false, recs[0]["permanent"])
	assert.Equal(t, "DEBUG", recs[1]["level"])
	assert.Equal(t, 2.0, recs[1]["attempt"])
	assert.Equal(t, "e1", recs[1]["event_id"])
}

// Under Logging on a bus, each failure is logged once (by the bus, which
// knows what happens to the message next), with event id, subject, group,
// attempt and error, and the dead-letter subject when dead-lettered.
func TestFailureLoggedOnceWithLoggingOnBus(t *testing.T) {
	logger, buf := newLogger(slog.LevelInfo)
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	b := bus.New(conn, bus.Logger(logger))
	t.Cleanup(func() { require.NoError(t, b.Close(context.Background())) })
	dead := collect(t, b, "dead.orders")
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	_, err = b.Subscribe(context.Background(), "orders.>", h, noBackoff, bus.Group("billing"),
		bus.MaxAttempts(2), bus.DeadLetter("dead.orders"), bus.Wrap(middleware.Logging(logger)))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), event("e1")))
	recv(t, dead)

	of := func() []map[string]any {
		var out []map[string]any
		for _, r := range buf.records(t) {
			if r["event_id"] == "e1" {
				out = append(out, r)
			}
		}
		return out
	}
	require.Eventually(t, func() bool {
		recs := of()
		return len(recs) > 0 && recs[len(recs)-1]["dead_letter"] == "dead.orders"
	}, 5*time.Second, time.Millisecond, "the dead letter is logged")
	recs := of()
	require.Len(t, recs, 2, "one record per failure: %v", recs)
	for i, r := range recs {
		assert.Equal(t, "orders.created", r["subject"])
		assert.Equal(t, "billing", r["group"])
		assert.Equal(t, float64(i+1), r["attempt"])
		assert.Equal(t, "transient", r["error"])
	}
	assert.Equal(t, "busway: message dead-lettered", recs[1]["msg"])
}
