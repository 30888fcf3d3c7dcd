package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/busway/busway/cloudevents"
)

// prepare checks m's subject, runs the publish hooks and fills the
// attributes m leaves empty.
func (b *Bus) prepare(ctx context.Context, m *Message) error {
	if err := subject.Validate(m.Subject); err != nil {
		return err
	}
	for _, hook := range b.cfg.hooks {
		hook(ctx, m)
	}
	m.fillDefaults(b.cfg.source)
	return nil
}

// encode validates m and turns it into a driver message the backend may
// keep: fresh storage for every message.
func (b *Bus) encode(ctx context.Context, m *Message) (*driver.Message, error) {
	if err := b.prepare(ctx, m); err != nil {
		return nil, err
	}
	// Sized exactly: up to 8 headers fit a map's first group.
	h := make(map[string][]string, len(m.Header)+cloudevents.HeaderCount(&m.Event, b.cfg.mode))
	if _, err := copyHeaders(h, m.Header, nil); err != nil {
		return nil, fmt.Errorf("busway: publish to %q: %w", m.Subject, err)
	}
	body, err := cloudevents.Encode(&m.Event, b.cfg.mode, h)
	if err != nil {
		return nil, fmt.Errorf("busway: publish to %q: %w", m.Subject, err)
	}
	dm := &driver.Message{Subject: m.Subject, Header: h, Data: body}
	b.setID(dm, m)
	return dm, nil
}

// setID sets dm's dedup id when the backend deduplicates.
func (b *Bus) setID(dm *driver.Message, m *Message) {
	if !b.dedup {
		return
	}
	dm.ID = driver.DedupID(m.Event.Source, m.Event.ID)
	if n := dm.Header[ReplayCountHeader]; len(n) > 0 { // a replay is not a duplicate of its original
		dm.ID = replayID(m, dm.Header, n[0])
	}
}

// copyHeaders checks the names of from (see IsReservedHeader) and copies
// the headers into h (cloudevents.Encode then drops any that are event
// headers). The driver owns h and its slices, so the values are copied
// too: single values (the usual case) into vals, grown as needed and
// returned for reuse, each slice capped so that appending to it cannot
// overwrite the next.
func copyHeaders(h map[string][]string, from Header, vals []string) ([]string, error) {
	if len(from) == 0 {
		return vals, nil
	}
	vals = slices.Grow(vals[:0], len(from))[:len(from)]
	free := vals
	for k, v := range from {
		if err := checkHeaderName(k); err != nil {
			return vals, err
		}
		switch {
		case len(v) == 1:
			free[0] = v[0]
			h[k] = free[:1:1]
			free = free[1:]
		default:
			h[k] = slices.Clone(v)
		}
	}
	return vals, nil
}

// encoder is the storage of one publish, reused from publish to publish
// when the backend copies what Publish is given (driver.PublishCopier):
// the driver message, its header map and the header values.
type encoder struct {
	dm   driver.Message
	h    map[string][]string
	vals []string // values of the message's own headers
	ce   cloudevents.Encoder
}

// maxReuseHeaders bounds the header map an encoder keeps: one grown by an
// unusual message is dropped rather than cleared on every later publish.
const maxReuseHeaders = 16

var encoders = sync.Pool{New: func() any {
	return &encoder{h: make(map[string][]string, 8)}
}}

func getEncoder() *encoder { return encoders.Get().(*encoder) }

// encode is Bus.encode into e's storage, valid until e is released.
func (e *encoder) encode(ctx context.Context, b *Bus, m *Message) (*driver.Message, error) {
	if err := b.prepare(ctx, m); err != nil {
		return nil, err
	}
	var err error
	if e.vals, err = copyHeaders(e.h, m.Header, e.vals); err != nil {
		return nil, fmt.Errorf("busway: publish to %q: %w", m.Subject, err)
	}
	body, err := e.ce.Encode(&m.Event, b.cfg.mode, e.h)
	if err != nil {
		return nil, fmt.Errorf("busway: publish to %q: %w", m.Subject, err)
	}
	e.dm = driver.Message{Subject: m.Subject, Header: e.h, Data: body}
	b.setID(&e.dm, m)
	return &e.dm, nil
}

// encodeOne encodes m for one Publish or Request: into pooled storage when
// the backend copies what it is given (driver.PublishCopier), returned
// with its encoder for release after the call, else into a fresh message
// (and a nil encoder, whose release does nothing).
func (b *Bus) encodeOne(ctx context.Context, m *Message) (*driver.Message, *encoder, error) {
	if !b.reuse {
		dm, err := b.encode(ctx, m)
		return dm, nil, err
	}
	e := getEncoder()
	dm, err := e.encode(ctx, b, m)
	return dm, e, err
}

// release clears e (dropping its references to the message) and returns it
// to the pool, unless an unusual message grew it. A nil e does nothing.
func (e *encoder) release() {
	if e == nil {
		return
	}
	if len(e.h) > maxReuseHeaders || cap(e.vals) > maxReuseHeaders {
		return
	}
	clear(e.h)
	clear(e.vals)
	e.dm = driver.Message{}
	encoders.Put(e)
}
