package cloudevents

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// encodeStructured writes ev (already validated) in the JSON event format
// with a hand-written append-style writer. Members come in a fixed order:
// specversion, id, source, type, then subject, time, datacontenttype and
// dataschema when set, then the extensions sorted by name (as strings, their
// canonical form), then the data. Data goes inline as "data" when
// datacontenttype is JSON (*/json or */*+json) and Data is valid JSON
// without surrounding whitespace (so it reads back byte for byte);
// otherwise as "data_base64".
func encodeStructured(ev *Event) ([]byte, error) {
	n := 128 + len(ev.ID) + len(ev.Source) + len(ev.Type) + len(ev.Subject) +
		len(ev.DataContentType) + len(ev.DataSchema) + len(ev.Data)*4/3
	for k, v := range ev.Extensions {
		n += len(k) + len(v) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, `{"specversion":`...)
	b = appendJSONString(b, ev.SpecVersion)
	b = appendMember(b, "id", ev.ID)
	b = appendMember(b, "source", ev.Source)
	b = appendMember(b, "type", ev.Type)
	if ev.Subject != "" {
		b = appendMember(b, "subject", ev.Subject)
	}
	if !ev.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = appendTime(b, ev.Time)
		b = append(b, '"')
	}
	if ev.DataContentType != "" {
		b = appendMember(b, "datacontenttype", ev.DataContentType)
	}
	if ev.DataSchema != "" {
		b = appendMember(b, "dataschema", ev.DataSchema)
	}
	b = appendExtensions(b, ev.Extensions)
	switch {
	case inlineJSON(ev):
		b = append(b, `,"data":`...)
		b = append(b, ev.Data...)
	case len(ev.Data) > 0:
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, ev.Data)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// appendExtensions appends the extensions as string members sorted by
// name; up to eight names are sorted without allocating.
func appendExtensions(b []byte, ext map[string]string) []byte {
	if len(ext) == 0 {
		return b
	}
	var arr [8]string
	names := arr[:0]
	for k := range ext {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		b = appendMember(b, k, ext[k])
	}
	return b
}

// appendMember appends `,"name":"value"` with both strings escaped.
func appendMember(b []byte, name, value string) []byte {
	b = append(b, ',')
	b = appendJSONString(b, name)
	b = append(b, ':')
	return appendJSONString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259): '"' and '\\'
// are escaped, control characters as \b \f \n \r \t or \u00XX, and U+2028
// and U+2029 as \u2028 and \u2029, as encoding/json does. Invalid UTF-8
// becomes U+FFFD (Validate rejects it before this runs).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func inlineJSON(ev *Event) bool {
	d := ev.Data
	if len(d) == 0 || !isJSONMediaType(ev.DataContentType) {
		return false
	}
	if isJSONSpace(d[0]) || isJSONSpace(d[len(d)-1]) {
		return false
	}
	return utf8.Valid(d) && json.Valid(d)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// decodeStructured reads a structured-mode body whose Content-Type is ct.
func decodeStructured(ct string, body []byte) (Event, error) {
	mt := ct
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, ContentTypeStructuredJSON),
		strings.EqualFold(mt, "application/cloudevents"):
		return decodeJSON(body)
	case strings.EqualFold(mt, "application/cloudevents-batch+json"):
		return Event{}, fmt.Errorf("%w: batch content mode is not supported", ErrMalformed)
	}
	return Event{}, fmt.Errorf("%w: unsupported event format %s", ErrMalformed, quote(ct))
}

// decodeJSON reads an event in the JSON event format.
func decodeJSON(body []byte) (Event, error) {
	var ev Event
	if !utf8.Valid(body) {
		return ev, fmt.Errorf("%w: structured event is not valid UTF-8", ErrMalformed)
	}
	var arr [8]string
	r := jsonReader{ev: &ev, seenExt: arr[:0]}
	// One copy of the body backs every attribute string.
	if err := r.readObject(string(body)); err != nil {
		return ev, err
	}
	if err := r.setData(); err != nil {
		return ev, err
	}
	return ev, ev.Validate()
}
