package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/busway/busway/bus"
)

// backend is where a Store keeps its dead letters and replay marks.
type backend interface {
	// list returns every dead letter, oldest first.
	list(ctx context.Context) ([]*Letter, error)
	// get returns one, or an error wrapping ErrNotFound.
	get(ctx context.Context, id string) (*Letter, error)
	// mark records that id is being replayed; false when it already was.
	mark(ctx context.Context, id string) (bool, error)
	// unmark undoes mark after a failed publish.
	unmark(ctx context.Context, id string) error
	// replayed reports the ids marked, for List.
	replayed(ctx context.Context) (map[string]bool, error)
	// remove deletes a dead letter (and its mark).
	remove(ctx context.Context, id string) error
	// close releases what the backend holds.
	close(ctx context.Context) error
}

// Store reads, replays and purges the dead letters of one subject. It is
// safe for concurrent use. Build one with Open or Record.
type Store struct {
	b       *bus.Bus
	subject string
	be      backend
}

// Subject returns the dead-letter subject the store reads.
func (s *Store) Subject() string { return s.subject }

// List returns the dead letters that pass f, oldest first.
func (s *Store) List(ctx context.Context, f Filter) ([]*Letter, error) {
	all, err := s.be.list(ctx)
	if err != nil {
		return nil, err
	}
	marks, err := s.be.replayed(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, l := range all {
		if f.match(l) {
			l.Replayed = marks[l.ID]
			out = append(out, l)
		}
	}
	return out, nil
}

// Get returns one dead letter: its metadata, decoded event and bytes. It
// fails with an error wrapping ErrNotFound for an unknown id.
func (s *Store) Get(ctx context.Context, id string) (*Letter, error) {
	l, err := s.be.get(ctx, id)
	if err != nil {
		return nil, err
	}
	marks, err := s.be.replayed(ctx)
	if err != nil {
		return nil, err
	}
	l.Replayed = marks[id]
	return l, nil
}

// Replay republishes dead letter id to its original subject, for the
// group and route that failed it only (see the package doc). Replaying a
// dead letter that was already replayed does nothing and returns nil.
func (s *Store) Replay(ctx context.Context, id string) error {
	l, err := s.be.get(ctx, id)
	if err != nil {
		return err
	}
	m, err := replayMessage(l)
	if err != nil {
		return err
	}
	first, err := s.be.mark(ctx, id)
	if err != nil || !first {
		return err
	}
	if err := s.b.Publish(ctx, m); err != nil {
		if uerr := s.be.unmark(context.WithoutCancel(ctx), id); uerr != nil {
			return fmt.Errorf("deadletter: replay %s: %w (and its replay mark stays: %v)", id, err, uerr)
		}
		return fmt.Errorf("deadletter: replay %s: %w", id, err)
	}
	return nil
}

// replayMessage is the message a replay of l publishes: the original
// event and application headers, without the failure metadata (but its
// first failure time), with the replay headers.
func replayMessage(l *Letter) (*bus.Message, error) {
	md := l.Metadata
	if l.DecodeErr != nil || md.Subject == "" || l.Header.Get(bus.DeadLetterRouteHeader) == "" {
		return nil, fmt.Errorf("%w: %s (kind %q, decode error: %v)", ErrNotReplayable, l.ID, md.Kind, l.DecodeErr)
	}
	h := make(bus.Header, len(l.Header))
	for k, v := range l.Header {
		if !strings.HasPrefix(k, "Busway-Dead-Letter-") && !strings.HasPrefix(k, "Busway-Replay-") {
			h[k] = v
		}
	}
	h.Set(bus.DeadLetterFirstFailureHeader, l.Header.Get(bus.DeadLetterFirstFailureHeader))
	h.Set(bus.ReplayGroupHeader, md.Group)
	h.Set(bus.ReplayRouteHeader, md.Route)
	h.Set(bus.ReplayCountHeader, strconv.Itoa(md.Replays+1))
	return &bus.Message{Subject: md.Subject, Event: l.Event, Header: h}, nil
}

// Purge removes the dead letters named by ids, and returns how many it
// removed; an unknown id is skipped.
func (s *Store) Purge(ctx context.Context, ids ...string) (int, error) {
	n := 0
	for _, id := range ids {
		if err := s.be.remove(ctx, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return n, err
		}
		n++
	}
	return n, nil
}

// PurgeMatching removes the dead letters that pass f; with replayed set,
// only those already replayed. It returns how many it removed.
func (s *Store) PurgeMatching(ctx context.Context, f Filter, replayed bool) (int, error) {
	ls, err := s.List(ctx, f)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, l := range ls {
		if l.Replayed || !replayed {
			ids = append(ids, l.ID)
		}
	}
	return s.Purge(ctx, ids...)
}

// Close releases the store (Record: its subscription). The bus stays open.
func (s *Store) Close(ctx context.Context) error { return s.be.close(ctx) }

// Wait waits until at least n dead letters pass f and returns them, or
// returns ctx's error. A Record store wakes on each arrival; an Open store
// looks again every 20ms.
func (s *Store) Wait(ctx context.Context, f Filter, n int) ([]*Letter, error) {
	for {
		var arrived <-chan struct{}
		if r, ok := s.be.(*recorder); ok {
			arrived = r.changed()
		}
		ls, err := s.List(ctx, f)
		if err != nil || len(ls) >= n {
			return ls, err
		}
		var tick <-chan time.Time
		if arrived == nil {
			t := time.NewTimer(20 * time.Millisecond)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-arrived:
		case <-tick:
		case <-ctx.Done():
			return ls, fmt.Errorf("deadletter: waiting for %d dead letters (have %d): %w", n, len(ls), context.Cause(ctx))
		}
	}
}
