package cloudevents

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/cloudevents/sdk-go/v2/types"
)

// jsonReader collects the members of a JSON-format event. Member values
// are substrings of one string copy of the body, so attributes cost no
// further allocation.
type jsonReader struct {
	ev         *Event
	seen       uint16   // bit i: attribute i; then data and data_base64
	seenExt    []string // extension names given, null ones included
	data, b64  string
	hasDataKey bool
}

const (
	seenData   = 1 << numAttrs
	seenBase64 = 1 << (numAttrs + 1)
)

// readObject walks the top-level object member by member, so a member
// given twice is caught (encoding/json would keep the last one). Syntax
// is checked as encoding/json does, member by member, so a bad member is
// reported before a syntax error further on.
func (r *jsonReader) readObject(body string) error {
	sc := jsonScanner{s: body}
	sc.space()
	if sc.peek() != '{' {
		return fmt.Errorf("%w: structured event is not a JSON object", ErrMalformed)
	}
	sc.i++
	sc.space()
	if sc.peek() == '}' {
		sc.i++
		return r.end(&sc)
	}
	for {
		sc.space()
		if sc.peek() != '"' {
			sc.fail("looking for beginning of object key string")
			return sc.err
		}
		start := sc.i
		escaped, ok := sc.str()
		if !ok {
			return sc.err
		}
		key := body[start+1 : sc.i-1]
		if escaped {
			// As encoding/json's Token: a lone surrogate becomes U+FFFD,
			// and the name then fails validation.
			if json.Unmarshal([]byte(body[start:sc.i]), &key) != nil {
				return fmt.Errorf("%w: bad JSON object key", ErrMalformed)
			}
		}
		sc.space()
		if sc.peek() != ':' {
			sc.fail("after object key")
			return sc.err
		}
		sc.i++
		sc.space()
		start = sc.i
		if !sc.value(0) {
			return sc.err
		}
		if err := r.member(key, body[start:sc.i]); err != nil {
			return err
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return r.end(&sc)
		default:
			sc.fail("after object key:value pair")
			return sc.err
		}
	}
}

// end checks that only whitespace follows the object.
func (r *jsonReader) end(sc *jsonScanner) error {
	sc.space()
	if sc.i != len(sc.s) {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return nil
}

func (r *jsonReader) member(key, raw string) error {
	bit := uint16(0)
	switch key {
	case "data":
		bit = seenData
	case "data_base64":
		bit = seenBase64
	default:
		if i := coreIndex(key); i >= 0 {
			bit = 1 << i
		}
	}
	if bit == 0 {
		for _, k := range r.seenExt {
			if k == key {
				return malformed(key, "JSON member given more than once")
			}
		}
		r.seenExt = append(r.seenExt, key)
		return r.extension(key, raw)
	}
	if r.seen&bit != 0 {
		return malformed(key, "JSON member given more than once")
	}
	r.seen |= bit
	switch bit {
	case seenData:
		r.data, r.hasDataKey = raw, true
		return nil
	case seenBase64:
		r.b64 = raw
		return nil
	}
	return r.attribute(coreIndex(key), raw)
}

// coreIndex returns the index of the context attribute named exactly
// name, or -1.
func coreIndex(name string) int {
	for i, n := range attrNames {
		if n == name {
			return i
		}
	}
	return -1
}

// attribute sets context attribute i; JSON null means absent.
func (r *jsonReader) attribute(i int, raw string) error {
	name := attrNames[i]
	if raw[0] == 'n' {
		return nil
	}
	if raw[0] != '"' {
		return malformed(name, "must be a JSON string")
	}
	s, err := jsonString(name, raw)
	if err != nil {
		return err
	}
	if i == attrTime {
		t, err := parseTime(s)
		r.ev.Time = t
		return err
	}
	*r.ev.field(i) = s
	return nil
}

// extension stores a JSON scalar in canonical string form: strings as is,
// booleans as "true"/"false", numbers as Integers (whole numbers in the
// int32 range; anything else is rejected rather than truncated).
func (r *jsonReader) extension(name string, raw string) error {
	var v string
	switch c := raw[0]; {
	case c == 'n':
		return nil
	case c == '"':
		s, err := jsonString(name, raw)
		if err != nil {
			return err
		}
		v = s
	case c == 't' || c == 'f':
		v = types.FormatBool(c == 't')
	case c == '-' || isDigit(c):
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return malformed(name, "JSON number is not a CloudEvents Integer (whole, 32-bit)")
		}
		v = types.FormatInteger(int32(f))
	default:
		return malformed(name, "must be a JSON string, number or boolean")
	}
	if r.ev.Extensions == nil {
		r.ev.Extensions = make(map[string]string, 4)
	}
	r.ev.Extensions[name] = v
	return nil
}

// setData applies "data" or "data_base64" (JSON event format 3.1.2). Data
// is always a fresh copy, never memory shared with the body.
func (r *jsonReader) setData() error {
	if r.b64 != "" && r.b64[0] != 'n' {
		if r.hasDataKey {
			return malformed("data_base64", "both data and data_base64 are present")
		}
		return r.setBase64()
	}
	if !r.hasDataKey {
		return nil
	}
	ev := r.ev
	if ev.DataContentType == "" {
		// No datacontenttype means JSON; make it explicit (3.1.2).
		ev.DataContentType = "application/json"
	}
	var d string
	switch {
	case isJSONMediaType(ev.DataContentType):
		d = r.data
	case r.data[0] == '"':
		s, err := jsonString("data", r.data)
		if err != nil {
			return err
		}
		d = s
	case r.data[0] != 'n':
		d = r.data // lenient: a non-string for a non-JSON type
	}
	if len(d) > 0 {
		ev.Data = []byte(d)
	}
	return nil
}

func (r *jsonReader) setBase64() error {
	if r.b64[0] != '"' {
		return malformed("data_base64", "must be a JSON string")
	}
	s, err := jsonString("data_base64", r.b64)
	if err != nil {
		return err
	}
	d := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(d, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return malformed("data_base64", "bad base64")
	}
	if n > 0 {
		r.ev.Data = d[:n]
	}
	return nil
}

// jsonString unquotes the JSON string raw, whose syntax the scanner has
// checked. Without escapes it is the substring between the quotes. With
// escapes, encoding/json unquotes it, and unpaired surrogate escapes
// ("\ud800"), which encoding/json would silently turn into U+FFFD, are
// rejected.
func jsonString(name string, raw string) (string, error) {
	inner := raw[1 : len(raw)-1]
	if !hasBackslash(inner) {
		return inner, nil
	}
	var s string
	b := []byte(raw)
	if json.Unmarshal(b, &s) != nil || loneSurrogate(b) {
		return "", malformed(name, "bad JSON string")
	}
	return s, nil
}

func hasBackslash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

// loneSurrogate reports whether the JSON string raw has a \u escape of a
// surrogate that is not part of a high-low pair.
func loneSurrogate(raw []byte) bool {
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' {
			i++
			continue
		}
		r := hex4(raw[i+2:])
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if len(raw) < i+12 || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return true
			}
			if lo := hex4(raw[i+8:]); lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads four hex digits (the string was already checked by the
// scanner).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r = r<<4 | rune(unhex(c))
	}
	return r
}
