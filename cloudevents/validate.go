package cloudevents

import (
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks e against the CloudEvents 1.0 rules and returns nil or an
// *AttributeError naming the first attribute at fault (it matches
// ErrInvalidEvent). The checks:
//
//   - id, source and type are present and not blank; specversion is "1.0";
//   - source is an RFC 3986 URI-reference; dataschema, when set, is a URI
//     with a scheme (a fragment is allowed, as in sdk-go and the JSON schema);
//   - datacontenttype, when set, is an RFC 2046 media type (type "/" subtype,
//     parameters as accepted by mime.ParseMediaType);
//   - subject, when set, is not blank; time, when set, has a year in 0..9999;
//   - every string value is a CloudEvents String: valid UTF-8 without
//     control characters (U+0000-U+001F, U+007F-U+009F) or Unicode
//     noncharacters;
//   - extension names are lowercase ASCII letters and digits, at least one
//     character, and neither "data" nor a core attribute name. Longer names
//     than the spec's recommended 20 characters are accepted, as sdk-go does
//     by default.
//
// Validate does not allocate for a valid event whose datacontenttype has at
// most one parameter (more go through mime.ParseMediaType).
func (e *Event) Validate() error { return e.validate(&prechecked{}) }

// prechecked records checks that Decode did while reading, so validate
// does not repeat them.
type prechecked struct {
	source bool // Source is an RFC 3986 URI-reference
	typ    bool // Type is a valid, non-blank String
	// ext says every extension went through checkExtension (or there
	// are none): extBad is then what validateExtensions would return.
	ext        bool
	extBad     error
	extBadName string
}

// checkExtension checks one extension as validateExtensions does, keeping
// the error for the smallest invalid name.
func (p *prechecked) checkExtension(name, value string) {
	if p.extBad != nil && name >= p.extBadName {
		return
	}
	if reason := checkExtensionName(name); reason != "" {
		p.extBad, p.extBadName = invalid(name, reason), name
	} else if err := checkString(name, value, false); err != nil {
		p.extBad, p.extBadName = err, name
	}
}

// validate is Validate, skipping the checks recorded in p.
func (e *Event) validate(p *prechecked) error {
	if err := e.validateRequired(p.source, p.typ); err != nil {
		return err
	}
	if err := e.validateOptional(); err != nil {
		return err
	}
	if p.ext {
		return p.extBad
	}
	return validateExtensions(e.Extensions)
}

func (e *Event) validateRequired(sourceOK, typeOK bool) error {
	switch {
	case e.SpecVersion == "":
		return invalid("specversion", "missing")
	case e.SpecVersion != SpecVersion:
		return invalid("specversion", "unsupported version "+quote(e.SpecVersion)+", want \"1.0\"")
	}
	if err := checkString("id", e.ID, true); err != nil {
		return err
	}
	if e.Source == "" {
		return invalid("source", "missing")
	}
	if !sourceOK {
		if reason := checkURIRef(e.Source); reason != "" {
			return invalid("source", reason)
		}
	}
	if typeOK {
		return nil
	}
	return checkString("type", e.Type, true)
}

// The range of times RFC 3339 can write, years 0000 to 9999, in Unix
// seconds: 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const (
	minTimeUnix = -62167219200
	endTimeUnix = 253402300800
)

func (e *Event) validateOptional() error {
	if e.Subject != "" {
		if err := checkString("subject", e.Subject, true); err != nil {
			return err
		}
	}
	if !e.Time.IsZero() {
		if u := e.Time.Unix(); u < minTimeUnix || u >= endTimeUnix {
			return invalid("time", "year outside 0000-9999 cannot be written in RFC 3339")
		}
	}
	if e.DataContentType != "" {
		if err := checkString("datacontenttype", e.DataContentType, false); err != nil {
			return err
		}
		if !validMediaType(e.DataContentType) {
			return invalid("datacontenttype", "not an RFC 2046 media type")
		}
	}
	if e.DataSchema != "" {
		if reason := checkURI(e.DataSchema); reason != "" {
			return invalid("dataschema", reason)
		}
	}
	return nil
}

// validateExtensions reports the invalid extension with the smallest name,
// so the error does not depend on map order.
func validateExtensions(ext map[string]string) error {
	var bad error
	var badName string
	for name, value := range ext {
		if bad != nil && name >= badName {
			continue
		}
		if reason := checkExtensionName(name); reason != "" {
			bad, badName = invalid(name, reason), name
		} else if err := checkString(name, value, false); err != nil {
			bad, badName = err, name
		}
	}
	return bad
}

