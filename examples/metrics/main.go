package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	_ "github.com/busway/busway/backends/membus"           // mem://
	_ "github.com/busway/busway/backends/natsbus/embedded" // embedded:// (in-process NATS)
	"github.com/busway/busway/bus"
	"github.com/busway/busway/otelbus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// defaultURL runs on an in-process NATS server with JetStream.
const defaultURL = "embedded://?stream=METRICS&subjects=orders.>,dead.>"

func main() {
	url := flag.String("url", defaultURL, "bus URL")
	addr := flag.String("addr", "127.0.0.1:9464", "HTTP address for /metrics and /healthz/*")
	n := flag.Int("n", 0, "exit after this many messages were handled (0: run until interrupted)")
	every := flag.Duration("every", time.Second, "publish interval")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *addr, *n, *every, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

// app is the running example: a bus with metrics and an HTTP server.
type app struct {
	bus     *bus.Bus
	srv     *http.Server
	ln      net.Listener
	handled atomic.Int64
	done    chan struct{} // a message was handled
}

// start opens the bus with otelbus.Metrics exporting to a Prometheus
// registry, subscribes the handlers and serves HTTP on addr.
func start(ctx context.Context, url, addr string, out io.Writer) (*app, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bus.Open(ctx, url, bus.Logger(logger), otelbus.Metrics(otelbus.MeterProvider(mp)),
		bus.OnConnectionEvent(func(ev bus.ConnectionEvent) { fmt.Fprintf(out, "connection: %s %s\n", ev.Kind, ev.Server) }))
	if err != nil {
		return nil, err
	}
	a := &app{bus: b, done: make(chan struct{}, 1024)}
	if err := a.subscribe(ctx); err != nil {
		return nil, errors.Join(err, b.Close(ctx))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/healthz/ready", b.ReadyHandler())
	mux.Handle("/healthz/live", b.LiveHandler())
	if a.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, errors.Join(err, b.Close(ctx))
	}
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(a.ln) }()
	fmt.Fprintf(out, "serving http://%s/metrics, /healthz/ready, /healthz/live\n", a.ln.Addr())
	return a, nil
}

// rejectedType is the event type the billing handler fails for good.
const rejectedType = "com.example.order.rejected.v1"

// subscribe handles orders (every fifth fails for good and goes to the
// dead-letter subject) and counts the dead letters as handled too.
func (a *app) subscribe(ctx context.Context) error {
	handled := func() { a.handled.Add(1); a.done <- struct{}{} }
	_, err := a.bus.Subscribe(ctx, "orders.*", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if m.Event.Type == rejectedType {
			return bus.Permanent(errors.New("order rejected"))
		}
		handled()
		return nil
	}), bus.Group("billing"), bus.DeadLetter("dead.orders"))
	if err != nil {
		return err
	}
	_, err = a.bus.Subscribe(ctx, "dead.orders", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		handled()
		return nil
	}), bus.Group("audit"))
	return err
}

// publish publishes order number i.
func (a *app) publish(ctx context.Context, i int) error {
	typ := "com.example.order.placed.v1"
	if i%5 == 4 {
		typ = rejectedType
	}
	return a.bus.Publish(ctx, bus.NewMessage("orders.placed", typ, []byte(fmt.Sprintf(`{"order":%d}`, i))))
}

// close stops the HTTP server and closes the bus.
func (a *app) close(ctx context.Context) error {
	return errors.Join(a.srv.Shutdown(ctx), a.bus.Close(ctx))
}

// run publishes one order per interval until n messages were handled
// (n > 0) or ctx ends.
func run(ctx context.Context, url, addr string, n int, every time.Duration, out io.Writer) error {
	a, err := start(ctx, url, addr, out)
	if err != nil {
		return err
	}
	defer func() { _ = a.close(context.WithoutCancel(ctx)) }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; n <= 0 || a.handled.Load() < int64(n); {
		select {
		case <-ctx.Done():
			return nil
		case <-a.done:
		case <-tick.C:
			if err := a.publish(ctx, i); err != nil {
				return err
			}
			i++
		}
	}
	fmt.Fprintf(out, "handled %d messages\n", a.handled.Load())
	return nil
}
