package natsbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoStream is returned on a jetstream:// connection for a subject (to
// publish to, subscribe to, or dead-letter to) that no stream captures and
// that is not declared core (JetStreamConfig.CoreSubjects, the URL's core=
// parameter). On a JetStream bus such a message would go out as core NATS
// and be lost when nobody listens: a typo must fail, not vanish.
var ErrNoStream = errors.New("natsbus: no stream captures the subject and it is not declared core")

// inboxPattern is always core: requests' reply subjects (nats.go's inbox
// prefix), to which responders publish.
const inboxPattern = "_INBOX.>"

// routes knows which stream captures which subject: every stream of the
// account with subjects, listed at Open and again when a subject finds no
// stream (at most once per refreshEvery: another process may have created
// one since).
type routes struct {
	js   jetstream.JetStream
	core []string // declared core patterns, and inboxPattern

	mu        sync.RWMutex
	streams   []*streamInfo
	refreshed time.Time
}

// refreshEvery bounds how often a miss lists the streams again.
const refreshEvery = time.Second

// refresh lists the account's streams.
func (r *routes) refresh(ctx context.Context) error {
	lister := r.js.ListStreams(ctx)
	var names []string
	for info := range lister.Info() {
		if len(info.Config.Subjects) > 0 {
			names = append(names, info.Config.Name)
		}
	}
	if err := lister.Err(); err != nil {
		return fmt.Errorf("natsbus: list streams: %w", err)
	}
	found := make([]*streamInfo, 0, len(names))
	for _, name := range names {
		h, err := r.js.Stream(ctx, name) // the handle consumers need
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("natsbus: look up stream %q: %w", name, err)
		}
		info := h.CachedInfo()
		found = append(found, &streamInfo{name: name, subjects: info.Config.Subjects, handle: h, created: info.Created})
	}
	slices.SortFunc(found, func(a, b *streamInfo) int { return cmpString(a.name, b.name) })
	r.mu.Lock()
	r.streams, r.refreshed = found, time.Now()
	r.mu.Unlock()
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// add records a stream the connection created or verified, so it is
// known before the next refresh.
func (r *routes) add(s *streamInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.streams = slices.DeleteFunc(r.streams, func(o *streamInfo) bool { return o.name == s.name })
	r.streams = append(r.streams, s)
}

// lookup returns the stream capturing the literal subject, or nil.
func (r *routes) lookup(subj string) *streamInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.streams {
		if s.captures(subj) {
			return s
		}
	}
	return nil
}

// streamFor returns the stream capturing subj; nil with no error when subj
// is declared core; ErrNoStream otherwise (after one refresh, when the
// last one is older than refreshEvery).
func (r *routes) streamFor(ctx context.Context, subj string) (*streamInfo, error) {
	if s := r.lookup(subj); s != nil {
		return s, nil
	}
	if r.isCore(subj) {
		return nil, nil
	}
	if r.stale() {
		if err := r.refresh(ctx); err != nil {
			return nil, err
		}
		if s := r.lookup(subj); s != nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (streams: %s; declared core: %v)", ErrNoStream, subj, r.describe(), r.core)
}

func (r *routes) stale() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return time.Since(r.refreshed) >= refreshEvery
}

// isCore reports whether the literal subject is declared core.
func (r *routes) isCore(subj string) bool {
	for _, p := range r.core {
		if subject.Match(p, subj) {
			return true
		}
	}
	return false
}

// coreCovers reports whether every subject matching pattern is declared
// core.
func (r *routes) coreCovers(pattern string) bool {
	for _, p := range r.core {
		if subsetOf(pattern, p) {
			return true
		}
	}
	return false
}

// classify finds where a subscription pattern lives: inside one stream
// (returned), or outside every stream and declared core (nil). A pattern
// partly inside a stream is ErrInvalidSubject; one outside every stream
// and not declared core is ErrNoStream.
func (r *routes) classify(ctx context.Context, pattern string) (*streamInfo, error) {
	s, partly := r.place(pattern)
	if s == nil && partly == nil && !r.coreCovers(pattern) && r.stale() {
		if err := r.refresh(ctx); err != nil {
			return nil, err
		}
		s, partly = r.place(pattern)
	}
	switch {
	case s != nil:
		return s, nil
	case partly != nil:
		return nil, fmt.Errorf("%w: %q is partly inside stream %q (subjects %v): subscribe to patterns inside a stream's subjects, or outside every stream",
			driver.ErrInvalidSubject, pattern, partly.name, partly.subjects)
	case r.coreCovers(pattern):
		return nil, nil
	}
	return nil, fmt.Errorf("%w: pattern %q (streams: %s; declared core: %v)", ErrNoStream, pattern, r.describe(), r.core)
}

// place returns the stream whose subjects contain pattern, or the first
// stream it partly overlaps.
func (r *routes) place(pattern string) (inside, partly *streamInfo) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.streams {
		in, overlaps := s.classify(pattern)
		if in {
			return s, nil
		}
		if overlaps && partly == nil {
			partly = s
		}
	}
	return nil, partly
}

func (r *routes) describe() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.streams) == 0 {
		return "none"
	}
	out := ""
	for i, s := range r.streams {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %v", s.name, s.subjects)
	}
	return out
}
