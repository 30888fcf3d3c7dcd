package bus

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus/driver"
)

// Failure metadata on every dead letter, beside DeadLetterReasonHeader and
// the others. Their names and values are a stable contract (see the
// package documentation).
const (
	// DeadLetterGroupHeader holds the consumer group that failed the
	// message; empty for a subscription without a group.
	DeadLetterGroupHeader = "Busway-Dead-Letter-Group"
	// DeadLetterRouteHeader holds the subject pattern of the subscription
	// (the Router route) whose handler failed.
	DeadLetterRouteHeader = "Busway-Dead-Letter-Route"
	// DeadLetterKindHeader holds the kind of failure, one of the
	// DeadLetterKind* values.
	DeadLetterKindHeader = "Busway-Dead-Letter-Kind"
	// DeadLetterFirstFailureHeader holds when the first failed attempt
	// happened (RFC 3339), best effort: exact when this process saw it,
	// else the dead-letter time, an upper bound (see the package doc).
	DeadLetterFirstFailureHeader = "Busway-Dead-Letter-First-Failure"
	// DeadLetterStreamHeader holds the stream that stored the original
	// (JetStream); absent on backends that do not store messages.
	DeadLetterStreamHeader = "Busway-Dead-Letter-Stream"
	// DeadLetterSequenceHeader holds the original's stream sequence
	// (JetStream); absent on backends that do not store messages.
	DeadLetterSequenceHeader = "Busway-Dead-Letter-Sequence"
	// DeadLetterReplaysHeader holds how many times the message had been
	// replayed when it was dead-lettered: 0 for a first failure.
	DeadLetterReplaysHeader = "Busway-Dead-Letter-Replays"
)

// Headers on a replayed dead letter, republished to its original subject:
// only a subscription of the named group (and route) handles it; every
// other subscription that receives it acknowledges it without handling.
const (
	// ReplayGroupHeader holds the group the replay is for ("" for a
	// subscription without a group).
	ReplayGroupHeader = "Busway-Replay-Group"
	// ReplayRouteHeader holds the subject pattern the replay is for.
	ReplayRouteHeader = "Busway-Replay-Route"
	// ReplayCountHeader holds the replay count: 1 for the first replay.
	ReplayCountHeader = "Busway-Replay-Count"
)

// Values of DeadLetterKindHeader.
const (
	// DeadLetterKindPermanent: the handler returned a Permanent error.
	DeadLetterKindPermanent = "permanent"
	// DeadLetterKindExhausted: every allowed attempt failed, or the
	// backend stopped redelivering.
	DeadLetterKindExhausted = "exhausted"
	// DeadLetterKindMalformed: not a valid CloudEvent, or its data did not
	// decode (ErrMalformed).
	DeadLetterKindMalformed = "malformed"
	// DeadLetterKindPanic: the handler panicked (ErrPanic).
	DeadLetterKindPanic = "panic"
	// DeadLetterKindTimeout: the failure wraps context.DeadlineExceeded or
	// ErrTimeout (middleware.Timeout's error does).
	DeadLetterKindTimeout = "timeout"
	// DeadLetterKindUnknownType: no handler for the event type; typed
	// layers report it through a DeadLetterKinder error.
	DeadLetterKindUnknownType = "unknown-type"
)

// DeadLetterKinder is implemented by an error that names its own
// dead-letter kind (for example DeadLetterKindUnknownType). The first one
// found in the error's chain wins over the built-in classification.
type DeadLetterKinder interface {
	DeadLetterKind() string
}

// deadLetterKind classifies a final failure; exhausted is true when the
// backend gave up redelivering.
func deadLetterKind(err error, exhausted bool) string {
	var k DeadLetterKinder
	switch {
	case exhausted:
		return DeadLetterKindExhausted
	case errors.As(err, &k) && k.DeadLetterKind() != "":
		return flatten(k.DeadLetterKind(), 64)
	case errors.Is(err, ErrMalformed):
		return DeadLetterKindMalformed
	case errors.Is(err, ErrPanic):
		return DeadLetterKindPanic
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout):
		return DeadLetterKindTimeout
	case IsPermanent(err):
		return DeadLetterKindPermanent
	}
	return DeadLetterKindExhausted
}

