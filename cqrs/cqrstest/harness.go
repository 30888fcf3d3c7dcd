package cqrstest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

// DefaultTimeout bounds how long the harness waits for the bus to become
// idle or a service to start, before it fails the test.
const DefaultTimeout = 10 * time.Second

// Harness runs services on a private in-process bus and records what
// happens on it. It is safe for concurrent use.
type Harness struct {
	t       testing.TB
	b       *bus.Bus
	conn    *membus.Conn
	timeout time.Duration
	attempt int // MaxAttempts given to services (0: cqrs default)
	svcSeq  atomic.Int64
	logger  *slog.Logger

	mu        sync.Mutex
	published []*Published
	handled   []*Handling
	inputs    map[string]bool // event ids the test itself published
}

// Option configures a Harness.
type Option func(*Harness)

// Timeout sets how long WaitIdle and Run wait before failing the test
// (default DefaultTimeout).
func Timeout(d time.Duration) Option { return func(h *Harness) { h.timeout = d } }

// MaxAttempts sets the attempts services built with Options get before a
// failure is final (default: the cqrs default).
func MaxAttempts(n int) Option { return func(h *Harness) { h.attempt = n } }

// Logger sets the bus's logger (default: errors only, to stderr; the
// harness reports retries and dead letters itself).
func Logger(l *slog.Logger) Option { return func(h *Harness) { h.logger = l } }

// New opens a private mem:// bus for t, closed when t ends, and starts
// recording every message published on it.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	h := &Harness{t: t, timeout: DefaultTimeout, inputs: map[string]bool{},
		logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	for _, o := range opts {
		o(h)
	}
	b, err := bus.Open(t.Context(), "mem://", bus.Source("/cqrstest"), bus.Logger(h.logger))
	if err != nil {
		t.Fatalf("cqrstest: open mem bus: %v", err)
	}
	h.b = b
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("cqrstest: close bus: %v", err)
		}
	})
	if !b.As(&h.conn) {
		t.Fatalf("cqrstest: the mem bus has no *membus.Conn")
	}
	if _, err := b.Subscribe(t.Context(), ">", bus.HandlerFunc(h.spy)); err != nil {
		t.Fatalf("cqrstest: subscribe the recorder: %v", err)
	}
	return h
}

// Bus returns the harness's bus, to build services on.
func (h *Harness) Bus() *bus.Bus { return h.b }

// Options returns the cqrs options a service under test must be built
// with: one message at a time per subscription, retries without delay,
// every attempt recorded. Add them after the service's own options.
func (h *Harness) Options() []cqrs.Option {
	return h.options(fmt.Sprint("service-", h.svcSeq.Add(1)))
}

// options are Options with the attempts recorded under name.
func (h *Harness) options(name string) []cqrs.Option {
	opts := []cqrs.Option{
		cqrs.RetryBackoff(bus.ConstantBackoff(0)),
		cqrs.SubscribeOptions(bus.Concurrency(1), bus.Wrap(h.recorder(name))),
	}
	if h.attempt > 0 {
		opts = append(opts, cqrs.MaxAttempts(h.attempt))
	}
	return opts
}

// Service returns cqrs.New(h.Bus(), d, opts...) with the harness's Options.
func (h *Harness) Service(d *contract.Domain, opts ...cqrs.Option) *cqrs.Service {
	return cqrs.New(h.b, d, append(opts, h.options(d.Service())...)...)
}

// Run starts the services (built with Options) and returns once every one
// is subscribed. They stop, draining, when the test ends; a service that
// failed fails the test.
func (h *Harness) Run(svcs ...*cqrs.Service) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runners := make([]cqrs.Runner, len(svcs))
	for i, s := range svcs {
		runners[i] = s
	}
	done := make(chan error, 1)
	go func() { done <- cqrs.RunAll(ctx, runners...) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("cqrstest: services stopped with an error: %v", err)
		}
	})
	deadline := time.NewTimer(h.timeout)
	defer deadline.Stop()
	for _, s := range svcs {
		select {
		case <-s.Running():
		case err := <-done:
			done <- err // for the cleanup
			h.t.Fatalf("cqrstest: service %s did not start: %v", s.Name(), err)
		case <-deadline.C:
			h.t.Fatalf("cqrstest: service %s did not start within %v", s.Name(), h.timeout)
		}
	}
}

// WaitIdle returns once no message is queued, being handled or waiting
// for redelivery on the bus; it fails the test after the harness timeout.
// Every assertion calls it first.
func (h *Harness) WaitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	if err := h.conn.WaitIdle(ctx); err != nil {
		h.t.Fatalf("cqrstest: bus not idle: %v\n%s", err, h.Report())
	}
}

// publish sends m, marked as the test's own input, failing the test on error.
func (h *Harness) publish(m *bus.Message, err error) {
	h.t.Helper()
	if err == nil {
		err = h.b.Publish(h.t.Context(), m)
	}
	if err != nil {
		h.t.Fatalf("cqrstest: publish: %v", err)
	}
	h.mu.Lock()
	h.inputs[m.Event.ID] = true
	h.mu.Unlock()
}

// Send sends command value v as the test's input (not reported by
// AssertNothingElsePublished).
func Send[T any](h *Harness, c *contract.Command[T], v T) {
	h.t.Helper()
	h.publish(c.New(h.t.Context(), v))
}

// Publish publishes event value v as the test's input.
func Publish[T any](h *Harness, e *contract.Event[T], v T) {
	h.t.Helper()
	h.publish(e.New(h.t.Context(), v))
}

// Query sends query v and returns the typed reply, failing the test when
// the request fails. Use q.Request(ctx, h.Bus(), v) to check an error.
func Query[Q, R any](h *Harness, q *contract.Query[Q, R], v Q) R {
	h.t.Helper()
	r, err := q.Request(h.t.Context(), h.b, v)
	if err != nil {
		var remote *bus.RemoteError
		if errors.As(err, &remote) {
			h.t.Fatalf("cqrstest: query %s: the handler failed: %v", q.Type(), err)
		}
		h.t.Fatalf("cqrstest: query %s: %v", q.Type(), err)
	}
	return r
}
