// Package subject implements NATS subject rules for every Busway backend:
// validation of subjects and subscription patterns, wildcard matching,
// safe tokens from outside values, and templates.
//
// A subject is "."-separated non-empty tokens of printable characters. A
// subscription pattern may also use "*" (exactly one token) and, as its
// last token, ">" (one or more tokens). "*" or ">" inside a longer token
// ("foo*") is a literal character, as in NATS.
//
// Values from outside (tenant ids, user names) must never become subject
// tokens unchecked: a "." adds a token, a "*" or ">" turns a subscription
// into a wildcard reading other tenants' messages, and a leading "$"
// reaches system subjects. Use Join or a Template (which check each value
// with ValidateToken) or Escape (which encodes any string as one safe
// token).
//
//	subj, err := subject.Join("orders", tenantID, "placed")
//
// Lengths are limited on every backend: subjects and patterns to
// MaxSubjectLen bytes, group names (ValidateGroup) to MaxGroupLen. NATS
// itself refuses nothing shorter than its control line, and a longer one
// gets the connection closed by the server; see MaxSubjectLen for the
// arithmetic.
//
// Every error wraps ErrInvalid, which package bus re-exports as
// bus.ErrInvalidSubject.
package subject

import "errors"

// ErrInvalid is returned (wrapped, with the reason) for a subject, pattern,
// token or template that breaks the rules. Package bus and package driver
// re-export it as ErrInvalidSubject.
var ErrInvalid = errors.New("busway: invalid subject")
