package cloudevents

import (
	"errors"
	"slices"
)

// An Encoder encodes events like Encode, but keeps the storage of the
// header values it writes and reuses it for the next event: encoding in
// binary mode allocates nothing once the Encoder has grown to fit.
//
// The header values an Encoder writes are valid until its next Encode.
// Use it where the headers are consumed before then, for example by a
// transport that copies them into its write buffer before Publish returns;
// a transport that keeps the header map (an in-memory queue) needs Encode.
//
// The zero value is ready to use. An Encoder is not safe for concurrent
// use; keep one per goroutine or in a sync.Pool.
type Encoder struct {
	vals []string
	buf  []byte
	// source and typ are the last source and type that passed validation:
	// a publisher sends the same ones again and again, so they are not
	// checked again.
	source, typ string
}

// maxKeep bounds what a reused Encoder keeps: storage grown for an unusual
// event (many extensions, long escaped values) is dropped, not pinned.
const maxKeep = 4 << 10

// Encode validates ev and writes it into h in the given mode, as the
// package-level Encode does (same validation, headers and body), with
// header values over the Encoder's storage.
func (e *Encoder) Encode(ev *Event, mode Mode, h map[string][]string) (body []byte, err error) {
	if mode != Binary {
		return Encode(ev, mode, h)
	}
	if h == nil {
		return nil, errors.New("cloudevents: Encode needs a non-nil header map")
	}
	pre := prechecked{source: ev.Source == e.source && e.source != "", typ: ev.Type == e.typ && e.typ != ""}
	if err := ev.validate(&pre); err != nil {
		return nil, err
	}
	e.source, e.typ = ev.Source, ev.Type
	removeEventHeaders(h)
	p := planBinary(ev)
	if cap(e.vals) > maxKeep/16 || cap(e.buf) > maxKeep {
		e.vals, e.buf = nil, nil
	}
	// Cleared so that the strings of the previous event are not kept alive.
	clear(e.vals[:cap(e.vals)])
	e.vals = slices.Grow(e.vals[:0], p.n)[:p.n]
	e.buf = slices.Grow(e.buf[:0], p.size)
	w := binaryWriter{h: h, vals: e.vals, buf: e.buf}
	w.write(ev, &p)
	return ev.Data, nil
}
