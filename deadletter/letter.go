package deadletter

import (
	"errors"
	"strconv"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/subject"
	"github.com/busway/busway/cloudevents"
)

// Sentinel errors.
var (
	// ErrNotFound is returned for an id the store does not hold.
	ErrNotFound = errors.New("deadletter: no such dead letter")
	// ErrNotReplayable is returned by Replay for a dead letter that cannot
	// be republished: it is malformed (no CloudEvent to republish) or
	// lacks the bus's metadata (it was not written by a bus).
	ErrNotReplayable = errors.New("deadletter: dead letter cannot be replayed")
)

// Metadata is the failure a dead letter describes, read from its
// Busway-Dead-Letter-* headers.
type Metadata struct {
	Subject      string    // the subject the original arrived on
	Group        string    // the consumer group that failed it
	Route        string    // the subscription pattern that failed it
	Kind         string    // one of the bus.DeadLetterKind* values
	Reason       string    // the last error's text
	Attempts     int       // deliveries attempted
	Permanent    bool      // the handler said the failure was permanent
	Time         time.Time // when it was dead-lettered
	FirstFailure time.Time // when it first failed (best effort)
	Stream       string    // the original's stream (JetStream)
	Sequence     uint64    // the original's stream sequence (JetStream)
	Replays      int       // replays before this dead letter
}

// Letter is one dead letter.
type Letter struct {
	// ID identifies the dead letter in its store (JetStream: its stream
	// sequence in decimal).
	ID string
	// Metadata is the failure it describes.
	Metadata Metadata
	// Event is the decoded CloudEvent; zero when the original was
	// malformed (see DecodeErr).
	Event cloudevents.Event
	// DecodeErr says why Event could not be decoded, nil otherwise.
	DecodeErr error
	// Header holds the transport headers that are not CloudEvents
	// attributes, the failure metadata included.
	Header bus.Header
	// RawHeader and Data are the dead letter's bytes as stored.
	RawHeader map[string][]string
	Data      []byte
	// Replayed is set once the dead letter was replayed through the store.
	Replayed bool
}

// decode builds a Letter from stored bytes.
func decode(id string, h map[string][]string, data []byte) *Letter {
	l := &Letter{ID: id, RawHeader: h, Data: data}
	l.Event, l.DecodeErr = cloudevents.Decode(h, data)
	for k, v := range h {
		if !cloudevents.IsEventHeader(k) && !bus.IsReservedHeader(k) {
			if l.Header == nil {
				l.Header = make(bus.Header, len(h))
			}
			l.Header[k] = v
		}
	}
	g := l.Header.Get
	md := &l.Metadata
	md.Subject, md.Group, md.Route = g(bus.DeadLetterSubjectHeader), g(bus.DeadLetterGroupHeader), g(bus.DeadLetterRouteHeader)
	md.Kind, md.Reason, md.Stream = g(bus.DeadLetterKindHeader), g(bus.DeadLetterReasonHeader), g(bus.DeadLetterStreamHeader)
	md.Attempts, _ = strconv.Atoi(g(bus.DeadLetterAttemptsHeader))
	md.Permanent = g(bus.DeadLetterPermanentHeader) == "true"
	md.Time, _ = time.Parse(time.RFC3339Nano, g(bus.DeadLetterTimeHeader))
	md.FirstFailure, _ = time.Parse(time.RFC3339Nano, g(bus.DeadLetterFirstFailureHeader))
	md.Sequence, _ = strconv.ParseUint(g(bus.DeadLetterSequenceHeader), 10, 64)
	md.Replays, _ = strconv.Atoi(g(bus.DeadLetterReplaysHeader))
	return l
}

// Filter selects dead letters; zero fields match everything.
type Filter struct {
	Group   string    // the failing group
	Subject string    // the original subject (exact, or a NATS pattern)
	Type    string    // the CloudEvents type
	Kind    string    // the failure kind (bus.DeadLetterKind*)
	Since   time.Time // dead-lettered at or after
	Until   time.Time // dead-lettered before
}

// match reports whether l passes f.
func (f Filter) match(l *Letter) bool {
	md := &l.Metadata
	switch {
	case f.Group != "" && md.Group != f.Group,
		f.Subject != "" && !subject.Match(f.Subject, md.Subject),
		f.Type != "" && l.Event.Type != f.Type,
		f.Kind != "" && md.Kind != f.Kind,
		!f.Since.IsZero() && md.Time.Before(f.Since),
		!f.Until.IsZero() && !md.Time.Before(f.Until):
		return false
	}
	return true
}
