package driver

import (
	"errors"

	"github.com/busway/busway/bus/subject"
)

// Sentinel errors shared by every backend. Package bus re-exports them.
var (
	// ErrClosed: the connection or subscription was closed.
	ErrClosed = errors.New("busway: closed")
	// ErrNoResponders: a request found no subscriber to answer it.
	ErrNoResponders = errors.New("busway: no responders")
	// ErrNotSupported: the backend lacks the capability asked for.
	ErrNotSupported = errors.New("busway: not supported by this backend")
	// ErrInvalidSubject: a subject, subject pattern or group name breaks
	// NATS rules. It is subject.ErrInvalid.
	ErrInvalidSubject = subject.ErrInvalid
	// ErrPayloadTooLarge: headers plus body exceed the backend's limit.
	ErrPayloadTooLarge = errors.New("busway: payload too large")
	// ErrInvalidHeader: a header name or value breaks NATS rules.
	ErrInvalidHeader = errors.New("busway: invalid header")
	// ErrBufferFull: a bounded buffer is full and its policy is to fail.
	ErrBufferFull = errors.New("busway: buffer full")
	// ErrTimeout: an operation did not complete in time.
	ErrTimeout = errors.New("busway: timeout")
)
