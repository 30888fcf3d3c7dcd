package difftest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/subject"
)

// Quiescence without sleeping: a run is quiet when nothing is in flight.
// Each round notes how many publishes have returned, flushes both
// connections (the broker has then routed all of those), then sends a
// marker to every live subscription and waits until each has handled one:
// a subscription (Concurrency 1) handles messages in the order the broker
// routed them, and settles one (dead letter included) before the next, so
// by then it has handled everything routed to it before. Handlers may
// have published meanwhile (answers, dead letters); the run is quiet after
// a round in which no publish other than a marker started.

const (
	markerType = "difftest.marker"
	maxRounds  = 20
)

// quiesce returns once no message is in flight, or an error saying why it
// could not tell. After one failure it fails at once: the backend already
// diverged, and waiting again would only slow the minimising down.
func (r *run) quiesce(ctx context.Context) error {
	if r.broken != nil {
		return fmt.Errorf("skipped after: %w", r.broken)
	}
	r.broken = r.settle(ctx)
	return r.broken
}

func (r *run) settle(ctx context.Context) error {
	for range maxRounds {
		done := r.conns[0].done.Load() + r.conns[1].done.Load()
		for i := range r.conns {
			r.flush(i)
		}
		if err := r.markAll(ctx); err != nil {
			return err
		}
		// started >= done >= the done read above: equal means every
		// publish had returned before the flush, and none started since.
		if r.conns[0].started.Load()+r.conns[1].started.Load() == done {
			return nil
		}
	}
	return fmt.Errorf("handlers still publishing after %d rounds", maxRounds)
}

// markAll sends markers until every live subscription handled one sent in
// this round. A group gets each marker once, so a member may need several.
func (r *run) markAll(ctx context.Context) error {
	round := r.round.Add(1)
	for range 50 {
		pending := r.unmarked(round)
		if len(pending) == 0 {
			return nil
		}
		var ids []int64
		var subjects []string
		for _, s := range pending {
			subj := markerSubject(s.pattern)
			id, err := r.sendMarker(ctx, round, subj)
			if err != nil {
				return err
			}
			ids, subjects = append(ids, id), append(subjects, subj)
		}
		if err := r.awaitMarkers(ctx, ids, subjects); err != nil {
			return err
		}
	}
	return errors.New("markers do not reach every group member")
}

// unmarked returns the live subscriptions that have not had a marker of
// round, in ID order.
func (r *run) unmarked(round int64) []*sub {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*sub
	for _, s := range r.subs {
		if s.marker.Load() < round {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *sub) int { return a.id - b.id })
	return out
}

// markerSubject is a literal subject that pattern matches.
func markerSubject(pattern string) string {
	toks := strings.Split(pattern, ".")
	for i, t := range toks {
		if t == "*" || t == ">" {
			toks[i] = "m"
		}
	}
	return strings.Join(toks, ".")
}

// sendMarker publishes a marker from the first client that can, and
// flushes it.
func (r *run) sendMarker(ctx context.Context, round int64, subj string) (int64, error) {
	id := r.nextMarker.Add(1)
	var errs []error
	for i, b := range r.buses {
		m := bus.NewMessage(subj, markerType, []byte(fmt.Sprintf("%d %d", round, id)))
		err := b.Publish(ctx, m)
		if err == nil {
			r.flush(i)
			return id, nil
		}
		errs = append(errs, err)
	}
	return 0, fmt.Errorf("marker to %q: %w", subj, errors.Join(errs...))
}

func (r *run) sawMarker(s *sub, m *bus.Message) {
	round, id, _ := strings.Cut(string(m.Event.Data), " ")
	rn, _ := strconv.ParseInt(round, 10, 64)
	n, _ := strconv.ParseInt(id, 10, 64)
	r.mu.Lock()
	if r.seen[n] == nil {
		r.seen[n] = map[int]bool{}
	}
	r.seen[n][s.id] = true
	if rn > s.marker.Load() {
		s.marker.Store(rn)
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// awaitMarkers waits until each marker reached every live plain
// subscription matching its subject and one member of every live group
// with a matching member.
func (r *run) awaitMarkers(ctx context.Context, ids []int64, subjects []string) error {
	deadline := time.NewTimer(markerTimeout)
	defer deadline.Stop()
	for {
		missing := r.markerMissing(ids, subjects)
		if missing == "" {
			return nil
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			return fmt.Errorf("marker not handled within %v: %s", markerTimeout, missing)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// markerMissing describes a receiver that has not got its marker yet, or
// returns "".
func (r *run) markerMissing(ids []int64, subjects []string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, id := range ids {
		groups := map[string]bool{} // group -> a member got it
		for _, s := range r.subs {
			if !subject.Match(s.pattern, subjects[i]) {
				continue
			}
			got := r.seen[id][s.id]
			if s.group == "" && !got {
				return fmt.Sprintf("%s on %q", s.who(), subjects[i])
			}
			if s.group != "" {
				groups[s.group] = groups[s.group] || got
			}
		}
		for g, got := range groups {
			if !got {
				return fmt.Sprintf("group %s on %q", g, subjects[i])
			}
		}
	}
	return ""
}