// failureMeta adds the failure metadata headers to h, the dead letter's
// headers (a copy of the original's).
func (s *Subscription) failureMeta(h map[string][]string, m *Message, cause error, exhausted bool, now time.Time) {
	h[DeadLetterGroupHeader] = []string{s.cfg.group}
	h[DeadLetterRouteHeader] = []string{s.pattern}
	h[DeadLetterKindHeader] = []string{deadLetterKind(cause, exhausted)}
	replays := "0"
	if v := h[ReplayCountHeader]; len(v) > 0 {
		replays = v[0]
	}
	h[DeadLetterReplaysHeader] = []string{replays}
	// The dead letter is no replay: subscribers of its subject handle it.
	delete(h, ReplayGroupHeader)
	delete(h, ReplayRouteHeader)
	delete(h, ReplayCountHeader)
	first := s.firsts.take(m, now)
	if v := h[DeadLetterFirstFailureHeader]; len(v) > 0 && replays != "0" {
		first = v[0] // a replay keeps its original first failure
	}
	h[DeadLetterFirstFailureHeader] = []string{first}
	if o, ok := m.raw.Acker.(driver.Originer); ok {
		if stream, seq := o.Origin(); stream != "" {
			h[DeadLetterStreamHeader] = []string{stream}
			h[DeadLetterSequenceHeader] = []string{strconv.FormatUint(seq, 10)}
		}
	}
}

// skipReplay reports whether dm is a replay meant for another group or
// route, and acknowledges it then. One header lookup, on every delivery.
func (s *Subscription) skipReplay(dm *driver.Message) bool {
	g, ok := dm.Header[ReplayGroupHeader]
	if !ok {
		return false
	}
	route := dm.Header[ReplayRouteHeader]
	if (len(g) > 0 && g[0] == s.cfg.group) && (len(route) == 0 || route[0] == s.pattern) {
		return false
	}
	s.b.logger().Debug("busway: replay for another group skipped", "subject", dm.Subject,
		"group", s.cfg.group, "replay_group", g)
	if dm.Acker != nil {
		if err := dm.Acker.Ack(s.settleCtx); err != nil {
			s.b.logger().Warn("busway: settle failed", "op", "ack", "subject", dm.Subject, "error", err)
		}
	}
	return true
}

// maxFirsts bounds the first-failure times a subscription remembers.
const maxFirsts = 4096

// firstFailures remembers when events that are being retried first
// failed in this process, so that their dead letter can say so. It is
// touched only on failures.
type firstFailures struct {
	n  atomic.Int32 // len(at), read without the lock on success
	mu sync.Mutex
	at map[[2]string]time.Time
}

func firstKey(m *Message) [2]string { return [2]string{m.Event.Source, m.Event.ID} }

// failed records a retryable failure of m at now, unless one is known.
func (f *firstFailures) failed(m *Message, now time.Time) {
	if m.Event.ID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == nil {
		f.at = make(map[[2]string]time.Time)
	}
	if _, ok := f.at[firstKey(m)]; !ok && len(f.at) < maxFirsts {
		f.at[firstKey(m)] = now
		f.n.Store(int32(len(f.at)))
	}
}

// take returns (RFC 3339) and forgets m's first failure, now when unknown.
func (f *firstFailures) take(m *Message, now time.Time) string {
	f.mu.Lock()
	t, ok := f.at[firstKey(m)]
	delete(f.at, firstKey(m))
	f.n.Store(int32(len(f.at)))
	f.mu.Unlock()
	if !ok {
		t = now
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// forget drops m's first failure after it was handled.
func (f *firstFailures) forget(m *Message) {
	if f.n.Load() == 0 {
		return
	}
	f.mu.Lock()
	delete(f.at, firstKey(m))
	f.n.Store(int32(len(f.at)))
	f.mu.Unlock()
}

// replayID is the dedup id of a replay: deterministic per original event,
// group, route and replay count, so that a replay published twice is
// stored once, and no replay is dropped as a copy of its original.
func replayID(m *Message, h map[string][]string, count string) string {
	return driver.DedupID(m.Event.Source, m.Event.ID, "replay",
		Header(h).Get(ReplayGroupHeader), Header(h).Get(ReplayRouteHeader), count)
}
