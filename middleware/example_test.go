package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
)

// A route with the usual stack, on the in-memory backend: validation first,
// then in-process retries, each attempt with its own timeout.
func Example() {
	conn, err := membus.Open(membus.Options{})
	if err != nil {
		panic(err)
	}
	b := bus.New(conn, bus.Source("/shop"))
	defer b.Close(context.Background())

	done := make(chan struct{})
	handle := func(ctx context.Context, m *bus.Message) error {
		attempt := middleware.RetryAttempt(ctx)
		fmt.Printf("%s attempt %d, correlation %s\n", m.Event.Type, attempt, middleware.CorrelationID(ctx))
		if attempt < 2 {
			return errors.New("database busy")
		}
		close(done)
		return nil
	}
	requireData := func(m *bus.Message) error {
		if len(m.Event.Data) == 0 {
			return errors.New("empty order")
		}
		return nil
	}

	r := bus.NewRouter(b)
	r.Use(middleware.Correlation())
	r.HandleFunc("orders.*.created", handle, bus.Wrap(
		middleware.Validate(requireData),
		middleware.Retry(middleware.RetryConfig{MaxRetries: 2, Backoff: bus.ConstantBackoff(time.Millisecond)}),
		middleware.Timeout(time.Second),
	))
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	<-r.Running()

	m, _ := bus.NewJSON("orders.eu.created", "com.example.order.created.v1", map[string]int{"total": 42})
	m.Event.ID = "order-1"
	if err := b.Publish(context.Background(), m); err != nil {
		panic(err)
	}
	<-done
	stop()
	fmt.Println("router stopped:", <-ran)
	// Output:
	// com.example.order.created.v1 attempt 1, correlation order-1
	// com.example.order.created.v1 attempt 2, correlation order-1
	// router stopped: <nil>
}

func ExampleRetry() {
	calls := 0
	h := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		calls++
		if calls < 3 {
			return errors.New("database busy")
		}
		return nil
	})
	retry := middleware.Retry(middleware.RetryConfig{
		MaxRetries: 5,
		Backoff: bus.ExponentialBackoff{
			InitialInterval:     time.Millisecond,
			MaxInterval:         10 * time.Millisecond,
			RandomizationFactor: 0.2,
		},
		OnRetry: func(attempt int, err error) {
			fmt.Printf("attempt %d failed: %v\n", attempt, err)
		},
	})
	err := retry(h).Handle(context.Background(), bus.NewMessage("orders.eu.created", "com.example.order.created.v1", nil))
	fmt.Println("result:", err, "after", calls, "calls")
	// Output:
	// attempt 1 failed: database busy
	// attempt 2 failed: database busy
	// result: <nil> after 3 calls
}

func ExampleTimeout() {
	slow := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		<-ctx.Done() // a handler passes ctx on to its I/O
		return ctx.Err()
	})
	err := middleware.Timeout(20*time.Millisecond)(slow).Handle(context.Background(), &bus.Message{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, middleware.ErrHandlerTimeout), bus.IsPermanent(err))
	// Output:
	// busway: handler timed out after 20ms: context deadline exceeded
	// true false
}

func ExampleCorrelation() {
	in := bus.NewMessage("orders.eu.created", "com.example.order.created.v1", nil)
	in.Event.ID = "evt-1"

	h := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		out := bus.NewMessage("orders.eu.billed", "com.example.order.billed.v1", nil)
		middleware.Correlate(ctx, out)
		fmt.Println(out.Event.Extensions)
		return nil // a real handler would publish out
	})
	_ = middleware.Correlation()(h).Handle(context.Background(), in)
	// Output:
	// map[causationid:evt-1 correlationid:evt-1]
}

func ExampleCorrelate() {
	// At the edge of the system (an HTTP handler, a job), start a flow.
	ctx := middleware.WithCorrelationID(context.Background(), "req-42")
	m := bus.NewMessage("orders.eu.created", "com.example.order.created.v1", nil)
	middleware.Correlate(ctx, m)
	fmt.Println(m.Event.Extensions)
	// Output:
	// map[correlationid:req-42]
}

func ExampleLogging() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // vary from run to run
			}
			return a
		},
	}))
	m := bus.NewMessage("orders.eu.created", "com.example.order.created.v1", []byte(`{"card":"4111..."}`))
	m.Event.ID, m.Event.Source = "evt-1", "/shop"

	ok := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	_ = middleware.Logging(logger)(ok).Handle(context.Background(), m)
	invalid := bus.HandlerFunc(func(context.Context, *bus.Message) error { return bus.Permanent(errors.New("no customer")) })
	_ = middleware.Logging(logger)(invalid).Handle(context.Background(), m)
	// Output:
	// {"level":"DEBUG","msg":"busway: message handled","subject":"orders.eu.created","type":"com.example.order.created.v1","source":"/shop","event_id":"evt-1","attempt":0}
	// {"level":"DEBUG","msg":"busway: handler failed","subject":"orders.eu.created","type":"com.example.order.created.v1","source":"/shop","event_id":"evt-1","attempt":0,"error":"no customer","permanent":true}
}

func ExampleDedup() {
	h := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		fmt.Println("charging for", m.Event.ID)
		return nil
	})
	charge := middleware.Dedup(middleware.DedupConfig{TTL: 10 * time.Minute, MaxEntries: 100_000})(h)

	m := bus.NewMessage("orders.eu.created", "com.example.order.created.v1", nil)
	m.Event.ID, m.Event.Source = "order-1", "/shop"
	for range 3 { // a redelivered message
		_ = charge.Handle(context.Background(), m)
	}
	// Output:
	// charging for order-1
}

func ExampleFilter() {
	h := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		fmt.Println("handled", m.Event.Type)
		return nil
	})
	onlyV2 := middleware.Filter(func(m *bus.Message) bool {
		return m.Event.Type == "com.example.order.created.v2"
	})(h)
	for _, typ := range []string{"com.example.order.created.v1", "com.example.order.created.v2"} {
		_ = onlyV2.Handle(context.Background(), bus.NewMessage("orders.eu.created", typ, nil))
	}
	// Output:
	// handled com.example.order.created.v2
}

func ExampleValidate() {
	h := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	nonEmpty := middleware.Validate(func(m *bus.Message) error {
		if len(m.Event.Data) == 0 {
			return errors.New("empty data")
		}
		return nil
	})(h)
	m := bus.NewMessage("orders.eu.created", "com.example.order.created.v1", nil)
	m.Event.ID = "evt-1"
	err := nonEmpty.Handle(context.Background(), m)
	fmt.Println(err)
	fmt.Println("permanent:", bus.IsPermanent(err))
	// Output:
	// busway: event evt-1 (type com.example.order.created.v1) failed validation: empty data
	// permanent: true
}
