package cqrs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/subject"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/middleware"
)

// ErrDuplicateHandler is wrapped by the error of a registration that
// would make one message type reach two handlers: a second handler for a
// command or query, or for an event type the service already handles.
var ErrDuplicateHandler = errors.New("cqrs: duplicate handler")

// ErrRegistration is wrapped by other registration errors (invalid
// declaration chain, registration after Run, nil handler).
var ErrRegistration = errors.New("cqrs: invalid registration")

// Service is one service's set of typed handlers on a bus. Register
// handlers with OnEvent, OnCommand and OnQuery, declare what it publishes
// with Sends, then Run it.
type Service struct {
	b      *bus.Bus
	d      *contract.Domain
	cfg    config
	router *bus.Router

	mu      sync.Mutex
	ran     bool
	routes  map[routeKey]*route
	order   []routeKey
	sends   []contract.Contract
	unknown map[string]uint64
}

// routeKey identifies one subscription: subject and group.
type routeKey struct{ subject, group string }

// New returns the service of domain d on b. Its name (d.Service()) is the
// consumer group of its event handlers and the owner of the commands and
// queries declared in d. New panics when the dead-letter subject is
// invalid (a programming error, found at startup).
func New(b *bus.Bus, d *contract.Domain, opts ...Option) *Service {
	cfg := config{deadLetter: d.Service() + ".dead"}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.deadLetter != "" {
		if err := subject.Validate(cfg.deadLetter); err != nil {
			panic(fmt.Sprintf("cqrs: service %s: dead-letter subject: %v", d.Service(), err))
		}
	}
	if cfg.logger == nil {
		cfg.logger = defaultLogger()
	}
	s := &Service{b: b, d: d, cfg: cfg, routes: map[routeKey]*route{}, unknown: map[string]uint64{}}
	s.router = bus.NewRouter(b, cfg.routerOpts...)
	return s
}

// Name returns the service name.
func (s *Service) Name() string { return s.d.Service() }

// Domain returns the service's domain.
func (s *Service) Domain() *contract.Domain { return s.d }

// Bus returns the bus the service runs on (for publishing from outside a
// handler).
func (s *Service) Bus() *bus.Bus { return s.b }

// Sends declares the types the service publishes, for Describe (and the
// AsyncAPI document generated from it). It does not restrict publishing.
func (s *Service) Sends(cs ...contract.Contract) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends = append(s.sends, cs...)
}

// Unknown returns how many event messages of each unhandled CloudEvents
// type the service acked under IgnoreUnknown (or dead-lettered without it).
func (s *Service) Unknown() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.unknown))
	for k, v := range s.unknown {
		out[k] = v
	}
	return out
}

// Running returns a channel closed once every subscription of a running
// service is in place (see bus.Router.Running).
func (s *Service) Running() <-chan struct{} { return s.router.Running() }

// Run subscribes every registered handler (one subscription per subject
// and group) and blocks until ctx ends or a subscription dies. Then it
// drains: in-flight handlers finish and every message is settled. It
// returns nil after a clean drain, else the first fatal error (see
// bus.Router.Run). A Service runs once.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return fmt.Errorf("%w: service %s already ran", bus.ErrClosed, s.Name())
	}
	s.ran = true
	for _, k := range s.order {
		s.router.Handle(k.subject, s.routes[k], s.subscribeOptions(k)...)
	}
	s.mu.Unlock()
	return s.router.Run(ctx)
}

// subscribeOptions are the options of route k.
func (s *Service) subscribeOptions(k routeKey) []bus.SubscribeOption {
	opts := []bus.SubscribeOption{bus.Group(k.group), bus.Wrap(middleware.Correlation(), withMessage)}
	if s.cfg.deadLetter != "" {
		opts = append(opts, bus.DeadLetter(s.cfg.deadLetter))
	}
	if s.cfg.setAttempts {
		opts = append(opts, bus.MaxAttempts(s.cfg.maxAttempts))
	}
	if s.cfg.setBackoff {
		opts = append(opts, bus.RetryBackoff(s.cfg.backoff))
	}
	return append(opts, s.cfg.subOpts...)
}

// Runner is what RunAll runs: a *Service, a *bus.Router, or anything that
// runs until ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// RunAll runs every runner until ctx ends or one of them fails; a failure
// stops the others (they drain). It returns the errors of all that
// failed, joined, or nil.
func RunAll(ctx context.Context, rs ...Runner) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			if errs[i] = r.Run(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

type messageKey struct{}

// withMessage puts the message being handled in the handler's context.
func withMessage(next bus.Handler) bus.Handler {
	return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		return next.Handle(context.WithValue(ctx, messageKey{}, m), m)
	})
}

// Message returns the message being handled, from a handler's context, or
// nil outside a handler. Publishing through a contract with that context
// sets correlationid and causationid on the follow-up automatically.
func Message(ctx context.Context) *bus.Message {
	m, _ := ctx.Value(messageKey{}).(*bus.Message)
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
