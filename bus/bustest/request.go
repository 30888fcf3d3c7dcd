package bustest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Event types of the request/reply test.
const (
	addType = "io.busway.bustest.add.v1"
	sumType = "io.busway.bustest.sum.v1"
)

type sumRequest struct{ A, B int }

type sumReply struct{ Sum int }

// testRequestReply: a typed round trip through bus.Reply and
// bus.RequestJSON (to a group of responders where the backend has groups:
// one answer per request); a failing responder gives *bus.RemoteError;
// nobody listening gives bus.ErrNoResponders; a responder that never
// answers gives an error wrapping bus.ErrTimeout or
// context.DeadlineExceeded once ctx ends.
func testRequestReply(e *env) {
	if !e.f.RequestReply {
		e.t.Skip("the backend has no request/reply (Features.RequestReply is false)")
	}
	server, client := e.bus(), e.bus()
	e.t.Run("RoundTrip", func(t *testing.T) { requestRoundTrip(t, e, server, client) })
	e.t.Run("RemoteError", func(t *testing.T) { requestRemoteError(t, e, server, client) })
	e.t.Run("NoResponders", func(t *testing.T) {
		_, err := client.Request(t.Context(), numbered(e.requestSubject("nobody"), 1))
		assert.ErrorIs(t, err, bus.ErrNoResponders)
	})
	e.t.Run("Timeout", func(t *testing.T) { requestTimeout(t, e, server, client) })
	e.t.Run("OversizedReply", func(t *testing.T) { requestOversizedReply(t, e, server, client) })
}

// requestRoundTrip: typed requests to a group of two responders, or to a
// single plain responder where the backend has no groups.
func requestRoundTrip(t *testing.T, e *env, server, client *bus.Bus) {
	subj := e.requestSubject("add")
	h := bus.Reply(sumType, func(_ context.Context, r sumRequest) (sumReply, error) {
		return sumReply{Sum: r.A + r.B}, nil
	})
	responders := 1
	if e.f.Groups {
		responders = 2
	}
	for range responders {
		_, err := server.Subscribe(t.Context(), subj, h, e.groupOpts("adders")...)
		require.NoError(t, err)
	}
	for i := range 5 {
		got, err := bus.RequestJSON[sumReply](t.Context(), client, subj, addType, sumRequest{A: i, B: 40})
		require.NoError(t, err)
		assert.Equal(t, sumReply{Sum: i + 40}, got)
	}
	req, err := bus.NewJSON(subj, addType, sumRequest{A: 1, B: 2})
	require.NoError(t, err)
	reply, err := client.Request(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, sumType, reply.Event.Type)
	assert.NotEmpty(t, reply.Event.ID)
	assert.Equal(t, "application/json", reply.Event.DataContentType)
	assert.JSONEq(t, `{"Sum":3}`, string(reply.Event.Data))
}

// requestRemoteError: a failing responder's error reaches the requester.
func requestRemoteError(t *testing.T, e *env, server, client *bus.Bus) {
	subj := e.requestSubject("fail")
	h := bus.Reply(sumType, func(context.Context, sumRequest) (sumReply, error) {
		return sumReply{}, errors.New("bustest: no such account")
	})
	_, err := server.Subscribe(t.Context(), subj, h)
	require.NoError(t, err)
	_, err = bus.RequestJSON[sumReply](t.Context(), client, subj, addType, sumRequest{})
	var re *bus.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, subj, re.Subject)
	assert.Contains(t, re.Reason, "bustest: no such account")
}

// requestTimeout: a responder that never answers; the request ends with
// its context.
func requestTimeout(t *testing.T, e *env, server, client *bus.Bus) {
	subj := e.requestSubject("silent")
	answered := make(chan struct{})
	done := closer(t, answered)
	_, err := server.Subscribe(t.Context(), subj, bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		select { // never responds; returns once the requester gave up
		case <-answered:
		case <-ctx.Done():
		}
		return nil
	}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), negativeWait)
	defer cancel()
	_, err = client.Request(ctx, numbered(subj, 1))
	done()
	require.Error(t, err)
	assert.True(t, errors.Is(err, bus.ErrTimeout) || errors.Is(err, context.DeadlineExceeded),
		"want an error wrapping bus.ErrTimeout or context.DeadlineExceeded, got %v", err)
}

// requestOversizedReply: a reply over the backend's limit cannot be sent;
// the requester gets a *bus.RemoteError naming the failure at once, not a
// timeout.
func requestOversizedReply(t *testing.T, e *env, server, client *bus.Bus) {
	if e.f.MaxPayload <= 0 {
		t.Skip("the backend declares no payload limit (Features.MaxPayload is 0)")
	}
	subj := e.requestSubject("huge")
	h := bus.Reply(sumType, func(context.Context, sumRequest) (string, error) {
		return strings.Repeat("x", e.f.MaxPayload), nil
	})
	_, err := server.Subscribe(t.Context(), subj, h)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), e.timeout)
	defer cancel()
	_, err = bus.RequestJSON[string](ctx, client, subj, addType, sumRequest{})
	var re *bus.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Reason, bus.ErrPayloadTooLarge.Error())
}
