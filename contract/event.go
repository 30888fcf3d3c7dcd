package contract

import (
	"context"
	"reflect"

	"github.com/busway/busway/bus"
)

// Event is a declared event type: CloudEvents type with its major version,
// Go type T, subject and codec, declared once (usually as a package-level
// variable) and used for every publish and decode.
//
//	var d = contract.MustDomain("com.example", "orders")
//	var OrderPlaced = contract.NewEvent[OrderPlacedV2](d, "order", "placed", contract.Version(2),
//		contract.From(1, upgradeOrderPlaced))
//
//	err := OrderPlaced.Publish(ctx, b, OrderPlacedV2{ID: "o-1"})
type Event[T any] struct{ df *def }

// NewEvent declares event entity/action of Go type T in d. It panics with
// a clear message (wrapping ErrDeclaration) when the declaration is invalid
// — a bad name, a subject the bus rules reject, a codec T cannot use, an
// upcaster chain with a gap or a duplicate — so a broken declaration stops
// the program at init. DeclareEvent returns the error instead.
func NewEvent[T any](d *Domain, entity, action string, opts ...Option) *Event[T] {
	e, err := DeclareEvent[T](d, entity, action, opts...)
	if err != nil {
		panic(err)
	}
	return e
}

// DeclareEvent is NewEvent returning the declaration error.
func DeclareEvent[T any](d *Domain, entity, action string, opts ...Option) (*Event[T], error) {
	df, err := declare(d, KindEvent, entity, action, reflect.TypeFor[T](), opts)
	if err != nil {
		return nil, err
	}
	return &Event[T]{df: df}, nil
}

// Type returns the CloudEvents type of the current version, e.g.
// "com.example.order.placed.v2".
func (e *Event[T]) Type() string { return e.df.Type() }

// Subject returns the routing subject, e.g. "orders.order.placed".
func (e *Event[T]) Subject() string { return e.df.subject }

// Version returns the current major version.
func (e *Event[T]) Version() int { return e.df.version }

// Versions returns the versions this declaration reads, ascending.
func (e *Event[T]) Versions() []int { return e.df.Versions() }

// Info describes the declaration.
func (e *Event[T]) Info() Info { return e.df.info() }

// Accepts reports whether a message of CloudEvents type t decodes with e.
func (e *Event[T]) Accepts(t string) bool { return e.df.accepts(t) }

// Schema returns the JSON Schema of T.
func (e *Event[T]) Schema() ([]byte, error) { return e.df.Schema() }

// New builds the message for v: subject, type, datacontenttype,
// dataschema and data. When ctx comes from a handler (cqrs, or
// middleware.Correlation), the correlationid and causationid extensions
// are set from the message being handled. ctx may be nil.
func (e *Event[T]) New(ctx context.Context, v T) (*bus.Message, error) {
	return e.df.message(ctx, e.df.Type(), e.df.subject, v)
}

// Publish builds the message for v (see New) and publishes it with p.
func (e *Event[T]) Publish(ctx context.Context, p bus.Publisher, v T) error {
	m, err := e.New(ctx, v)
	if err != nil {
		return err
	}
	return p.Publish(ctx, m)
}

// Decode reads m's data as T. An older version is decoded into its own Go
// type and upcast step by step; a type of another base is ErrUnknownType,
// a version without a chain to the current one (newer, or older without an
// upcaster) is ErrUnknownVersion; both, and a payload that does not decode,
// are permanent errors (bus.Permanent), so the message is dead-lettered.
func (e *Event[T]) Decode(m *bus.Message) (T, error) { return decodeAs[T](e.df, m) }

// Upcast registers an upcaster from version from (Go type Old) to from+1
// (Go type New) on a declared event or command. The step is checked
// against the chain: from must be below the current version, not already
// registered, and Old/New must match the Go types of the neighbouring
// steps (New is T when from+1 is current). Gaps are reported by Check.
// Steps go from N to N+1 only, so chains cannot have cycles.
func Upcast[Old, New any](c interface{ core() *def }, from int, fn func(Old) (New, error)) error {
	st, err := newStep(from, fn)
	if err != nil {
		return err
	}
	return c.core().addStep(st)
}

// Check reports a gap in the upcaster chain (wrapping ErrDeclaration).
func (e *Event[T]) Check() error { return e.df.Check() }

func (e *Event[T]) core() *def { return e.df }
