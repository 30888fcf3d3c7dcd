package driver

import (
	"context"
	"fmt"
	"sync"
)

// Once runs a drain or close once. The first caller runs it with its own
// ctx; a later caller waits for that run to finish, bounded by the later
// caller's ctx, and then gets the first run's result. Every backend's
// Subscription.Drain and Conn.Close behave so (a conformance contract).
// The zero value is ready to use.
type Once struct {
	mu      sync.Mutex
	started bool
	done    chan struct{}
	err     error
}

// Do runs f(ctx) on the first call and returns its error. Later calls wait
// until that first call has returned, or until their own ctx ends (then
// they return an error wrapping ctx.Err(); the first run goes on).
func (o *Once) Do(ctx context.Context, what string, f func(context.Context) error) error {
	o.mu.Lock()
	if o.done == nil {
		o.done = make(chan struct{})
	}
	first := !o.started
	o.started = true
	done := o.done
	o.mu.Unlock()
	if first {
		o.err = f(ctx)
		close(done)
		return o.err
	}
	select {
	case <-done: // finished already: its result, whatever ctx says
		return o.err
	default:
	}
	select {
	case <-done:
		return o.err
	case <-ctx.Done():
		return fmt.Errorf("busway: %s: waiting for the one already under way: %w", what, ctx.Err())
	}
}

// Done returns a channel closed once the first run of Do has returned.
func (o *Once) Done() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done == nil {
		o.done = make(chan struct{})
	}
	return o.done
}

// Started reports whether Do was called.
func (o *Once) Started() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.started
}
