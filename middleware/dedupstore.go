package middleware

import (
	"context"
	"errors"
	"log/slog"

	"github.com/busway/busway/bus"
)

// ErrDedupInFlight is wrapped by the error a handler wrapped with Dedup or
// DedupWith returns when it gave up waiting for another copy of the same
// event to finish (its context ended); the message is redelivered.
var ErrDedupInFlight = errors.New("busway: dedup: another copy of the event is being handled")

// DedupStore remembers, for one consumer group, which events were handled,
// and makes sure two copies of one event are never handled at once. Keys
// come from DedupKey. Implementations: NewDedupMemory (in process) and
// backends/natsbus/kvdedup (JetStream KV, shared by every instance).
type DedupStore interface {
	// Begin claims key before the handler runs. It returns true when key
	// was already handled (the message is acknowledged without handling).
	// When another handling holds key, Begin waits until it ends (or
	// returns an error wrapping ErrDedupInFlight when ctx ends first).
	Begin(ctx context.Context, key string) (handled bool, err error)
	// Done marks key handled, after the handler succeeded.
	Done(ctx context.Context, key string) error
	// Abort releases key after the handler failed: a redelivery handles it.
	Abort(ctx context.Context, key string) error
}

// DedupKey is the key of m in a DedupStore: the event's source and id
// and, for a replayed dead letter (bus.ReplayCountHeader), the replay
// count, so that a replay is a new attempt rather than a duplicate. It is
// "" for an event without an id.
func DedupKey(m *bus.Message) string {
	if m.Event.ID == "" {
		return ""
	}
	k := m.Event.Source + "\x00" + m.Event.ID
	if n := m.Header.Get(bus.ReplayCountHeader); n != "" {
		k += "\x00replay\x00" + n
	}
	return k
}

// DedupWith returns middleware that makes a handler idempotent with store:
// a message whose DedupKey was handled successfully is acknowledged
// without calling the handler; the key is marked only after the handler
// returned nil, and released when it failed or panicked, so a retry or
// redelivery handles it again. Give each consumer group its own store.
// A store that fails to mark after success is logged at Warn, and the
// message acknowledged (the handler did its work). Put it outside Retry.
func DedupWith(store DedupStore) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			key := DedupKey(m)
			if key == "" {
				return next.Handle(ctx, m)
			}
			handled, err := store.Begin(ctx, key)
			if err != nil || handled {
				return err
			}
			return runMarked(ctx, store, key, next, m)
		})
	}
}

// runMarked runs next on m, holding key, and marks or releases key.
func runMarked(ctx context.Context, store DedupStore, key string, next bus.Handler, m *bus.Message) error {
	ok := false
	defer func() { // also when the handler panics
		if ok {
			return
		}
		if err := store.Abort(context.WithoutCancel(ctx), key); err != nil {
			slog.Warn("busway: dedup: could not release a failed event's key; a redelivery waits for its lease",
				"event_id", m.Event.ID, "error", err)
		}
	}()
	err := next.Handle(ctx, m)
	if err != nil {
		return err
	}
	ok = true
	if err := store.Done(context.WithoutCancel(ctx), key); err != nil {
		slog.Warn("busway: dedup: handled event could not be marked; a redelivery may handle it again",
			"event_id", m.Event.ID, "error", err)
	}
	return nil
}
