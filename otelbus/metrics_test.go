package otelbus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// sums returns, for the int64 sum metric name, the value per outcome
// label (or "" when the metric has none).
func sums(rm metricdata.ResourceMetrics, name string, key attribute.Key) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value(key)
				out[v.AsString()] += dp.Value
			}
		}
	}
	return out
}

func histCount(rm metricdata.ResourceMetrics, name string) uint64 {
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					n += dp.Count
				}
			}
		}
	}
	return n
}

// TestMetricsScriptedRun publishes N messages of which M fail once (then
// succeed) and K fail for good (dead-lettered), and reads each count back
// through a manual reader.
func TestMetricsScriptedRun(t *testing.T) {
	const n, retried, dead = 20, 5, 3
	ctx := t.Context()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b, err := bus.Open(ctx, "mem://TestMetricsScriptedRun", otelbus.Metrics(otelbus.MeterProvider(mp)))
	require.NoError(t, err)
	defer func() { _ = b.Close(context.Background()) }()

	settled := make(chan struct{}, n+dead)
	seen := map[string]int{}
	_, err = b.Subscribe(ctx, "orders.*", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		defer func() { settled <- struct{}{} }()
		seen[m.Event.ID]++
		switch {
		case m.Event.Type == "dead":
			return bus.Permanent(errors.New("bad order"))
		case m.Event.Type == "flaky" && seen[m.Event.ID] == 1:
			return errors.New("try again")
		}
		return nil
	}), bus.Group("billing"), bus.RetryBackoff(nil), bus.DeadLetter("dead.orders"))
	require.NoError(t, err)

	for i := range n {
		typ := "ok"
		switch {
		case i < retried:
			typ = "flaky"
		case i < retried+dead:
			typ = "dead"
		}
		require.NoError(t, b.Publish(ctx, bus.NewMessage("orders.created", typ, nil)))
	}
	for range n + retried { // every attempt ends in the handler
		select {
		case <-settled:
		case <-time.After(10 * time.Second):
			t.Fatal("handlers did not finish")
		}
	}
	require.NoError(t, b.Close(ctx)) // drains: every attempt is settled and observed

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	assert.Equal(t, map[string]int64{"": n}, sums(rm, "busway.messages.published", "error.type"))
	assert.Equal(t, map[string]int64{"acked": n - dead, "retried": retried, "dead_lettered": dead},
		sums(rm, "busway.messages.consumed", "busway.outcome"))
	assert.Equal(t, map[string]int64{"orders.*": n + retried}, sums(rm, "busway.messages.consumed", "messaging.destination.template"))
	assert.Equal(t, map[string]int64{"flaky": retried}, sums(rm, "busway.redeliveries", "cloudevents.event_type"))
	assert.Equal(t, map[string]int64{"billing": 0}, sums(rm, "busway.handlers.in_flight", "messaging.consumer.group.name"))
	assert.Equal(t, uint64(n+retried), histCount(rm, "busway.handler.duration"))
	assert.Equal(t, uint64(n), histCount(rm, "busway.publish.duration"))
}

// TestMetricsEventTypesAreBounded shows that event types past the cap are
// labelled "other".
func TestMetricsEventTypesAreBounded(t *testing.T) {
	ctx := t.Context()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b, err := bus.Open(ctx, "mem://TestMetricsEventTypesAreBounded",
		otelbus.Metrics(otelbus.MeterProvider(mp), otelbus.MaxEventTypes(2)))
	require.NoError(t, err)
	defer func() { _ = b.Close(context.Background()) }()
	for _, typ := range []string{"a", "b", "c", "d", "a"} {
		require.NoError(t, b.Publish(ctx, bus.NewMessage("x", typ, nil)))
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	assert.Equal(t, map[string]int64{"a": 2, "b": 1, "other": 2},
		sums(rm, "busway.messages.published", "cloudevents.event_type"))
}
