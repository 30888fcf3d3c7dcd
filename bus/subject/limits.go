package subject

import "fmt"

// Length limits, in bytes, on every backend. NATS has no limit of its own
// below the server's max_control_line (4096 bytes by default), and going
// over that is not an error a client sees: nats.go's Publish returns nil
// and then the server closes the connection, so every later operation on
// it fails. The limits keep each control line a client sends well under
// 4096 bytes, with room for a request's reply subject and JetStream's
// names:
//
//	HPUB <subject> <reply> <header bytes> <total bytes>
//	  5 + 1024 + 1 + 1024 + 1 + 20 + 1 + 20 = 2096
//	SUB <pattern> <group> <sid>
//	  4 + 1024 + 1 + 255 + 1 + 20 = 1305
//	$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter subject>
//	  24 + 255 + 1 + 255 + 1 + 1024 = 1560, plus its reply inbox
//
// (the reply subject of a Respond is itself a subject, so at most
// MaxSubjectLen; the byte counts have at most 20 digits; JetStream stream
// and consumer names are at most 255 bytes).
const (
	// MaxSubjectLen is the longest subject or pattern: Validate,
	// ValidatePattern, ValidateToken, Join and Template.Format refuse
	// anything longer with an error wrapping ErrInvalid.
	MaxSubjectLen = 1024
	// MaxGroupLen is the longest group name (a NATS queue group; a
	// JetStream durable consumer name has the same limit): ValidateGroup
	// refuses anything longer.
	MaxGroupLen = 255
)

// ValidateGroup checks a group name (bus.Group; the NATS queue group): at
// most MaxGroupLen bytes, no whitespace or control characters (NATS ends a
// queue group name at whitespace). Anything else, "." and "*" included, is
// allowed, as in NATS. Every backend applies it; the error wraps
// ErrInvalid.
func ValidateGroup(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty group name", ErrInvalid)
	case len(name) > MaxGroupLen:
		return fmt.Errorf("%w: group name %s is longer than %d bytes", ErrInvalid, abbrev(name), MaxGroupLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c > ' ' && c < 0x7f {
			continue
		}
		if bad := badChar(name, i); bad != "" {
			return fmt.Errorf("%w: group name %q: %s", ErrInvalid, name, bad)
		}
	}
	return nil
}

// tooLong is the reason given for a subject over MaxSubjectLen.
func tooLong(s string) string {
	return fmt.Sprintf("%d bytes, longer than %d", len(s), MaxSubjectLen)
}

// abbrev quotes s, shortened to its first bytes and its length when it
// is long, so that an error about a huge value stays readable.
func abbrev(s string) string {
	const keep = 32
	if len(s) <= 2*keep {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...(%d bytes)", s[:keep], len(s))
}
