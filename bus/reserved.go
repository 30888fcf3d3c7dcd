package bus

import (
	"fmt"
	"strings"
)

// Header names Publish refuses.
//
// NATS gives some header names a meaning of its own: nats.go reads
// "Status" and "Description" as a status line ("Status: 503" with no data
// makes a request fail with no responders), and JetStream reads
// "Nats-"-prefixed names as per-message controls (Nats-Msg-Id dedup,
// Nats-Expected-* checks, Nats-Rollup, Nats-TTL, Nats-Batch-*, Nats-Incr,
// Nats-Schedule, and more in each server release). A user header with such
// a name would act on one backend and not on another, so every backend
// refuses it, in any letter case, with ErrInvalidHeader; and a received
// message's Header never holds one (Message.Raw has every header as it
// arrived). Header names must also follow nats.go's rule: printable ASCII
// without the separators "()/,:;<=>?@[\]{}.

// IsReservedHeader reports whether name is a header name NATS interprets:
// "Status" or "Description", or one starting with "Nats-", in any letter
// case. Publish, PublishBatch and Request refuse such a header with
// ErrInvalidHeader, and received messages never show one in
// Message.Header.
func IsReservedHeader(name string) bool {
	switch len(name) {
	case len("Status"):
		if strings.EqualFold(name, "Status") {
			return true
		}
	case len("Description"):
		if strings.EqualFold(name, "Description") {
			return true
		}
	}
	return len(name) >= len("Nats-") && strings.EqualFold(name[:len("Nats-")], "Nats-")
}

// headerNameBytes is nats.go's table of bytes allowed in a header name:
// printable ASCII (33..126) except the separators "()/,:;<=>?@[\]{}.
var headerNameBytes = func() (set [256]bool) {
	const separators = "\"()/,:;<=>?@[\\]{}"
	for c := byte(33); c <= 126; c++ {
		set[c] = strings.IndexByte(separators, c) < 0
	}
	return set
}()

// checkHeaderName returns an error wrapping ErrInvalidHeader when name
// cannot be a user header on every backend.
func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty header name", ErrInvalidHeader)
	}
	if IsReservedHeader(name) {
		return fmt.Errorf("%w: header %q is reserved: NATS interprets Status, Description and Nats-* headers",
			ErrInvalidHeader, name)
	}
	for i := 0; i < len(name); i++ {
		if !headerNameBytes[name[i]] {
			return fmt.Errorf("%w: header name %q: byte %q at %d is not allowed "+
				"(printable ASCII except \"()/,:;<=>?@[\\]{})", ErrInvalidHeader, name, name[i], i)
		}
	}
	return nil
}
