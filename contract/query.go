package contract

import (
	"context"
	"fmt"
	"reflect"

	"github.com/busway/busway/bus"
)

// Query is a declared request type Q with a typed reply R, sent with bus
// request/reply (bus.Requester). The request's CloudEvents type is
// "{prefix}.{entity}.{action}.v{N}", the reply's
// "{prefix}.{entity}.{action}.reply.v{N}".
//
//	var GetOrder = contract.NewQuery[GetOrderQ, OrderView](d, "order", "get")
//	view, err := GetOrder.Request(ctx, b, GetOrderQ{ID: "o-1"})
type Query[Q, R any] struct {
	df    *def
	reply *def
}

// NewQuery declares query entity/action in d (the answering service's
// domain). It panics on an invalid declaration (see NewEvent);
// DeclareQuery returns the error instead. Options apply to the request;
// the reply uses the same codec, Strict and Validate settings.
func NewQuery[Q, R any](d *Domain, entity, action string, opts ...Option) *Query[Q, R] {
	q, err := DeclareQuery[Q, R](d, entity, action, opts...)
	if err != nil {
		panic(err)
	}
	return q
}

// DeclareQuery is NewQuery returning the declaration error.
func DeclareQuery[Q, R any](d *Domain, entity, action string, opts ...Option) (*Query[Q, R], error) {
	df, err := declare(d, KindQuery, entity, action, reflect.TypeFor[Q](), opts)
	if err != nil {
		return nil, err
	}
	ropts := append(opts[:len(opts):len(opts)], Subject(df.subject))
	rdf, err := declare(d, KindQuery, entity, action+".reply", reflect.TypeFor[R](), ropts)
	if err != nil {
		return nil, err
	}
	return &Query[Q, R]{df: df, reply: rdf}, nil
}

// Type returns the request's CloudEvents type.
func (q *Query[Q, R]) Type() string { return q.df.Type() }

// ReplyType returns the reply's CloudEvents type.
func (q *Query[Q, R]) ReplyType() string { return q.reply.Type() }

// Subject returns the request subject.
func (q *Query[Q, R]) Subject() string { return q.df.subject }

// Owner returns the service that answers the query.
func (q *Query[Q, R]) Owner() string { return q.df.d.service }

// Info describes the declaration, reply included.
func (q *Query[Q, R]) Info() Info {
	in := q.df.info()
	ri := q.reply.info()
	in.ReplyType, in.ReplyGoType, in.ReplySchema = ri.Type, ri.GoType, ri.Schema
	return in
}

// Accepts reports whether a request of CloudEvents type t decodes with q.
func (q *Query[Q, R]) Accepts(t string) bool { return q.df.accepts(t) }

// Schema returns the JSON Schema of Q.
func (q *Query[Q, R]) Schema() ([]byte, error) { return q.df.Schema() }

// ReplySchema returns the JSON Schema of R.
func (q *Query[Q, R]) ReplySchema() ([]byte, error) { return q.reply.Schema() }

// NewRequest builds the request message for v.
func (q *Query[Q, R]) NewRequest(ctx context.Context, v Q) (*bus.Message, error) {
	return q.df.message(ctx, q.df.Type(), q.df.subject, v)
}

// Request sends v and decodes the typed reply. A responder's failure comes
// back as a *bus.RemoteError; no responder as bus.ErrNoResponders.
func (q *Query[Q, R]) Request(ctx context.Context, r bus.Requester, v Q) (R, error) {
	var zero R
	m, err := q.NewRequest(ctx, v)
	if err != nil {
		return zero, err
	}
	reply, err := r.Request(ctx, m)
	if err != nil {
		return zero, err
	}
	return q.DecodeReply(reply)
}

// Decode reads a request's data as Q.
func (q *Query[Q, R]) Decode(m *bus.Message) (Q, error) { return decodeAs[Q](q.df, m) }

// NewReply builds the reply message for v (no subject: it goes back to
// the requester).
func (q *Query[Q, R]) NewReply(ctx context.Context, v R) (*bus.Message, error) {
	return q.reply.message(ctx, q.reply.Type(), "", v)
}

// Reply answers request m with v.
func (q *Query[Q, R]) Reply(ctx context.Context, m *bus.Message, v R) error {
	out, err := q.NewReply(ctx, v)
	if err != nil {
		return err
	}
	if err := m.Respond(ctx, out); err != nil {
		return fmt.Errorf("contract: reply to %s: %w", q.df.Type(), err)
	}
	return nil
}

// DecodeReply reads a reply's data as R.
func (q *Query[Q, R]) DecodeReply(m *bus.Message) (R, error) { return decodeAs[R](q.reply, m) }
