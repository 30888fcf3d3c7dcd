package cloudevents

import (
	"errors"
	"fmt"
)

// Mode is a CloudEvents content mode: how an event is laid out in a message.
type Mode int

const (
	// Binary puts each attribute in a ce- header and the data in the body.
	// It is the zero value and the default.
	Binary Mode = iota
	// Structured puts the whole event in the body in the JSON event format,
	// with Content-Type: application/cloudevents+json.
	Structured
)

// String returns "binary" or "structured".
func (m Mode) String() string {
	switch m {
	case Binary:
		return "binary"
	case Structured:
		return "structured"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ContentTypeStructuredJSON is the Content-Type of a structured-mode message.
const ContentTypeStructuredJSON = "application/cloudevents+json"

// Encode validates ev and writes it into the message headers h (non-nil,
// owned by the caller) in the given mode, and returns the message body.
//
// Headers for which IsEventHeader reports true are first removed from h, so
// stale attributes never leak into the message; other headers are kept.
// In Binary mode the body is ev.Data itself (not a copy) and the header
// values share one backing array: treat them as read-only.
//
// An invalid event returns the Validate error (an *AttributeError matching
// ErrInvalidEvent) and leaves h untouched.
func Encode(ev *Event, mode Mode, h map[string][]string) (body []byte, err error) {
	if h == nil {
		return nil, errors.New("cloudevents: Encode needs a non-nil header map")
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	switch mode {
	case Binary:
		removeEventHeaders(h)
		return encodeBinary(ev, h), nil
	case Structured:
		body, err := encodeStructured(ev)
		if err != nil {
			return nil, err
		}
		removeEventHeaders(h)
		h["Content-Type"] = []string{ContentTypeStructuredJSON}
		return body, nil
	}
	return nil, fmt.Errorf("cloudevents: unknown content mode %v", mode)
}

// HeaderCount is how many headers Encode adds for ev in mode, so that a
// caller can size the header map it passes in.
func HeaderCount(ev *Event, mode Mode) int {
	if mode == Binary {
		return binaryHeaderCount(ev)
	}
	return 1 // Content-Type
}

// Decode reads an event from message headers and body, leniently. See the
// package documentation for the rules. A valid event is returned with a nil
// error; otherwise the error matches ErrInvalidEvent (and ErrMalformed when
// the message could not be parsed) and the returned Event holds what was
// read so far, for diagnostics only.
//
// In binary mode the returned Data is body itself (not a copy); an empty
// body gives nil Data.
func Decode(h map[string][]string, body []byte) (Event, error) {
	var ev Event
	var other int
	err := decodeMessage(&ev, h, body, &other)
	return ev, err
}

// DecodeSplit is Decode writing the event into *ev, which it overwrites,
// and also reporting whether h holds headers other than event headers (see
// IsEventHeader), empty ones included, so that a caller collecting them
// can skip a second pass over h when there are none.
func DecodeSplit(ev *Event, h map[string][]string, body []byte) (others bool, err error) {
	*ev = Event{}
	var other int
	err = decodeMessage(ev, h, body, &other)
	return other > 0, err
}

// IsEventHeader reports whether Decode consumes the header name: a ce-
// header or Content-Type, case-insensitively. A bus keeps the other
// headers as transport metadata.
func IsEventHeader(name string) bool {
	return hasEventPrefix(name) || isContentType(name)
}

func hasEventPrefix(name string) bool {
	return len(name) >= 3 && equalFoldASCII(name[:3], "ce-")
}

func isContentType(name string) bool {
	return equalFoldASCII(name, "content-type")
}

func removeEventHeaders(h map[string][]string) {
	if len(h) == 0 {
		return
	}
	for k := range h {
		if IsEventHeader(k) {
			delete(h, k)
		}
	}
}
