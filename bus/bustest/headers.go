package bustest

import (
	"context"
	"strings"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testReservedHeaders: header names that NATS interprets (Status,
// Description, Nats-*, in any letter case) and names that break nats.go's
// rules are refused by Publish and Request with bus.ErrInvalidHeader on
// every backend; an ordinary header arrives as sent; and a received
// message's Header holds no reserved name, even where the backend adds
// its own (JetStream's Nats-Msg-Id), so it can be forwarded as it is.
func testReservedHeaders(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj := e.subject("hdr")
	rec := Recorder(t, sub, subj)
	bad := []string{"Status", "Description", "status", "Nats-Msg-Id", "Nats-Rollup", "Nats-TTL",
		"Nats-Batch-Id", "Nats-Incr", "Nats-Expected-Stream", "nats-ttl", "Bad Name", "a:b", ""}
	for _, name := range bad {
		m := numbered(subj, 1)
		m.Header = bus.Header{name: {"v"}}
		assert.ErrorIs(t, pub.Publish(t.Context(), m), bus.ErrInvalidHeader, "Publish with header %q", name)
		if e.f.RequestReply {
			r := numbered(e.requestSubject("hdr"), 1)
			r.Header = bus.Header{name: {"v"}}
			_, err := pub.Request(t.Context(), r)
			assert.ErrorIs(t, err, bus.ErrInvalidHeader, "Request with header %q", name)
		}
	}
	ok := numbered(subj, 2)
	ok.Header = bus.Header{"X-Bustest": {"v"}, "X-Nats-Lookalike": {"w"}}
	e.publish(t, pub, ok)
	ms, _ := e.settled(t, rec.col, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	require.Len(t, ms, 1, "only the valid message arrives: %s", describe(ms))
	assert.Equal(t, "v", ms[0].Header.Get("X-Bustest"))
	assert.Equal(t, "w", ms[0].Header.Get("X-Nats-Lookalike"))
	for k := range ms[0].Header {
		assert.False(t, bus.IsReservedHeader(k), "received Header holds reserved %q", k)
	}
	fwd := bus.NewMessage(subj+".copy", testType, ms[0].Event.Data)
	fwd.Header = ms[0].Header
	assert.NoError(t, pub.Publish(t.Context(), fwd), "a received message's headers can be published again")
}

// testLongNames: subjects and patterns over subject.MaxSubjectLen and
// group names over subject.MaxGroupLen (or with whitespace) are refused
// with bus.ErrInvalidSubject on every backend, and the bus keeps working
// (on NATS a control line over the server's limit would have closed the
// connection).
func testLongNames(e *env) {
	t := e.t
	b := e.bus()
	subj := e.subject("long")
	long := subj + "." + strings.Repeat("x", subject.MaxSubjectLen)
	noop := bus.HandlerFunc(func(_ context.Context, _ *bus.Message) error { return nil })
	assert.ErrorIs(t, b.Publish(t.Context(), numbered(long, 1)), bus.ErrInvalidSubject, "Publish")
	if e.f.RequestReply {
		_, err := b.Request(t.Context(), numbered(long, 1))
		assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Request")
	}
	_, err := b.Subscribe(t.Context(), long+".>", noop)
	assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Subscribe")
	_, err = b.Subscribe(t.Context(), subj, noop, bus.DeadLetter(long))
	assert.ErrorIs(t, err, bus.ErrInvalidSubject, "DeadLetter")
	for _, g := range []string{strings.Repeat("g", subject.MaxGroupLen+1), "a b", "a\x01b"} {
		_, err = b.Subscribe(t.Context(), subj, noop, bus.Group(g))
		assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Group(%q)", g)
	}
	rec := Recorder(t, b, subj)
	e.publish(t, b, numbered(subj, 1))
	ms, _ := e.settled(t, rec.col, e.publish(t, b, sentinel(subj)).Event.ID, 1)
	require.Len(t, ms, 1, "the bus still works after the refusals: %s", describe(ms))
}
