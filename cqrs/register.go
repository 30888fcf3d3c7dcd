package cqrs

import (
	"context"
	"fmt"
	"slices"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
)

// entry is one registered handler.
type entry struct {
	info   contract.Info
	group  string
	handle func(ctx context.Context, m *bus.Message) error
}

// OnEvent registers fn for event ev in service s (group: the service
// name). Messages of ev's current version and of every version with an
// upcaster chain reach fn decoded and upcast to T. Handlers of one
// subject share one subscription and are picked by CloudEvents type, so
// a handler for v1 (declared separately) and one for v2 each get exactly
// their events: an exact version match wins over an upcast one.
// Registering a second handler for a type the service already handles the
// same way is ErrDuplicateHandler.
func OnEvent[T any](s *Service, ev *contract.Event[T], fn func(ctx context.Context, v T) error) error {
	if ev == nil || fn == nil {
		return fmt.Errorf("%w: nil event or handler", ErrRegistration)
	}
	if err := ev.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	return s.register(ev.Info(), s.Name(), func(ctx context.Context, m *bus.Message) error {
		v, err := ev.Decode(m)
		if err != nil {
			return err
		}
		return fn(ctx, v)
	})
}

// OnCommand registers fn for command c. Its group is the command's owning
// service (c.Owner()), so one handler across the deployment gets each
// command. A second handler for c in the service is ErrDuplicateHandler.
func OnCommand[T any](s *Service, c *contract.Command[T], fn func(ctx context.Context, v T) error) error {
	if c == nil || fn == nil {
		return fmt.Errorf("%w: nil command or handler", ErrRegistration)
	}
	if err := c.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	return s.register(c.Info(), c.Owner(), func(ctx context.Context, m *bus.Message) error {
		v, err := c.Decode(m)
		if err != nil {
			return err
		}
		return fn(ctx, v)
	})
}

// OnQuery registers fn to answer query q (group: q.Owner()). fn's result
// is sent back as q's typed reply; its error goes back to the requester
// (a *bus.RemoteError). A second handler for q is ErrDuplicateHandler.
func OnQuery[Q, R any](s *Service, q *contract.Query[Q, R], fn func(ctx context.Context, v Q) (R, error)) error {
	if q == nil || fn == nil {
		return fmt.Errorf("%w: nil query or handler", ErrRegistration)
	}
	return s.register(q.Info(), q.Owner(), func(ctx context.Context, m *bus.Message) error {
		v, err := q.Decode(m)
		if err != nil {
			return err
		}
		r, err := fn(ctx, v)
		if err != nil {
			return err
		}
		return q.Reply(ctx, m, r)
	})
}

// register adds a handler to the route of its subject and group after
// checking that none of its types is already claimed the same way.
func (s *Service) register(info contract.Info, group string, h func(context.Context, *bus.Message) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ran {
		return fmt.Errorf("%w: %s registered after Run", ErrRegistration, info.Type)
	}
	e := &entry{info: info, group: group, handle: h}
	for _, t := range info.Types {
		if prev := s.claimOf(t, t == info.Type); prev != nil {
			return fmt.Errorf("%w: service %s: %s %s is already handled (%s, Go type %s)",
				ErrDuplicateHandler, s.Name(), info.Kind, t, prev.info.Type, prev.info.GoType)
		}
	}
	k := routeKey{subject: info.Subject, group: group}
	r := s.routes[k]
	if r == nil {
		r = &route{s: s, key: k, exact: map[string]*entry{}, upcast: map[string]*entry{}}
		s.routes[k] = r
		s.order = append(s.order, k)
	}
	for _, t := range info.Types {
		if t == info.Type {
			r.exact[t] = e
		} else {
			r.upcast[t] = e
		}
	}
	r.entries = append(r.entries, e)
	return nil
}

// claimOf returns the handler already registered for type t, as an exact
// (current-version) or upcast claim.
func (s *Service) claimOf(t string, exact bool) *entry {
	for _, r := range s.routes {
		m := r.upcast
		if exact {
			m = r.exact
		}
		if e := m[t]; e != nil {
			return e
		}
	}
	return nil
}

// knownVersions returns the versions of base the service reads (any route).
func (s *Service) knownVersions(base string) []int {
	var vs []int
	for _, r := range s.routes {
		for _, e := range r.entries {
			if e.info.BaseType == base {
				vs = append(vs, e.info.Versions...)
			}
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}
