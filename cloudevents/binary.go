package cloudevents

import (
	"strings"
	"unsafe"
)

// Context attribute indexes, in the order Encode writes them.
const (
	attrSpecVersion = iota
	attrID
	attrSource
	attrType
	attrSubject
	attrTime
	attrDataContentType
	attrDataSchema
	numAttrs
)

var attrNames = [numAttrs]string{
	"specversion", "id", "source", "type", "subject", "time",
	"datacontenttype", "dataschema",
}

var attrHeaders = [numAttrs]string{
	"ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time",
	"ce-datacontenttype", "ce-dataschema",
}

// maxTimeLen is the longest RFC 3339 timestamp Encode writes (always UTC).
const maxTimeLen = len("2006-01-02T15:04:05.999999999Z")

// attrIndex returns the index of the context attribute name (matched
// case-insensitively), or -1 for an extension.
func attrIndex(name string) int {
	switch name {
	case "specversion":
		return attrSpecVersion
	case "id":
		return attrID
	case "source":
		return attrSource
	case "type":
		return attrType
	case "subject":
		return attrSubject
	case "time":
		return attrTime
	case "datacontenttype":
		return attrDataContentType
	case "dataschema":
		return attrDataSchema
	}
	for i, n := range attrNames {
		if equalFoldASCII(name, n) {
			return i
		}
	}
	return -1
}

// field returns the string field of attribute i; time has none.
func (e *Event) field(i int) *string {
	switch i {
	case attrSpecVersion:
		return &e.SpecVersion
	case attrID:
		return &e.ID
	case attrSource:
		return &e.Source
	case attrType:
		return &e.Type
	case attrSubject:
		return &e.Subject
	case attrDataContentType:
		return &e.DataContentType
	case attrDataSchema:
		return &e.DataSchema
	}
	return nil
}

// binaryWriter puts headers into h. All header values share one []string
// backing array; extension header names and percent-encoded values, which
// need building, share one buffer.
type binaryWriter struct {
	h    map[string][]string
	vals []string
	buf  strings.Builder
}

// encodeBlock holds, in one allocation, the header values of an event
// without extensions: the backing array of the values and the bytes of
// the timestamp.
type encodeBlock struct {
	vals [numAttrs]string
	time [maxTimeLen]byte
}

// encodeBinary writes ev (already validated) as ce- headers into h and
// returns ev.Data as the body.
// binaryHeaderCount is how many ce- headers encodeBinary writes for ev.
func binaryHeaderCount(ev *Event) int {
	n := len(ev.Extensions)
	for i := range numAttrs {
		if i == attrTime && !ev.Time.IsZero() || i != attrTime && *ev.field(i) != "" {
			n++
		}
	}
	return n
}

func encodeBinary(ev *Event, h map[string][]string) []byte {
	n := binaryHeaderCount(ev)
	w := binaryWriter{h: h}
	var timeBuf []byte
	if n <= numAttrs {
		// One allocation for the values and the timestamp.
		blk := new(encodeBlock)
		w.vals, timeBuf = blk.vals[:n:n], blk.time[:0]
	} else {
		w.vals, timeBuf = make([]string, n), make([]byte, 0, maxTimeLen)
	}
	// specversion is "1.0" (validated): nothing to escape.
	w.set(attrHeaders[attrSpecVersion], ev.SpecVersion)
	for i := attrID; i < numAttrs; i++ {
		if i == attrTime {
			if !ev.Time.IsZero() {
				b := appendTime(timeBuf, ev.Time)
				// b is never written again, so it can back a string.
				w.set(attrHeaders[attrTime], unsafe.String(&b[0], len(b)))
			}
		} else if v := *ev.field(i); v != "" {
			w.put(attrHeaders[i], v)
		}
	}
	if len(ev.Extensions) > 0 {
		// Guess names of up to 20 characters, the spec's recommendation.
		w.buf.Grow(len(ev.Extensions) * len("ce-12345678901234567890"))
	}
	for name, v := range ev.Extensions {
		start := w.buf.Len()
		w.buf.WriteString("ce-")
		w.buf.WriteString(name)
		w.put(w.buf.String()[start:], v)
	}
	return ev.Data
}

// put sets header key to v, percent-encoded if needed.
func (w *binaryWriter) put(key, v string) {
	if needsEscape(v) {
		start := w.buf.Len()
		w.buf.Grow(escapedLen(v))
		writeEscaped(&w.buf, v)
		v = w.buf.String()[start:]
	}
	w.set(key, v)
}

// set stores a one-element slice of the shared backing array, capped so an
// append by the caller cannot overwrite the next header's value.
func (w *binaryWriter) set(key, v string) {
	w.vals[0] = v
	w.h[key] = w.vals[0:1:1]
	w.vals = w.vals[1:]
}
