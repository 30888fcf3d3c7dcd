package cloudevents

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/types"
)

// jsonReader collects the members of a JSON-format event.
type jsonReader struct {
	ev         *Event
	seen       map[string]bool
	data, b64  json.RawMessage
	hasDataKey bool
}

// readObject walks the top-level object member by member, so a member
// given twice is caught (encoding/json would keep the last one).
func (r *jsonReader) readObject(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return syntaxError(err, "structured event is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err, "")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxError(err, "")
		}
		if err := r.member(key, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return syntaxError(err, "data after the JSON object")
	}
	return nil
}

func syntaxError(err error, msg string) error {
	if err == nil || errors.Is(err, io.EOF) {
		if msg == "" {
			msg = "truncated JSON"
		}
		return fmt.Errorf("%w: %s", ErrMalformed, msg)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (r *jsonReader) member(key string, raw json.RawMessage) error {
	if r.seen[key] {
		return malformed(key, "JSON member given more than once")
	}
	r.seen[key] = true
	switch key {
	case "data":
		r.data, r.hasDataKey = raw, true
		return nil
	case "data_base64":
		r.b64 = raw
		return nil
	}
	for i, name := range attrNames {
		if name == key {
			return r.attribute(i, raw)
		}
	}
	return r.extension(key, raw)
}

// attribute sets context attribute i; JSON null means absent.
func (r *jsonReader) attribute(i int, raw json.RawMessage) error {
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
func (r *jsonReader) extension(name string, raw json.RawMessage) error {
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
		f, err := strconv.ParseFloat(string(raw), 64)
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

// setData applies "data" or "data_base64" (JSON event format 3.1.2).
func (r *jsonReader) setData() error {
	if r.b64 != nil && r.b64[0] != 'n' {
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
	switch {
	case isJSONMediaType(ev.DataContentType):
		ev.Data = r.data
	case r.data[0] == '"':
		s, err := jsonString("data", r.data)
		if err != nil {
			return err
		}
		ev.Data = []byte(s)
	case r.data[0] != 'n':
		ev.Data = r.data // lenient: a non-string for a non-JSON type
	}
	if len(ev.Data) == 0 {
		ev.Data = nil
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
	d, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return malformed("data_base64", "bad base64")
	}
	if len(d) > 0 {
		r.ev.Data = d
	}
	return nil
}

// jsonString unquotes a JSON string. Unpaired surrogate escapes ("\ud800"),
// which encoding/json would silently turn into U+FFFD, are rejected.
func jsonString(name string, raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil || loneSurrogate(raw) {
		return "", malformed(name, "bad JSON string")
	}
	return s, nil
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

// hex4 reads four hex digits (the string was already checked by
// encoding/json).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r = r<<4 | rune(unhex(c))
	}
	return r
}
