package subject

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Subject rules follow nats-server (server/sublist.go: IsValidSubject,
// IsValidLiteralSubject, matchLiteral), with one addition: control
// characters are rejected anywhere, not only the whitespace NATS checks.

// Validate checks that s is a valid subject to publish to under NATS
// rules: non-empty "."-separated tokens, no wildcard tokens ("*", ">"), no
// whitespace or control characters, and at most MaxSubjectLen bytes.
// Every backend applies it.
func Validate(s string) error {
	return checkSubject(s, false)
}

// ValidatePattern checks that s is a valid subject pattern to subscribe to:
// like Validate (MaxSubjectLen included), and "*" may stand for any one token, ">" for one or
// more trailing tokens (last token only). As in NATS, "*" or ">" inside a
// longer token ("foo*") is a literal character, not a wildcard.
func ValidatePattern(s string) error {
	return checkSubject(s, true)
}

func checkSubject(s string, wildcards bool) error {
	if s == "" {
		return subjectError(s, "empty subject")
	}
	if len(s) > MaxSubjectLen {
		return subjectError(s, tooLong(s))
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if c := s[i]; c > ' ' && c < 0x7f {
				continue // printable ASCII: the common case, no call
			}
			if bad := badChar(s, i); bad != "" {
				return subjectError(s, bad)
			}
			continue
		}
		tok := s[start:i]
		start = i + 1
		switch {
		case tok == "":
			return subjectError(s, "empty token")
		case tok == "*" && !wildcards, tok == ">" && !wildcards:
			return subjectError(s, "wildcard "+tok+" in a subject to publish to")
		case tok == ">" && i != len(s):
			return subjectError(s, "\">\" is not the last token")
		}
	}
	return nil
}

// badChar describes why the byte at s[i] is not allowed, or returns "".
func badChar(s string, i int) string {
	c := s[i]
	switch {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
		return fmt.Sprintf("whitespace %q at byte %d", c, i)
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character %q at byte %d", c, i)
	case c >= 0x80:
		r, _ := utf8.DecodeRuneInString(s[i:])
		if unicode.IsControl(r) {
			return fmt.Sprintf("control character %q at byte %d", r, i)
		}
	}
	return ""
}

func subjectError(s, why string) error {
	return fmt.Errorf("%w %s: %s", ErrInvalid, abbrev(s), why)
}

// Match reports whether the literal subject matches pattern under
// NATS rules (nats-server's sublist): a "*" token matches exactly one token,
// a trailing ">" token one or more tokens, any other token (including
// "foo*") only itself. A subject with an empty token matches nothing.
// Whitespace is not checked; validate both sides first.
func Match(pattern, subject string) bool {
	if pattern == "" || subject == "" {
		return false
	}
	for {
		pt, prest, pmore := nextToken(pattern)
		st, srest, smore := nextToken(subject)
		if st == "" {
			return false
		}
		switch pt {
		case ">":
			return !pmore && noEmptyToken(srest, smore)
		case "*":
		default:
			if pt != st {
				return false
			}
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

// nextToken splits s at its first '.'; more reports whether there was one.
func nextToken(s string) (tok, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// noEmptyToken reports whether the remaining subject (after a '.' when more)
// has no empty token.
func noEmptyToken(rest string, more bool) bool {
	for more {
		var tok string
		tok, rest, more = nextToken(rest)
		if tok == "" {
			return false
		}
	}
	return true
}

// ValidateToken checks that v can stand as one subject token as it is: not empty,
// printable ASCII only, no ".", "*" or ">", no leading "$" (reserved
// for system subjects), and at most MaxSubjectLen bytes. "%" is allowed, so Escape's output passes. Use it on values from outside (tenant
// ids, user names) before they become part of a subject; Escape is the
// lenient alternative.
func ValidateToken(v string) error {
	if v == "" {
		return fmt.Errorf("%w: empty token", ErrInvalid)
	}
	if len(v) > MaxSubjectLen {
		return fmt.Errorf("%w: token %s: %s", ErrInvalid, abbrev(v), tooLong(v))
	}
	if v[0] == '$' {
		return fmt.Errorf("%w: token %q starts with \"$\"", ErrInvalid, v)
	}
	for i := 0; i < len(v); i++ {
		if !tokenByte(v[i]) && v[i] != '%' {
			return fmt.Errorf("%w: token %q has %q at byte %d", ErrInvalid, v, v[i], i)
		}
	}
	return nil
}

// tokenByte reports whether Escape keeps c as it is. ValidateToken also
// accepts "%", so an escaped value passes it.
func tokenByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' && c != '%'
}

// Escape turns any string into one safe subject token: bytes that
// ValidateToken refuses (".", "*", ">", whitespace, control and non-ASCII bytes),
// "%" itself, and a leading "$" become %XX (uppercase hex), so distinct
// values stay distinct and the result is always a single literal token.
// The empty string becomes "%", which no non-empty value escapes to.
//
// Escape cannot fail, and its result is up to three times as long as v:
// one over MaxSubjectLen is refused where it becomes a subject (Join,
// Template.Format, ValidateToken, and Publish or Subscribe on every
// backend). Bound values from outside before escaping them.
func Escape(v string) string {
	if v == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if tokenByte(c) && !(i == 0 && c == '$') {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Join joins tokens into a subject after checking each with ValidateToken, so a
// value from outside cannot add tokens or wildcards:
//
//	subj, err := subject.Join("orders", tenantID, "created")
//
// An invalid token is an error wrapping ErrInvalid that names it, and so
// is a subject longer than MaxSubjectLen.
func Join(tokens ...string) (string, error) {
	if len(tokens) == 0 {
		return "", fmt.Errorf("%w: no tokens", ErrInvalid)
	}
	for i, t := range tokens {
		if err := ValidateToken(t); err != nil {
			return "", fmt.Errorf("token %d: %w", i, err)
		}
	}
	s := strings.Join(tokens, ".")
	if len(s) > MaxSubjectLen {
		return "", subjectError(s, tooLong(s))
	}
	return s, nil
}
