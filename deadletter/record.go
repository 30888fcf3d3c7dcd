package deadletter

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/busway/busway/bus"
)

// Record subscribes to the dead-letter subject on b, any backend, and
// keeps every dead letter that arrives from then on, in memory, numbered
// from 1. It suits mem://, tests, and buses without a stream; on
// JetStream, Open reads what the stream already holds. Close the store to
// end the subscription.
func Record(ctx context.Context, b *bus.Bus, subject string) (*Store, error) {
	r := &recorder{byID: make(map[string]*Letter), marks: make(map[string]bool)}
	sub, err := b.Subscribe(ctx, subject, bus.HandlerFunc(r.handle))
	if err != nil {
		return nil, fmt.Errorf("deadletter: record %q: %w", subject, err)
	}
	r.sub = sub
	return &Store{b: b, subject: subject, be: r}, nil
}

// recorder is the in-memory backend of Record.
type recorder struct {
	sub *bus.Subscription

	mu    sync.Mutex
	next  int
	order []string
	byID  map[string]*Letter
	marks map[string]bool
	added chan struct{} // closed and replaced on each arrival (Wait)
}

func (r *recorder) handle(_ context.Context, m *bus.Message) error {
	h, data := m.Raw()
	raw := make(map[string][]string, len(h))
	maps.Copy(raw, h)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := strconv.Itoa(r.next)
	r.byID[id] = decode(id, raw, append([]byte(nil), data...))
	r.order = append(r.order, id)
	if r.added != nil {
		close(r.added)
		r.added = nil
	}
	return nil
}

// changed returns a channel closed when the next dead letter arrives.
func (r *recorder) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.added == nil {
		r.added = make(chan struct{})
	}
	return r.added
}

func (r *recorder) list(context.Context) ([]*Letter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Letter, 0, len(r.order))
	for _, id := range r.order {
		l := *r.byID[id]
		out = append(out, &l)
	}
	return out, nil
}

func (r *recorder) get(_ context.Context, id string) (*Letter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	c := *l
	return &c, nil
}

func (r *recorder) mark(_ context.Context, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.marks[id] {
		return false, nil
	}
	r.marks[id] = true
	return true, nil
}

func (r *recorder) unmark(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.marks, id)
	return nil
}

func (r *recorder) replayed(context.Context) (map[string]bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.marks), nil
}

func (r *recorder) remove(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	delete(r.byID, id)
	delete(r.marks, id)
	for i, v := range r.order {
		if v == id {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	return nil
}

func (r *recorder) close(ctx context.Context) error { return r.sub.Drain(ctx) }
