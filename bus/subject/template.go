package subject

import (
	"fmt"
	"strings"
)

// Template builds subjects from a pattern with named placeholders, one per
// token, such as "{service}.{entity}.{action}" or "orders.{tenant}.created".
// Values are checked with ValidateToken when the subject is built, so a value from
// outside can never add tokens, wildcards or system prefixes.
type Template struct {
	tokens []string // literal token, or placeholder name when isVar
	isVar  []bool
}

// ParseTemplate parses a subject template. Each token is either a literal
// (checked as a valid subject token) or a whole-token placeholder "{name}".
func ParseTemplate(s string) (*Template, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	t := &Template{}
	for _, tok := range strings.Split(s, ".") {
		name, isVar := strings.CutPrefix(tok, "{")
		if isVar {
			var ok bool
			if name, ok = strings.CutSuffix(name, "}"); !ok || name == "" || strings.ContainsAny(name, "{}") {
				return nil, fmt.Errorf("%w: template %q: placeholder %q must be a whole token like {name}", ErrInvalid, s, tok)
			}
		} else if strings.ContainsAny(tok, "{}") {
			return nil, fmt.Errorf("%w: template %q: placeholder %q must be a whole token like {name}", ErrInvalid, s, tok)
		}
		t.tokens = append(t.tokens, name)
		t.isVar = append(t.isVar, isVar)
	}
	return t, nil
}

// MustParseTemplate is ParseTemplate that panics on error, for package-level
// variables.
func MustParseTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Format fills the placeholders from values. A missing value, or one that
// fails ValidateToken, is an error wrapping ErrInvalid naming the
// placeholder; so is a subject longer than MaxSubjectLen.
func (t *Template) Format(values map[string]string) (string, error) {
	out := make([]string, len(t.tokens))
	for i, tok := range t.tokens {
		if !t.isVar[i] {
			out[i] = tok
			continue
		}
		v, ok := values[tok]
		if !ok {
			return "", fmt.Errorf("%w: no value for placeholder {%s}", ErrInvalid, tok)
		}
		if err := ValidateToken(v); err != nil {
			return "", fmt.Errorf("placeholder {%s}: %w", tok, err)
		}
		out[i] = v
	}
	s := strings.Join(out, ".")
	if len(s) > MaxSubjectLen {
		return "", subjectError(s, tooLong(s))
	}
	return s, nil
}

// Pattern returns the subscription pattern that matches every subject the
// template can build: each placeholder becomes "*".
func (t *Template) Pattern() string {
	out := make([]string, len(t.tokens))
	for i, tok := range t.tokens {
		if t.isVar[i] {
			tok = "*"
		}
		out[i] = tok
	}
	return strings.Join(out, ".")
}
