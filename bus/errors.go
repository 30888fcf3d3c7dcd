package bus

import (
	"errors"
	"fmt"

	"github.com/busway/busway/bus/driver"
)

// Sentinel errors. Callers branch on them with errors.Is; backends wrap the
// same values (they are defined in package driver and re-exported here).
var (
	// ErrClosed is returned by every operation on a closed Bus, and by
	// Router.Run when the router already ran.
	ErrClosed = driver.ErrClosed
	// ErrNoResponders is returned by Request when no subscriber listens on
	// the request's subject.
	ErrNoResponders = driver.ErrNoResponders
	// ErrNotSupported is returned when the backend lacks a capability, for
	// example Request on a backend without request/reply.
	ErrNotSupported = driver.ErrNotSupported
	// ErrInvalidSubject is returned for a subject, subject pattern or group
	// name that breaks NATS rules, on every backend. It is
	// subject.ErrInvalid.
	ErrInvalidSubject = driver.ErrInvalidSubject
	// ErrPayloadTooLarge is returned by Publish when headers plus body
	// exceed the backend's maximum message size; the error names the limit.
	ErrPayloadTooLarge = driver.ErrPayloadTooLarge
	// ErrInvalidHeader is returned for a header name or value that breaks
	// NATS rules, on every backend, including the names NATS reserves
	// (see IsReservedHeader).
	ErrInvalidHeader = driver.ErrInvalidHeader
	// ErrBufferFull is returned by Publish on a backend whose bounded
	// buffer is full and configured to fail rather than block.
	ErrBufferFull = driver.ErrBufferFull
	// ErrTimeout is returned when an operation did not finish in time, for
	// example a Request without an answer before its deadline.
	ErrTimeout = driver.ErrTimeout

	// ErrUnknownScheme is returned by Open for a URL whose scheme no
	// backend registered.
	ErrUnknownScheme = errors.New("busway: unknown URL scheme")
	// ErrInvalidURL is returned by Open for a URL it cannot use, including
	// one with a query parameter nobody accepts.
	ErrInvalidURL = errors.New("busway: invalid URL")
	// ErrPanic wraps a value a handler panicked with.
	ErrPanic = errors.New("busway: handler panicked")
	// ErrMalformed wraps a delivery that is not a valid CloudEvent or whose
	// data does not decode into the handler's type. It is always permanent.
	ErrMalformed = errors.New("busway: malformed message")
)

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as permanent: the message will not be delivered
// again; it goes to the dead-letter subject when one is set, and is
// otherwise terminated and logged. Use it for failures that no retry can
// fix: schema mismatch, validation, undecodable payload. Permanent(nil)
// returns nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// Permanent. Malformed messages (ErrMalformed) are permanent too.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p) || errors.Is(err, ErrMalformed)
}

// RemoteError is returned by Request when the responder's handler failed:
// the bus answers a failed request with the error text instead of leaving
// the requester to time out.
type RemoteError struct {
	// Subject is the request subject.
	Subject string
	// Reason is the responder's error text.
	Reason string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("busway: request %q failed at the responder: %s", e.Subject, e.Reason)
}
