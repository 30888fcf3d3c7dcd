package cqrs

import (
	"context"
	"log/slog"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
)

func defaultLogger() *slog.Logger { return slog.Default() }

// route is the single handler of one subscription (subject and group): it
// dispatches by CloudEvents type.
type route struct {
	s       *Service
	key     routeKey
	exact   map[string]*entry // current-version types
	upcast  map[string]*entry // older types read through an upcaster
	entries []*entry
}

// Handle dispatches m to the handler of its type; an exact version match
// wins over an upcast one. Any other type is unknown (see unknown).
func (r *route) Handle(ctx context.Context, m *bus.Message) error {
	t := m.Event.Type
	e := r.exact[t]
	if e == nil {
		e = r.upcast[t]
	}
	if e == nil {
		return r.unknown(ctx, m)
	}
	return e.handle(ctx, m)
}

// unknown handles a message of a type no handler of the route reads. A
// known base type at another version is always a permanent error naming
// the versions the service knows (it is dead-lettered, to be replayed
// after an upgrade). An unknown base type is acked and counted under
// IgnoreUnknown for event routes, else a permanent error naming the types
// the route knows.
func (r *route) unknown(ctx context.Context, m *bus.Message) error {
	t := m.Event.Type
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown[t]++
	first := s.unknown[t] == 1
	if base, _, ok := contract.ParseType(t); ok {
		if vs := s.knownVersions(base); len(vs) > 0 {
			return contract.UnknownVersion(t, vs)
		}
	}
	if s.cfg.ignoreUnknown && r.eventsOnly() {
		log := s.cfg.logger.With("service", s.Name(), "subject", m.Subject, "type", t, "id", m.Event.ID)
		if first {
			log.InfoContext(ctx, "cqrs: ignoring event of unknown type (first seen; counted in Service.Unknown)")
		} else {
			log.DebugContext(ctx, "cqrs: ignored event of unknown type")
		}
		return nil
	}
	return contract.UnknownType(t, r.types())
}

// eventsOnly reports whether every handler of the route is an event handler.
func (r *route) eventsOnly() bool {
	for _, e := range r.entries {
		if e.info.Kind != contract.KindEvent {
			return false
		}
	}
	return true
}

// types lists the CloudEvents types the route reads, sorted.
func (r *route) types() []string {
	m := map[string]bool{}
	for t := range r.exact {
		m[t] = true
	}
	for t := range r.upcast {
		m[t] = true
	}
	return sortedKeys(m)
}
