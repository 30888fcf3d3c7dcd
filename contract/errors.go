package contract

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/busway/busway/bus"
)

var (
	// ErrUnknownType is wrapped (inside bus.Permanent) by the error for a
	// message whose CloudEvents type this service has not registered.
	ErrUnknownType = errors.New("contract: unknown event type")
	// ErrUnknownVersion is wrapped (inside bus.Permanent) by the error for a
	// message of a known type at a version this service cannot read: newer
	// than the current one, or older without an upcaster.
	ErrUnknownVersion = errors.New("contract: unknown event version")
	// ErrDeclaration is wrapped by every error a declaration returns
	// (invalid name, subject, codec, option or upcaster chain).
	ErrDeclaration = errors.New("contract: invalid declaration")
	// ErrDecode is wrapped (inside bus.Permanent) when a payload of a
	// known type and version does not decode or fails validation.
	ErrDecode = errors.New("contract: payload does not decode")
)

// UnknownType returns the permanent error for a message of CloudEvents
// type t that this service does not handle; known lists the types it does.
// The text names both, for the dead-letter reason.
func UnknownType(t string, known []string) error {
	return bus.Permanent(fmt.Errorf("%w: %s: this service knows %s", ErrUnknownType, t, listOr(known)))
}

// UnknownVersion returns the permanent error for a message of CloudEvents
// type t whose base type is known at the given versions only. The text
// reads like "com.example.order.placed.v3: this service knows v1, v2".
func UnknownVersion(t string, known []int) error {
	vs := make([]string, len(known))
	for i, v := range known {
		vs[i] = "v" + strconv.Itoa(v)
	}
	return bus.Permanent(fmt.Errorf("%w: %s: this service knows %s", ErrUnknownVersion, t, listOr(vs)))
}

func listOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func declErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDeclaration}, args...)...)
}
