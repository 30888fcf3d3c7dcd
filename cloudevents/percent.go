package cloudevents

import (
	"strings"
	"unicode/utf8"
)

// mustEscape marks the bytes the NATS binding (1.0.3 draft, 3.1.3.2)
// percent-encodes: space, '"', '%', and everything outside U+0021-U+007E,
// taken byte by byte from the UTF-8 encoding.
var mustEscape = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c <= ' ' || c == '"' || c == '%' || c >= 0x7F
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// escapedLen returns the length of s once percent-encoded.
func escapedLen(s string) int {
	n := len(s)
	for i := cleanPrefix(s); i < len(s); i++ {
		if mustEscape[s[i]] {
			n += 2
		}
	}
	return n
}

// needsEscape reports whether s needs percent-encoding.
func needsEscape(s string) bool {
	for i := cleanPrefix(s); i < len(s); i++ {
		if mustEscape[s[i]] {
			return true
		}
	}
	return false
}

// appendEscaped appends s percent-encoded, with uppercase hex digits.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !mustEscape[c] {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

// decodeHeaderValue turns a header value into the attribute's string:
// optional whitespace around it is dropped, a double-quoted value is
// unquoted (RFC 7230 3.2.6), then one round of percent-decoding is done.
// Values without '%' or '"' come back as is, without allocating, which also
// reads sdk-go's unencoded values. attr names the attribute in errors.
func decodeHeaderValue(attr, v string) (string, error) {
	v = trimOWS(v)
	if len(v) > 0 && v[0] == '"' {
		u, ok := unquote(v)
		if !ok {
			return "", malformed(attr, "bad quoted string in header value")
		}
		v = u
	}
	if !hasPercent(v) {
		return v, nil
	}
	return percentDecode(attr, v)
}

// hasPercent reports whether s has a '%'. Header values are short, so a
// word-at-a-time loop beats the call to strings.IndexByte.
func hasPercent(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if hasByte(load64(s[i:]), '%') {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] == '%' {
			return true
		}
	}
	return false
}

// percentDecode decodes every %XX (either case of hex digit) and checks the
// result is valid UTF-8.
func percentDecode(attr, v string) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
			return "", malformed(attr, "bad percent-encoding in header value")
		}
		b.WriteByte(unhex(v[i+1])<<4 | unhex(v[i+2]))
		i += 2
	}
	s := b.String()
	if !utf8.ValidString(s) {
		return "", malformed(attr, "percent-decoded header value is not valid UTF-8")
	}
	return s, nil
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}

// unquote reads an RFC 7230 quoted-string that spans all of s.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", false
	}
	in := s[1 : len(s)-1]
	if strings.IndexByte(in, '\\') < 0 {
		return in, strings.IndexByte(in, '"') < 0
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '"':
			return "", false
		case '\\':
			if i+1 == len(in) {
				return "", false
			}
			i++
			c = in[i]
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// trimOWS drops spaces and tabs around s (strings.Trim is slower here).
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
