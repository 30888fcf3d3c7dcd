package middleware

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/busway/busway/bus"
)

// Defaults for DedupConfig fields left zero.
const (
	// DefaultDedupTTL is how long a handled event is remembered when
	// DedupConfig.TTL is zero: JetStream's default duplicate window.
	DefaultDedupTTL = 2 * time.Minute
	// DefaultDedupMaxEntries bounds the remembered events when
	// DedupConfig.MaxEntries is zero.
	DefaultDedupMaxEntries = 10_000
)

// DedupConfig configures Dedup.
type DedupConfig struct {
	// TTL is how long an event is remembered after it was handled
	// successfully. 0 means DefaultDedupTTL.
	TTL time.Duration
	// MaxEntries bounds how many events are remembered; when full, the
	// oldest is forgotten first. 0 means DefaultDedupMaxEntries.
	MaxEntries int
}

// Dedup returns middleware that makes a handler idempotent in process: a
// message whose event (CloudEvents source and id, which together identify
// an event) was already handled successfully within cfg.TTL is
// acknowledged without calling the handler again. Redeliveries after a
// lost acknowledgement, a failure of an outer middleware or a publisher
// that sent the same event twice are thus handled once.
//
// Only successful handlings are remembered: after an error the event is
// handled again on redelivery. Memory is bounded by cfg.MaxEntries; the
// oldest entry (the first handled) is evicted first, and expired entries
// are dropped as new ones arrive.
//
// Duplicates in flight: when a second copy of an event arrives while the
// first is still being handled (concurrent subscriptions, Concurrency > 1),
// the second waits for the first to finish. If the first succeeded the
// second is acknowledged without handling; if it failed, the second is
// handled. A wait ends early with an error wrapping the context's cause
// when the handler's context ends, and the message is then redelivered.
//
// Each handler wrapped by the returned Middleware has its own memory, so
// one Dedup given to Router.Use does not make two routes that receive the
// same event skip each other. Memory is per process: it is lost on restart
// and not shared between instances of a service. JetStream already drops
// duplicate publishes by Nats-Msg-Id (the event id) within the stream's
// duplicate window; Dedup is the consumer-side complement, for
// redeliveries and for backends without publish-side deduplication. Put
// Dedup outside Retry, so an event is remembered once its whole retry
// sequence succeeded. A message with an empty event id passes through.
func Dedup(cfg DedupConfig) bus.Middleware {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultDedupTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultDedupMaxEntries
	}
	return func(next bus.Handler) bus.Handler {
		return newDedup(cfg, next, time.Now)
	}
}

// eventKey identifies an event: CloudEvents source plus id.
type eventKey struct{ source, id string }

// seenEntry is a remembered event, in dedup.order.
type seenEntry struct {
	key     eventKey
	expires time.Time
}

// dedup is the handler Dedup wraps around next. order lists remembered
// events newest first; since every entry lives for the same TTL, the back
// is both the oldest and the first to expire.
type dedup struct {
	next bus.Handler
	ttl  time.Duration
	max  int
	now  func() time.Time
	// onWait, when set (tests), is called when a duplicate starts waiting.
	onWait func()

	mu    sync.Mutex
	seen  map[eventKey]*list.Element // of *seenEntry
	order list.List
	// inflight holds the events being handled, each with a channel closed
	// when its handling ends; nil until a duplicate waits for it.
	inflight map[eventKey]chan struct{}
}

func newDedup(cfg DedupConfig, next bus.Handler, now func() time.Time) *dedup {
	return &dedup{
		next:     next,
		ttl:      cfg.TTL,
		max:      cfg.MaxEntries,
		now:      now,
		seen:     make(map[eventKey]*list.Element),
		inflight: make(map[eventKey]chan struct{}),
	}
}

// Handle implements bus.Handler.
func (d *dedup) Handle(ctx context.Context, m *bus.Message) error {
	if m.Event.ID == "" {
		return d.next.Handle(ctx, m)
	}
	k := eventKey{source: m.Event.Source, id: m.Event.ID}
	for {
		d.mu.Lock()
		if d.seenLocked(k) {
			d.mu.Unlock()
			return nil
		}
		wait, busy := d.inflight[k]
		if !busy {
			d.inflight[k] = nil // made by the first waiter, if any
			d.mu.Unlock()
			break
		}
		if wait == nil {
			wait = make(chan struct{})
			d.inflight[k] = wait
		}
		d.mu.Unlock()
		if d.onWait != nil {
			d.onWait()
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return fmt.Errorf("busway: dedup: waiting for the copy of event %s in flight: %w",
				m.Event.ID, context.Cause(ctx))
		}
	}
	ok := false
	defer func() { d.finish(k, ok) }() // also when the handler panics
	err := d.next.Handle(ctx, m)
	ok = err == nil
	return err
}

// seenLocked reports whether k was handled within the TTL, forgetting it
// when it expired. d.mu must be held.
func (d *dedup) seenLocked(k eventKey) bool {
	e, ok := d.seen[k]
	if !ok {
		return false
	}
	if d.now().Before(e.Value.(*seenEntry).expires) {
		return true
	}
	d.removeLocked(e)
	return false
}

// finish ends the handling of k, remembering it when it succeeded, and
// wakes the duplicates waiting for it.
func (d *dedup) finish(k eventKey, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		d.rememberLocked(k)
	}
	if wait := d.inflight[k]; wait != nil {
		close(wait)
	}
	delete(d.inflight, k)
}

// rememberLocked records k as handled now, dropping expired entries and,
// beyond the size bound, the oldest ones. d.mu must be held.
func (d *dedup) rememberLocked(k eventKey) {
	now := d.now()
	for e := d.order.Back(); e != nil && !now.Before(e.Value.(*seenEntry).expires); e = d.order.Back() {
		d.removeLocked(e)
	}
	if e, ok := d.seen[k]; ok { // expired but not yet dropped
		d.removeLocked(e)
	}
	d.seen[k] = d.order.PushFront(&seenEntry{key: k, expires: now.Add(d.ttl)})
	for d.order.Len() > d.max {
		d.removeLocked(d.order.Back())
	}
}

func (d *dedup) removeLocked(e *list.Element) {
	delete(d.seen, e.Value.(*seenEntry).key)
	d.order.Remove(e)
}

// len returns how many events are remembered (tests).
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