// coreAttribute reports whether name is a CloudEvents 1.0 context attribute
// or the reserved member "data".
func coreAttribute(name string) bool {
	switch name {
	case "specversion", "id", "source", "type", "subject", "time",
		"datacontenttype", "dataschema", "data":
		return true
	}
	return false
}

func checkExtensionName(name string) string {
	if name == "" {
		return "extension name is empty"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "extension name must be lowercase ASCII letters and digits"
		}
	}
	if coreAttribute(name) {
		return "extension name is reserved"
	}
	return ""
}

// checkString checks that s is a CloudEvents String; with required it must
// also be non-blank (sdk-go rejects whitespace-only values as well).
func checkString(attr, s string, required bool) error {
	if required && blank(s) {
		if s == "" {
			return invalid(attr, "missing")
		}
		return invalid(attr, "blank")
	}
	if reason := stringReason(s); reason != "" {
		return invalid(attr, reason)
	}
	return nil
}

// blank reports whether s is empty or only white space (as
// strings.TrimSpace sees it), deciding on the first byte when it is
// printable ASCII other than space.
func blank(s string) bool {
	if s != "" && s[0] > ' ' && s[0] < utf8.RuneSelf {
		return false
	}
	return strings.TrimSpace(s) == ""
}

// stringReason returns why s is not a CloudEvents String, or "".
func stringReason(s string) string {
	for i := printablePrefix(s); i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7F {
				return "contains a control character"
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return "not valid UTF-8"
		case r <= 0x9F:
			return "contains a control character"
		case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE:
			return "contains a Unicode noncharacter"
		}
		i += n
	}
	return ""
}

// validMediaType checks type "/" subtype without allocating; parameters are
// left to mime.ParseMediaType.
func validMediaType(s string) bool {
	n := tokenLen(s)
	if n == 0 || n == len(s) || s[n] != '/' {
		return false
	}
	m := tokenLen(s[n+1:])
	if m == 0 {
		return false
	}
	rest := s[n+1+m:]
	if rest == "" || simpleParam(rest) {
		return true
	}
	_, _, err := mime.ParseMediaType(s)
	return err == nil
}

// simpleParam reports whether s is one parameter, OWS ";" OWS token "="
// (token / quoted-string) OWS, without RFC 2231 "*" keys: a form that
// mime.ParseMediaType accepts, checked without allocating. Other forms go to
// mime.ParseMediaType.
func simpleParam(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" || s[0] != ';' {
		return false
	}
	s = strings.TrimLeft(s[1:], " \t")
	k := tokenLen(s)
	if k == 0 || k == len(s) || s[k] != '=' || strings.IndexByte(s[:k], '*') >= 0 {
		return false
	}
	s = s[k+1:]
	if v := tokenLen(s); v > 0 {
		s = s[v:]
	} else if q := quotedLen(s); q > 0 {
		s = s[q:]
	} else {
		return false
	}
	return strings.Trim(s, " \t") == ""
}

// quotedLen returns the length of the quoted-string (without CR, LF or
// backslash) at the start of s, or 0.
func quotedLen(s string) int {
	if s == "" || s[0] != '"' {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i + 1
		case '\\', '\r', '\n':
			return 0
		}
	}
	return 0
}

// tokenChars marks RFC 2045 token characters: ASCII, not space, control
// or tspecial.
var tokenChars = func() (t [256]bool) {
	for c := '!'; c < 0x7F; c++ {
		t[c] = !strings.ContainsRune(`()<>@,;:\"/[]?=`, c)
	}
	return t
}()

// tokenLen returns the length of the RFC 2045 token at the start of s.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return i
		}
	}
	return len(s)
}

// isJSONMediaType reports whether the media type (parameters stripped) is
// */json or */*+json, case-insensitively, as the JSON event format defines.
func isJSONMediaType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	slash := strings.IndexByte(ct, '/')
	if slash < 0 {
		return false
	}
	sub := ct[slash+1:]
	return strings.EqualFold(sub, "json") ||
		(len(sub) > 5 && strings.EqualFold(sub[len(sub)-5:], "+json"))
}

// parseTime reads an RFC 3339 timestamp and returns it in UTC. Lowercase
// "t" and "z", which RFC 3339 allows, are accepted.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseCanonicalTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && strings.ContainsAny(s, "tz") {
		t, err = time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	}
	if err != nil {
		return time.Time{}, malformed("time", "not an RFC 3339 timestamp")
	}
	return t.UTC(), nil
}

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
