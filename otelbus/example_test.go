package otelbus_test

import (
	"context"
	"fmt"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// One option each turns on traces and metrics; here with an in-memory
// span recorder and a manual metric reader instead of exporters.
func Example() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	b, err := bus.Open(ctx, "mem://otelbus-example",
		otelbus.Tracing(otelbus.TracerProvider(tp)), otelbus.Metrics(otelbus.MeterProvider(mp)))
	if err != nil {
		panic(err)
	}
	m := bus.NewMessage("orders.placed", "com.example.order.placed.v1", []byte(`{}`))
	if err := b.Publish(ctx, m); err != nil {
		panic(err)
	}
	_ = b.Close(ctx)

	fmt.Println("span:", spans.Ended()[0].Name(), spans.Ended()[0].SpanKind())
	fmt.Println("traceparent written:", len(m.Event.Extensions["traceparent"]) == 55)
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, met := range sm.Metrics {
			if met.Name == "busway.messages.published" {
				fmt.Println(met.Name, met.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
			}
		}
	}
	// Output:
	// span: send producer
	// traceparent written: true
	// busway.messages.published 1
}
