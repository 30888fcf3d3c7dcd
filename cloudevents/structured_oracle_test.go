package cloudevents

// The token-walk structured decoder this package used before the
// hand-written scanner, kept as an oracle: FuzzStructuredDecodeOracle
// checks that both accept and reject the same bodies, with the same
// events and the same attribute at fault.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/types"
)

// oldDecodeJSON is the former decodeJSON.
func oldDecodeJSON(body []byte) (Event, error) {
	var ev Event
	if !utf8.Valid(body) {
		return ev, fmt.Errorf("%w: structured event is not valid UTF-8", ErrMalformed)
	}
	r := oldJSONReader{ev: &ev, seen: make(map[string]bool, 12)}
	if err := r.readObject(body); err != nil {
		return ev, err
	}
	if err := r.setData(); err != nil {
		return ev, err
	}
	return ev, ev.Validate()
}

// oldJSONReader collects the members of a JSON-format event.
type oldJSONReader struct {
	ev         *Event
	seen       map[string]bool
	data, b64  json.RawMessage
	hasDataKey bool
}

// readObject walks the top-level object member by member, so a member
// given twice is caught (encoding/json would keep the last one).
func (r *oldJSONReader) readObject(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return oldSyntaxError(err, "structured event is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return oldSyntaxError(err, "")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return oldSyntaxError(err, "")
		}
		if err := r.member(key, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return oldSyntaxError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return oldSyntaxError(err, "data after the JSON object")
	}
	return nil
}

func oldSyntaxError(err error, msg string) error {
	if err == nil || errors.Is(err, io.EOF) {
		if msg == "" {
			msg = "truncated JSON"
		}
		return fmt.Errorf("%w: %s", ErrMalformed, msg)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (r *oldJSONReader) member(key string, raw json.RawMessage) error {
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
func (r *oldJSONReader) attribute(i int, raw json.RawMessage) error {
	name := attrNames[i]
	if raw[0] == 'n' {
		return nil
	}
	if raw[0] != '"' {
		return malformed(name, "must be a JSON string")
	}
	s, err := oldJSONString(name, raw)
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
func (r *oldJSONReader) extension(name string, raw json.RawMessage) error {
	var v string
	switch c := raw[0]; {
	case c == 'n':
		return nil
	case c == '"':
		s, err := oldJSONString(name, raw)
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
func (r *oldJSONReader) setData() error {
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
		s, err := oldJSONString("data", r.data)
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

func (r *oldJSONReader) setBase64() error {
	if r.b64[0] != '"' {
		return malformed("data_base64", "must be a JSON string")
	}
	s, err := oldJSONString("data_base64", r.b64)
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
func oldJSONString(name string, raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil || loneSurrogate(raw) {
		return "", malformed(name, "bad JSON string")
	}
	return s, nil
}

func FuzzStructuredDecodeOracle(f *testing.F) {
	fuzzSeeds(f)
	for _, ev := range oracleEvents() {
		body, err := Encode(&ev, Structured, map[string][]string{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add("", body)
	}
	f.Fuzz(func(t *testing.T, _ string, body []byte) {
		got, err := decodeJSON(body)
		want, wantErr := oldDecodeJSON(body)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("new: %v, old: %v, body %q", err, wantErr, body)
		}
		if err != nil {
			var a, b *AttributeError
			if errors.As(err, &a) != errors.As(wantErr, &b) || a != nil && (a.Attribute != b.Attribute || a.malformed != b.malformed) {
				t.Fatalf("new: %v, old: %v, body %q", err, wantErr, body)
			}
			if errors.Is(err, ErrMalformed) != errors.Is(wantErr, ErrMalformed) {
				t.Fatalf("new: %v, old: %v, body %q", err, wantErr, body)
			}
			return
		}
		if !sameEvent(got, want) {
			t.Fatalf("new %#v\nold %#v", got, want)
		}
	})
}
