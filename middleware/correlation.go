package middleware

import (
	"context"

	"github.com/busway/busway/bus"
)

// CloudEvents extension attributes used for correlation. Their names follow
// the CloudEvents naming rules: lowercase ASCII letters and digits only.
const (
	// CorrelationIDExtension names the extension shared by every event of
	// one business flow: the id of the event that started it, unless the
	// flow was given another with WithCorrelationID.
	CorrelationIDExtension = "correlationid"
	// CausationIDExtension names the extension holding the id of the event
	// whose handling produced this one.
	CausationIDExtension = "causationid"
)

type correlationKey struct{}

// correlation is what Correlation puts in a handler's context.
type correlation struct {
	id     string // correlation id of the flow
	causer string // id of the event being handled, "" outside a handler
}

// Correlation returns middleware that puts the incoming message's
// correlation id in the handler's context: its "correlationid" extension
// when it has one, else its event id (the message starts a new flow). The
// message's event id is kept too, as the causation id of whatever the
// handler publishes.
//
// Inside the handler, read it with CorrelationID and stamp outgoing
// messages with Correlate:
//
//	func(ctx context.Context, m *bus.Message) error {
//		out := bus.NewMessage("orders.eu.billed", "com.example.order.billed.v1", data)
//		middleware.Correlate(ctx, out) // correlationid and causationid
//		return pub.Publish(ctx, out)
//	}
func Correlation() bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			id := m.Event.Extensions[CorrelationIDExtension]
			if id == "" {
				id = m.Event.ID
			}
			ctx = context.WithValue(ctx, correlationKey{}, correlation{id: id, causer: m.Event.ID})
			return next.Handle(ctx, m)
		})
	}
}

// CorrelationID returns the correlation id carried by ctx, or "" when
// there is none (neither Correlation nor WithCorrelationID set it).
func CorrelationID(ctx context.Context) string {
	c, _ := ctx.Value(correlationKey{}).(correlation)
	return c.id
}

// WithCorrelationID returns a context carrying id as the correlation id,
// for code that starts a flow outside a handler (an HTTP request, a job)
// or that deliberately starts a new one. A causation id already in ctx is
// kept. An empty id removes the correlation id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	c, _ := ctx.Value(correlationKey{}).(correlation)
	c.id = id
	return context.WithValue(ctx, correlationKey{}, c)
}

// Correlate stamps an outgoing message from ctx: the "correlationid"
// extension with CorrelationID(ctx), and, when ctx comes from a handler
// under Correlation, the "causationid" extension with the id of the event
// being handled. Values already set on m are kept, and nothing is set for
// what ctx does not carry. Call it before Publish.
func Correlate(ctx context.Context, m *bus.Message) {
	c, _ := ctx.Value(correlationKey{}).(correlation)
	setExtension(m, CorrelationIDExtension, c.id)
	setExtension(m, CausationIDExtension, c.causer)
}

func setExtension(m *bus.Message, name, value string) {
	if value == "" || m.Event.Extensions[name] != "" {
		return
	}
	if m.Event.Extensions == nil {
		m.Event.Extensions = make(map[string]string, 2)
	}
	m.Event.Extensions[name] = value
}
