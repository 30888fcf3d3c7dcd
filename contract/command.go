package contract

import (
	"context"
	"reflect"

	"github.com/busway/busway/bus"
)

// Command is a declared command type: like Event, but handled by exactly
// one handler group across the deployment (the owning service, the
// domain's service). Subject and type follow the same rules, e.g.
// "orders.order.place" and "com.example.order.place.v1".
type Command[T any] struct{ df *def }

// NewCommand declares command entity/action of Go type T in d, the
// owning service's domain. It panics on an invalid declaration (see
// NewEvent); DeclareCommand returns the error instead.
func NewCommand[T any](d *Domain, entity, action string, opts ...Option) *Command[T] {
	c, err := DeclareCommand[T](d, entity, action, opts...)
	if err != nil {
		panic(err)
	}
	return c
}

// DeclareCommand is NewCommand returning the declaration error.
func DeclareCommand[T any](d *Domain, entity, action string, opts ...Option) (*Command[T], error) {
	df, err := declare(d, KindCommand, entity, action, reflect.TypeFor[T](), opts)
	if err != nil {
		return nil, err
	}
	return &Command[T]{df: df}, nil
}

// Type returns the CloudEvents type of the current version.
func (c *Command[T]) Type() string { return c.df.Type() }

// Subject returns the routing subject.
func (c *Command[T]) Subject() string { return c.df.subject }

// Version returns the current major version.
func (c *Command[T]) Version() int { return c.df.version }

// Versions returns the versions this declaration reads, ascending.
func (c *Command[T]) Versions() []int { return c.df.Versions() }

// Owner returns the service that handles the command (its consumer group).
func (c *Command[T]) Owner() string { return c.df.d.service }

// Info describes the declaration.
func (c *Command[T]) Info() Info { return c.df.info() }

// Accepts reports whether a message of CloudEvents type t decodes with c.
func (c *Command[T]) Accepts(t string) bool { return c.df.accepts(t) }

// Schema returns the JSON Schema of T.
func (c *Command[T]) Schema() ([]byte, error) { return c.df.Schema() }

// Check reports a gap in the upcaster chain (wrapping ErrDeclaration).
func (c *Command[T]) Check() error { return c.df.Check() }

// New builds the message for v (see Event.New).
func (c *Command[T]) New(ctx context.Context, v T) (*bus.Message, error) {
	return c.df.message(ctx, c.df.Type(), c.df.subject, v)
}

// Send builds the message for v and publishes it with p (fire and forget;
// the owning service's handler group receives it once).
func (c *Command[T]) Send(ctx context.Context, p bus.Publisher, v T) error {
	m, err := c.New(ctx, v)
	if err != nil {
		return err
	}
	return p.Publish(ctx, m)
}

// Decode reads m's data as T (see Event.Decode).
func (c *Command[T]) Decode(m *bus.Message) (T, error) { return decodeAs[T](c.df, m) }

func (c *Command[T]) core() *def { return c.df }
