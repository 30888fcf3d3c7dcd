package bustest

import (
	"bytes"
	"context"
	"strconv"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testInvalidSubjects: NATS subject rules hold on every backend. Publish,
// Request and a dead-letter subject refuse empty tokens, wildcards,
// whitespace and control characters; Subscribe refuses malformed patterns;
// every refusal wraps bus.ErrInvalidSubject. Valid edge cases pass: a
// "*" or ">" inside a longer token is literal everywhere, and patterns
// with wildcard tokens subscribe where the backend has wildcards (without
// them, such a pattern may fail, but not as an invalid subject).
func testInvalidSubjects(e *env) {
	t := e.t
	b := e.bus()
	p := e.subject("v")
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	badSubjects := []string{
		"", ".", p + ".", "." + p, p + "..x", p + ".*", p + ".>", p + ".*.x",
		p + ".a b", p + ".a\tb", p + ".a\nb", p + ".a\rb", p + ".a\x00b", p + ".a\x7fb", p + " ",
	}
	for _, s := range badSubjects {
		assert.ErrorIs(t, b.Publish(t.Context(), numbered(s, 1)), bus.ErrInvalidSubject, "Publish to %q", s)
		if e.f.RequestReply {
			_, err := b.Request(t.Context(), numbered(s, 1))
			assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Request to %q", s)
		}
		if s != "" { // DeadLetter("") means no dead-letter subject
			_, err := b.Subscribe(t.Context(), p+".ok", noop, bus.DeadLetter(s))
			assert.ErrorIs(t, err, bus.ErrInvalidSubject, "DeadLetter(%q)", s)
		}
	}
	badPatterns := []string{"", ".", p + ".", p + "..x", p + ".>.x", ">." + p, p + ".a b", p + ".a\x00b", p + ".\t"}
	for _, s := range badPatterns {
		_, err := b.Subscribe(t.Context(), s, noop)
		assert.ErrorIs(t, err, bus.ErrInvalidSubject, "Subscribe to %q", s)
	}
	for _, s := range []string{p + ".*", p + ".>", p + ".*.x.>"} {
		_, err := b.Subscribe(t.Context(), s, noop)
		if e.f.Wildcards {
			assert.NoError(t, err, "Subscribe to valid pattern %q", s)
		} else {
			assert.NotErrorIs(t, err, bus.ErrInvalidSubject, "Subscribe to valid pattern %q on a backend without wildcards", s)
		}
	}
	for _, s := range []string{p + ".foo*", p + ".>x", p + ".*foo"} {
		_, err := b.Subscribe(t.Context(), s, noop)
		assert.NoError(t, err, "Subscribe to valid literal pattern %q", s)
	}
	for _, s := range []string{p + ".foo*", p + ".>x", p + ".a-b_c~", p + ".$x", p + ".UPPER"} {
		assert.NoError(t, b.Publish(t.Context(), numbered(s, 1)), "Publish to valid subject %q", s)
	}
}

// testOversized: per Features.MaxPayload, a message whose data alone is one
// byte over the limit fails at publish with bus.ErrPayloadTooLarge and an
// error naming the limit, and is not delivered; one well under the limit
// (by a margin for the CloudEvents headers) is delivered intact.
func testOversized(e *env) {
	t := e.t
	limit := e.f.MaxPayload
	if limit <= 0 {
		t.Skip("the backend declares no payload limit (Features.MaxPayload is 0)")
	}
	sub, pub := e.bus(), e.bus()
	subj := e.subject("big")
	rec := Recorder(t, sub, subj)
	big := bus.NewMessage(subj, testType, bytes.Repeat([]byte("x"), limit+1))
	err := pub.Publish(t.Context(), big)
	require.ErrorIs(t, err, bus.ErrPayloadTooLarge)
	assert.Contains(t, err.Error(), strconv.Itoa(limit), "the error names the limit")
	if e.f.RequestReply {
		_, err := pub.Request(t.Context(), bus.NewMessage(e.requestSubject("big"), testType, big.Event.Data))
		assert.ErrorIs(t, err, bus.ErrPayloadTooLarge, "Request")
	}
	// JSON string data embeds as is in structured mode too.
	data := append(append([]byte(`"`), bytes.Repeat([]byte("y"), max(limit-4096, 1))...), '"')
	fits := bus.NewMessage(subj, testType, data)
	fits.Event.DataContentType = "application/json"
	e.publish(t, pub, fits)
	ms, _ := e.settled(t, rec.col, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	require.Len(t, ms, 1, "only the message within the limit arrives: %s", describe(ms))
	assert.Equal(t, fits.Event.ID, ms[0].Event.ID)
	assert.True(t, bytes.Equal(data, ms[0].Event.Data), "data of %d bytes arrives intact", len(data))
}
