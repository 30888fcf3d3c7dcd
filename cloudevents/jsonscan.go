package cloudevents

import (
	"fmt"
	"strings"
)

// jsonScanner is a hand-written RFC 8259 syntax checker over a string that
// is already known to be valid UTF-8. It reports where each value ends so
// that the structured decoder can take members as substrings of the body
// without copying them, and accepts exactly what encoding/json accepts
// (nesting is limited to the same depth of 10000).
type jsonScanner struct {
	s   string
	i   int
	err error
}

const maxJSONDepth = 10000

// fail records a syntax error at the current offset (the first one wins)
// and returns false.
func (sc *jsonScanner) fail(what string) bool {
	if sc.err == nil {
		if sc.i >= len(sc.s) {
			sc.err = fmt.Errorf("%w: truncated JSON", ErrMalformed)
		} else {
			sc.err = fmt.Errorf("%w: invalid character %q %s at offset %d",
				ErrMalformed, sc.s[sc.i], what, sc.i)
		}
	}
	return false
}

// space skips JSON whitespace.
func (sc *jsonScanner) space() {
	for sc.i < len(sc.s) && isJSONSpace(sc.s[sc.i]) {
		sc.i++
	}
}

// peek returns the byte at the offset, or 0 at the end.
func (sc *jsonScanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

// value scans one value (after whitespace) and reports whether it is valid.
func (sc *jsonScanner) value(depth int) bool {
	sc.space()
	switch c := sc.peek(); {
	case c == '"':
		_, ok := sc.str()
		return ok
	case c == '{':
		return sc.object(depth + 1)
	case c == '[':
		return sc.array(depth + 1)
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	case c == '-' || isDigit(c):
		return sc.number()
	}
	return sc.fail("looking for beginning of value")
}

func (sc *jsonScanner) literal(lit string) bool {
	if !strings.HasPrefix(sc.s[sc.i:], lit) {
		for j := 0; j < len(lit) && sc.i < len(sc.s) && sc.s[sc.i] == lit[j]; j++ {
			sc.i++
		}
		return sc.fail("in literal")
	}
	sc.i += len(lit)
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *jsonScanner) number() bool {
	if sc.peek() == '-' {
		sc.i++
	}
	switch c := sc.peek(); {
	case c == '0':
		sc.i++
	case c >= '1' && c <= '9':
		sc.digits()
	default:
		return sc.fail("in numeric literal")
	}
	if sc.peek() == '.' {
		sc.i++
		if !isDigit(sc.peek()) {
			return sc.fail("after decimal point in numeric literal")
		}
		sc.digits()
	}
	if c := sc.peek(); c == 'e' || c == 'E' {
		sc.i++
		if c := sc.peek(); c == '+' || c == '-' {
			sc.i++
		}
		if !isDigit(sc.peek()) {
			return sc.fail("in exponent of numeric literal")
		}
		sc.digits()
	}
	return true
}

func (sc *jsonScanner) digits() {
	for sc.i < len(sc.s) && isDigit(sc.s[sc.i]) {
		sc.i++
	}
}

// str scans a string starting at '"' and reports whether it holds an
// escape (then it needs unquoting; otherwise the bytes between the quotes
// are the value).
func (sc *jsonScanner) str() (escaped, ok bool) {
	sc.i++ // opening quote
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			sc.i++
			return escaped, true
		case c < 0x20:
			return false, sc.fail("in string literal")
		case c == '\\':
			escaped = true
			sc.i++
			switch sc.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.i++
			case 'u':
				sc.i++
				for j := 0; j < 4; j++ {
					if !isHex(sc.peek()) {
						return false, sc.fail("in \\u hexadecimal character escape")
					}
					sc.i++
				}
			default:
				return false, sc.fail("in string escape code")
			}
		default:
			sc.i++
		}
	}
	return false, sc.fail("")
}

func (sc *jsonScanner) object(depth int) bool {
	if depth > maxJSONDepth {
		return sc.fail("exceeded max depth")
	}
	sc.i++ // '{'
	sc.space()
	if sc.peek() == '}' {
		sc.i++
		return true
	}
	for {
		sc.space()
		if sc.peek() != '"' {
			return sc.fail("looking for beginning of object key string")
		}
		if _, ok := sc.str(); !ok {
			return false
		}
		sc.space()
		if sc.peek() != ':' {
			return sc.fail("after object key")
		}
		sc.i++
		if !sc.value(depth) {
			return false
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return true
		default:
			return sc.fail("after object key:value pair")
		}
	}
}

func (sc *jsonScanner) array(depth int) bool {
	if depth > maxJSONDepth {
		return sc.fail("exceeded max depth")
	}
	sc.i++ // '['
	sc.space()
	if sc.peek() == ']' {
		sc.i++
		return true
	}
	for {
		if !sc.value(depth) {
			return false
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return true
		default:
			return sc.fail("after array element")
		}
	}
}
