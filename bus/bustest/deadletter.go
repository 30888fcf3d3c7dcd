package bustest

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadLetterWant is what the Busway-Dead-Letter-* headers must say.
type deadLetterWant struct {
	subject   string // where the message arrived
	attempts  int
	permanent bool
	reason    string // contained in the reason header
}

// checkDeadLetter checks a dead letter received through the bus against
// the original delivery orig (as the failing handler saw it).
func checkDeadLetter(t *testing.T, dl, orig *bus.Message, w deadLetterWant, own []string) {
	t.Helper()
	dh, db := dl.Raw()
	oh, ob := orig.Raw()
	checkDeadLetterRaw(t, dh, db, oh, ob, w, own)
}

// checkDeadLetterRaw checks dead-letter headers and body against the
// original ones: the body is equal byte for byte, every original header is
// kept with its values (except own, the headers the backend sets on every
// publish), and the failure is described in the added headers.
func checkDeadLetterRaw(t *testing.T, dh map[string][]string, db []byte, oh map[string][]string, ob []byte, w deadLetterWant, own []string) {
	t.Helper()
	assert.Equal(t, ob, db, "the dead letter keeps the original body byte for byte")
	for k, v := range oh {
		if slices.Contains(own, k) {
			continue
		}
		assert.Equal(t, v, dh[k], "the dead letter keeps original header %q", k)
	}
	first := func(k string) string {
		if v := dh[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	assert.Equal(t, w.subject, first(bus.DeadLetterSubjectHeader))
	assert.Equal(t, strconv.Itoa(w.attempts), first(bus.DeadLetterAttemptsHeader))
	assert.Equal(t, strconv.FormatBool(w.permanent), first(bus.DeadLetterPermanentHeader))
	assert.Contains(t, first(bus.DeadLetterReasonHeader), w.reason)
	at, err := time.Parse(time.RFC3339Nano, first(bus.DeadLetterTimeHeader))
	assert.NoError(t, err, "%s must be an RFC 3339 time", bus.DeadLetterTimeHeader)
	checkFailureMeta(t, dh, w, at)
}

// checkFailureMeta checks the failure metadata every dead letter carries:
// group (may be empty), route, kind, first failure, replays, and stream
// with sequence together or neither.
func checkFailureMeta(t *testing.T, dh map[string][]string, w deadLetterWant, at time.Time) {
	t.Helper()
	first := func(k string) string {
		assert.Len(t, dh[k], 1, "dead-letter header %s", k)
		if v := dh[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	first(bus.DeadLetterGroupHeader)
	assert.NotEmpty(t, first(bus.DeadLetterRouteHeader), "route")
	kind := first(bus.DeadLetterKindHeader)
	switch {
	case w.reason == bus.ErrMalformed.Error():
		assert.Equal(t, bus.DeadLetterKindMalformed, kind)
	case !w.permanent: // out of attempts; the last error may say why
		assert.Contains(t, []string{bus.DeadLetterKindExhausted, bus.DeadLetterKindPanic, bus.DeadLetterKindTimeout}, kind)
	default:
		assert.Contains(t, []string{bus.DeadLetterKindPermanent, bus.DeadLetterKindPanic, bus.DeadLetterKindTimeout,
			bus.DeadLetterKindUnknownType}, kind)
	}
	ff, err := time.Parse(time.RFC3339Nano, first(bus.DeadLetterFirstFailureHeader))
	assert.NoError(t, err, "first failure")
	assert.False(t, ff.After(at), "first failure %v after the dead-letter time %v", ff, at)
	assert.Equal(t, "0", first(bus.DeadLetterReplaysHeader))
	if _, ok := dh[bus.DeadLetterStreamHeader]; ok {
		assert.NotEmpty(t, first(bus.DeadLetterStreamHeader))
		_, err := strconv.ParseUint(first(bus.DeadLetterSequenceHeader), 10, 64)
		assert.NoError(t, err, "sequence")
	} else {
		assert.NotContains(t, dh, bus.DeadLetterSequenceHeader)
	}
}

// malformedCases are deliveries that are not valid CloudEvents; the
// X-Bustest-Case header names each.
var malformedCases = []struct {
	name   string
	header map[string][]string
	body   []byte
}{
	{"garbage", map[string][]string{}, []byte("\x00\xffnot a CloudEvent\r\n")},
	{"broken-structured", map[string][]string{
		"Content-Type": {"application/cloudevents+json"},
	}, []byte(`{"specversion":"1.0","id":`)},
	{"binary-without-id", map[string][]string{
		"ce-specversion": {"1.0"}, "ce-type": {testType}, "ce-source": {"/bustest"},
	}, []byte(`{}`)},
}

// testMalformed: bytes that are not a CloudEvent, published on the
// backend directly, never reach the handler; each goes to the dead-letter
// subject byte for byte, marked permanent, with the reason.
func testMalformed(e *env) {
	t := e.t
	if e.f.RawConn == nil {
		t.Skip("Features.RawConn is nil: the suite cannot publish bytes that are not a CloudEvent")
	}
	raw := e.f.RawConn(t)
	sub, pub := e.bus(), e.bus()
	subj, dlq := e.subject("in"), e.subject("dlq")
	dls := rawRecorder(t, raw, dlq)
	c := newCollector()
	_, err := sub.Subscribe(t.Context(), subj, c.handler(""), bus.DeadLetter(dlq), tiny)
	require.NoError(t, err)
	sent := map[string]*driver.Message{}
	for _, mc := range malformedCases {
		h := maps.Clone(mc.header)
		h["X-Bustest-Case"] = []string{mc.name}
		dm := &driver.Message{Subject: subj, Header: h, Data: mc.body}
		sent[mc.name] = copyMessage(dm)
		require.NoError(t, raw.Publish(t.Context(), dm), "raw publish of case %s", mc.name)
	}
	for range malformedCases {
		dm := recv(t, e.timeout, dls, "a dead-lettered malformed message")
		name := ""
		if v := dm.Header["X-Bustest-Case"]; len(v) == 1 {
			name = v[0]
		}
		orig := sent[name]
		require.NotNil(t, orig, "a dead letter for an unknown or repeated case %q", name)
		delete(sent, name)
		t.Run(name, func(t *testing.T) {
			w := deadLetterWant{subj, 1, true, bus.ErrMalformed.Error()}
			checkDeadLetterRaw(t, dm.Header, dm.Data, orig.Header, orig.Data, w, e.f.OwnHeaders)
		})
	}
	ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 0)
	assert.Empty(t, ms, "a malformed message must never reach the handler")
}

// rawRecorder subscribes on a driver connection and passes a copy of each
// delivery to the returned channel, acknowledging it.
func rawRecorder(t *testing.T, conn driver.Conn, subject string) <-chan *driver.Message {
	t.Helper()
	ch := make(chan *driver.Message, 16)
	s, err := conn.Subscribe(t.Context(), driver.SubscribeOptions{Subject: subject, Concurrency: 1},
		func(m *driver.Message) {
			select {
			case ch <- copyMessage(m):
			case <-t.Context().Done():
			}
			if m.Acker != nil {
				_ = m.Acker.Ack(context.Background())
			}
		})
	require.NoError(t, err, "raw subscribe to %q", subject)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		assert.NoError(t, s.Drain(ctx), "drain raw subscription to %q", subject)
	})
	return ch
}

// copyMessage deep-copies the subject, header and body of m.
func copyMessage(m *driver.Message) *driver.Message {
	h := make(map[string][]string, len(m.Header))
	for k, v := range m.Header {
		h[k] = slices.Clone(v)
	}
	return &driver.Message{Subject: m.Subject, Header: h, Data: bytes.Clone(m.Data)}
}
