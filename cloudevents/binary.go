package cloudevents

import "unsafe"

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

// binaryWriter puts headers into h. The header values share one []string
// backing array (vals); the strings Encode builds (the timestamp, extension
// header names, percent-encoded values) are appended to buf, whose capacity
// was reserved for all of them before writing, so buf never moves and every
// string over it stays valid.
type binaryWriter struct {
	h    map[string][]string
	vals []string
	buf  []byte
}

// encodeBlock holds, in one allocation, the storage of an event whose
// values need no escaping and that has no extensions: the backing array of
// the values and the bytes of the timestamp.
type encodeBlock struct {
	vals [numAttrs]string
	time [maxTimeLen]byte
}

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

// binaryPlan is what encodeBinary learns about ev in one pass before
// writing: how many headers it writes, how many bytes of built strings
// (the timestamp, extension header names, percent-encoded values), and
// which context attributes need percent-encoding.
type binaryPlan struct {
	n, size int
	escape  [numAttrs]bool
}

// planBinary scans ev's values once for encodeBinary.
func planBinary(ev *Event) binaryPlan {
	p := binaryPlan{n: 1 + len(ev.Extensions)} // specversion: "1.0", never escaped
	if !ev.Time.IsZero() {
		p.n++
		p.size += maxTimeLen
	}
	for i := attrID; i < numAttrs; i++ {
		if i == attrTime { // counted above
			continue
		}
		if v := *ev.field(i); v != "" {
			p.n++
			if l := escapedLen(v); l != len(v) {
				p.size += l
				p.escape[i] = true
			}
		}
	}
	for name, v := range ev.Extensions {
		p.size += len("ce-") + len(name)
		if l := escapedLen(v); l != len(v) {
			p.size += l
		}
	}
	return p
}

// encodeBinary writes ev (already validated) as ce- headers into h and
// returns ev.Data as the body. The storage of the header values is
// allocated for this call.
func encodeBinary(ev *Event, h map[string][]string) []byte {
	p := planBinary(ev)
	w := binaryWriter{h: h}
	if p.n <= numAttrs && p.size <= maxTimeLen {
		// One allocation for the values and the timestamp.
		blk := new(encodeBlock)
		w.vals, w.buf = blk.vals[:p.n:p.n], blk.time[:0]
	} else {
		w.vals, w.buf = make([]string, p.n), make([]byte, 0, p.size)
	}
	w.write(ev, &p)
	return ev.Data
}

// write puts the headers of ev; w.vals has room for p.n values and w.buf
// for p.size bytes.
func (w *binaryWriter) write(ev *Event, p *binaryPlan) {
	w.set(attrHeaders[attrSpecVersion], ev.SpecVersion)
	for i := attrID; i < numAttrs; i++ {
		if i == attrTime {
			if !ev.Time.IsZero() {
				start := len(w.buf)
				w.buf = appendTime(w.buf, ev.Time)
				w.set(attrHeaders[attrTime], w.built(start))
			}
			continue
		}
		switch v := *ev.field(i); {
		case p.escape[i]:
			w.setEscaped(attrHeaders[i], v)
		case v != "":
			w.set(attrHeaders[i], v)
		}
	}
	for name, v := range ev.Extensions {
		start := len(w.buf)
		w.buf = append(append(w.buf, "ce-"...), name...)
		key := w.built(start)
		if needsEscape(v) {
			w.setEscaped(key, v)
		} else {
			w.set(key, v)
		}
	}
}

// built returns buf[start:] as a string. buf never moves and its bytes
// from start on are not written again, so they can back a string.
func (w *binaryWriter) built(start int) string {
	return unsafe.String(&w.buf[start], len(w.buf)-start)
}

// setEscaped sets header key to v percent-encoded.
func (w *binaryWriter) setEscaped(key, v string) {
	start := len(w.buf)
	w.buf = appendEscaped(w.buf, v)
	w.set(key, w.built(start))
}

// set stores a one-element slice of the shared backing array, capped so an
// append by the caller cannot overwrite the next header's value.
func (w *binaryWriter) set(key, v string) {
	w.vals[0] = v
	w.h[key] = w.vals[0:1:1]
	w.vals = w.vals[1:]
}
