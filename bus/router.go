package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/busway/busway/bus/driver"
)

// Router runs a set of handlers on one Subscriber until its context ends,
// then shuts them down gracefully. Register routes with Handle, then call
// Run:
//
//	r := bus.NewRouter(b)
//	r.Use(middleware.Logging(logger))        // router-wide middleware
//	r.Handle("orders.*.created", h, bus.Group("billing"), bus.Concurrency(8))
//	err := r.Run(ctx)                       // blocks; drains when ctx ends
type Router struct {
	sub          Subscriber
	drainTimeout time.Duration
	logger       *slog.Logger

	mu      sync.Mutex
	mw      []Middleware
	routes  []route
	ran     bool
	running chan struct{}
}

type route struct {
	pattern string
	h       Handler
	opts    []SubscribeOption
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// DefaultDrainTimeout bounds how long Run waits for in-flight handlers
// after its context ends, unless DrainTimeout says otherwise.
const DefaultDrainTimeout = 30 * time.Second

// DrainTimeout sets how long Run waits for in-flight handlers after its
// context ends. Handlers still running then see their context cancelled.
func DrainTimeout(d time.Duration) RouterOption { return func(r *Router) { r.drainTimeout = d } }

// NewRouter returns a Router that subscribes through sub, usually a *Bus.
// It logs through the Bus's logger (see Logger), or slog.Default() when
// sub is not a *Bus.
func NewRouter(sub Subscriber, opts ...RouterOption) *Router {
	r := &Router{sub: sub, drainTimeout: DefaultDrainTimeout, logger: slog.Default(), running: make(chan struct{})}
	if b, ok := sub.(*Bus); ok {
		r.logger = b.logger()
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Use adds router-wide middleware, outermost first, around every route
// registered after or before it.
func (r *Router) Use(mws ...Middleware) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mw = append(r.mw, mws...)
}

// Handle registers h for subjects matching pattern. Options set the group,
// concurrency, per-route middleware, dead-letter subject and redelivery
// policy. Handle after Run has started panics.
func (r *Router) Handle(pattern string, h Handler, opts ...SubscribeOption) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ran {
		panic("busway: Router.Handle called after Run")
	}
	r.routes = append(r.routes, route{pattern: pattern, h: h, opts: opts})
}

// HandleFunc registers a function as the handler for pattern.
func (r *Router) HandleFunc(pattern string, f func(ctx context.Context, m *Message) error, opts ...SubscribeOption) {
	r.Handle(pattern, HandlerFunc(f), opts...)
}

// Running returns a channel closed once every route is subscribed, so a
// caller (or a test) can publish knowing the handlers will see it. When Run
// fails to subscribe, the channel is never closed: wait on Run's result
// too.
func (r *Router) Running() <-chan struct{} { return r.running }

// Run subscribes every route, then blocks until ctx ends or a route's
// subscription ends on its own (its backend side disappeared and could
// not be recreated: see Subscription.Err). Then it drains: no new intake,
// in-flight handlers finish (bounded by the drain timeout), each message
// is acked or handed back, nothing is dropped. It returns nil after a
// clean drain, the subscribe error when a route could not start, the
// error of a route that ended (wrapped, naming its pattern), each joined
// with the drain error of the routes it drained. A Router runs once; a
// second Run returns ErrClosed.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return fmt.Errorf("%w: router already ran", ErrClosed)
	}
	r.ran = true
	routes, mw := r.routes, r.mw
	r.mu.Unlock()

	subs := make([]*Subscription, 0, len(routes))
	for _, rt := range routes {
		opts := append([]SubscribeOption{Wrap(mw...)}, rt.opts...)
		s, err := r.sub.Subscribe(ctx, rt.pattern, rt.h, opts...)
		if err != nil {
			return errors.Join(err, r.drain(subs))
		}
		subs = append(subs, s)
	}
	close(r.running)
	r.logger.Debug("busway: router running", "routes", len(subs))
	endErr := r.wait(ctx, subs)
	return errors.Join(endErr, r.drain(subs))
}

// wait blocks until ctx ends (nil) or a subscription ends with an error
// (that error, naming the route).
func (r *Router) wait(ctx context.Context, subs []*Subscription) error {
	ended := make(chan *Subscription, len(subs))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	for _, s := range subs {
		wg.Go(func() {
			select {
			case <-s.Done():
				ended <- s
			case <-stop:
			}
		})
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-ended:
			if err := s.Err(); err != nil {
				return fmt.Errorf("busway: router: route %q ended: %w", s.Pattern(), err)
			}
			// Drained by someone else: the other routes run on.
		}
	}
}

func (r *Router) drain(subs []*Subscription) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.drainTimeout)
	defer cancel()
	if err := driver.DrainAll(ctx, subs); err != nil {
		return fmt.Errorf("busway: router drain: %w", err)
	}
	return nil
}
