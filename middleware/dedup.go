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
// Dedup is DedupWith(NewDedupMemory(cfg)), one store per wrapped handler;
// for a store shared by every instance of a group, and that survives a
// restart, use DedupWith with backends/natsbus/kvdedup. A replayed dead
// letter is not a duplicate of its original (see DedupKey).
func Dedup(cfg DedupConfig) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return DedupWith(NewDedupMemory(cfg))(next)
	}
}

// NewDedupMemory returns the in-process DedupStore that Dedup uses: an
// LRU of handled events bounded by cfg.MaxEntries, each remembered for
// cfg.TTL; a duplicate in flight waits for the first copy. Give one store
// to the handlers of one group only (DedupWith).
func NewDedupMemory(cfg DedupConfig) DedupStore {
	return newDedupMemory(cfg, time.Now)
}

func newDedupMemory(cfg DedupConfig, now func() time.Time) *dedup {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultDedupTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultDedupMaxEntries
	}
	return &dedup{
		ttl:      cfg.TTL,
		max:      cfg.MaxEntries,
		now:      now,
		seen:     make(map[string]*list.Element),
		inflight: make(map[string]chan struct{}),
	}
}

// seenEntry is a remembered event, in dedup.order.
type seenEntry struct {
	key     string
	expires time.Time
}

// dedup is the in-memory DedupStore. order lists remembered events newest
// first; since every entry lives for the same TTL, the back is both the
// oldest and the first to expire.
type dedup struct {
	ttl time.Duration
	max int
	now func() time.Time
	// onWait, when set (tests), is called when a duplicate starts waiting.
	onWait func()

	mu    sync.Mutex
	seen  map[string]*list.Element // of *seenEntry
	order list.List
	// inflight holds the events being handled, each with a channel closed
	// when its handling ends; nil until a duplicate waits for it.
	inflight map[string]chan struct{}
}

// Begin implements DedupStore.
func (d *dedup) Begin(ctx context.Context, key string) (bool, error) {
	for {
		d.mu.Lock()
		if d.seenLocked(key) {
			d.mu.Unlock()
			return true, nil
		}
		wait, busy := d.inflight[key]
		if !busy {
			d.inflight[key] = nil // made by the first waiter, if any
			d.mu.Unlock()
			return false, nil
		}
		if wait == nil {
			wait = make(chan struct{})
			d.inflight[key] = wait
		}
		d.mu.Unlock()
		if d.onWait != nil {
			d.onWait()
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return false, fmt.Errorf("%w: %w", ErrDedupInFlight, context.Cause(ctx))
		}
	}
}

// Done implements DedupStore.
func (d *dedup) Done(_ context.Context, key string) error {
	d.finish(key, true)
	return nil
}

// Abort implements DedupStore.
func (d *dedup) Abort(_ context.Context, key string) error {
	d.finish(key, false)
	return nil
}

// seenLocked reports whether k was handled within the TTL, forgetting it
// when it expired. d.mu must be held.
func (d *dedup) seenLocked(k string) bool {
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
func (d *dedup) finish(k string, ok bool) {
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
func (d *dedup) rememberLocked(k string) {
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
