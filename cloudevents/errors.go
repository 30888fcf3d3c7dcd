package cloudevents

import (
	"errors"
	"strconv"
)

// ErrInvalidEvent is matched (with errors.Is) by every error that Validate,
// Encode and Decode return for an event or message that breaks the
// CloudEvents rules. Such an error is permanent: retrying cannot fix it.
var ErrInvalidEvent = errors.New("cloudevents: invalid event")

// ErrMalformed is matched by errors for messages that cannot be parsed at
// all: malformed JSON, a bad percent-encoding or quoted string in a header,
// bytes that are not UTF-8, a JSON member of the wrong type, an attribute
// given twice, an unsupported structured format. ErrMalformed itself wraps
// ErrInvalidEvent, so errors.Is(err, ErrInvalidEvent) holds for these too.
var ErrMalformed error = malformedError{}

type malformedError struct{}

func (malformedError) Error() string { return "cloudevents: malformed message" }
func (malformedError) Unwrap() error { return ErrInvalidEvent }

// AttributeError reports an attribute (or extension) that is missing,
// malformed or breaks a CloudEvents rule. It unwraps to ErrInvalidEvent, or
// to ErrMalformed when the message could not be parsed (which in turn
// matches ErrInvalidEvent).
type AttributeError struct {
	// Attribute is the attribute or extension name, e.g. "source"; for
	// structured JSON it can also be the member "data" or "data_base64".
	Attribute string
	// Reason says what is wrong, e.g. "missing" or "not a URI-reference".
	Reason string

	malformed bool
}

// Error implements error; the message names the attribute.
func (e *AttributeError) Error() string {
	return "cloudevents: invalid attribute " + strconv.Quote(e.Attribute) + ": " + e.Reason
}

// Unwrap returns ErrMalformed for parse failures, ErrInvalidEvent otherwise.
func (e *AttributeError) Unwrap() error {
	if e.malformed {
		return ErrMalformed
	}
	return ErrInvalidEvent
}

// invalid returns a validation failure of attr.
func invalid(attr, reason string) *AttributeError {
	return &AttributeError{Attribute: attr, Reason: reason}
}

// malformed returns a parse failure of attr.
func malformed(attr, reason string) *AttributeError {
	return &AttributeError{Attribute: attr, Reason: reason, malformed: true}
}
