package cloudevents

import (
	"strings"
	"time"
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

// maxTimeLen is the longest RFC 3339 timestamp Encode writes.
const maxTimeLen = len("2006-01-02T15:04:05.999999999Z07:00")

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
// backing array; keys and values that need building share one buffer.
type binaryWriter struct {
	h    map[string][]string
	vals []string
	buf  strings.Builder
}

// encodeBinary writes ev (already validated) as ce- headers into h and
// returns ev.Data as the body.
func encodeBinary(ev *Event, h map[string][]string) []byte {
	n := len(ev.Extensions)
	for i := range numAttrs {
		if i == attrTime && !ev.Time.IsZero() || i != attrTime && *ev.field(i) != "" {
			n++
		}
	}
	w := binaryWriter{h: h, vals: make([]string, n)}
	if size := bufferSize(ev); size > 0 {
		w.buf.Grow(size)
	}
	for i := range numAttrs {
		if i == attrTime {
			if !ev.Time.IsZero() {
				w.putTime(ev.Time)
			}
		} else if v := *ev.field(i); v != "" {
			w.put(attrHeaders[i], v)
		}
	}
	for name, v := range ev.Extensions {
		start := w.buf.Len()
		w.buf.WriteString("ce-")
		w.buf.WriteString(name)
		w.put(w.buf.String()[start:], v)
	}
	return ev.Data
}

// bufferSize estimates the bytes encodeBinary builds: the timestamp and
// extension header names (guessing names of up to 20 characters, the
// spec's recommendation). Values that need percent-encoding, which are
// rare, grow the buffer.
func bufferSize(ev *Event) int {
	n := len(ev.Extensions) * len("ce-12345678901234567890")
	if !ev.Time.IsZero() {
		n += maxTimeLen
	}
	return n
}

// put sets header key to v, percent-encoded if needed.
func (w *binaryWriter) put(key, v string) {
	if escapedLen(v) != len(v) {
		start := w.buf.Len()
		writeEscaped(&w.buf, v)
		v = w.buf.String()[start:]
	}
	w.set(key, v)
}

func (w *binaryWriter) putTime(t time.Time) {
	var scratch [maxTimeLen]byte
	start := w.buf.Len()
	w.buf.Write(t.UTC().AppendFormat(scratch[:0], time.RFC3339Nano))
	w.set(attrHeaders[attrTime], w.buf.String()[start:])
}

// set stores a one-element slice of the shared backing array, capped so an
// append by the caller cannot overwrite the next header's value.
func (w *binaryWriter) set(key, v string) {
	w.vals[0] = v
	w.h[key] = w.vals[0:1:1]
	w.vals = w.vals[1:]
}
