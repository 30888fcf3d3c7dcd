package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"strings"
)

// DecodeJSON decodes the message's data as JSON into a T. A failure is
// permanent (it wraps ErrMalformed): redelivering the same bytes cannot
// help. It refuses data whose datacontenttype is set and is not JSON
// ("application/json" or a "+json" type).
func DecodeJSON[T any](m *Message) (T, error) {
	var v T
	if ct := m.Event.DataContentType; ct != "" && !isJSON(ct) {
		return v, fmt.Errorf("%w: event %s has datacontenttype %q, not JSON", ErrMalformed, m.Event.ID, ct)
	}
	if err := json.Unmarshal(m.Event.Data, &v); err != nil {
		return v, fmt.Errorf("%w: event %s (type %s) data into %T: %w", ErrMalformed, m.Event.ID, m.Event.Type, v, err)
	}
	return v, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// JSON adapts a typed function to Handler: the message's data is decoded
// from JSON into a T first, and a message that does not decode fails
// permanently (dead-lettered, never retried).
//
//	r.Handle("orders.*.created", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderCreated) error {
//		return billing.Charge(ctx, o.OrderID, o.Total)
//	}))
func JSON[T any](fn func(ctx context.Context, m *Message, v T) error) Handler {
	return HandlerFunc(func(ctx context.Context, m *Message) error {
		v, err := DecodeJSON[T](m)
		if err != nil {
			return err
		}
		return fn(ctx, m, v)
	})
}

// Reply adapts a typed request handler to Handler: the request's data is
// decoded from JSON into a Req, and fn's result is sent back as JSON in an
// event of type replyType. A failure is sent back to the requester, who
// gets a *RemoteError.
func Reply[Req, Resp any](replyType string, fn func(ctx context.Context, req Req) (Resp, error)) Handler {
	return JSON(func(ctx context.Context, m *Message, req Req) error {
		resp, err := fn(ctx, req)
		if err != nil {
			return err
		}
		out, err := NewJSON("", replyType, resp)
		if err != nil {
			return err
		}
		return m.Respond(ctx, out)
	})
}

// RequestJSON sends req as a JSON request of type reqType on subject and
// decodes the JSON reply into a Resp.
func RequestJSON[Resp any](ctx context.Context, r Requester, subject, reqType string, req any) (Resp, error) {
	var zero Resp
	m, err := NewJSON(subject, reqType, req)
	if err != nil {
		return zero, err
	}
	reply, err := r.Request(ctx, m)
	if err != nil {
		return zero, err
	}
	return DecodeJSON[Resp](reply)
}
