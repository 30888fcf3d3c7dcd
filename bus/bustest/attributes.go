package bustest

import (
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/cloudevents"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullEvent returns a message that sets every CloudEvents attribute,
// extensions with characters that need escaping, and transport headers
// (one with two values when multi is true).
func fullEvent(id, subject string, multi bool) *bus.Message {
	m := &bus.Message{
		Subject: subject,
		Event: cloudevents.Event{
			ID:              id,
			Source:          "https://example.com/sources/bustest?tenant=acme&path=%2Fa",
			SpecVersion:     cloudevents.SpecVersion,
			Type:            "com.example.bustest.created.v2",
			Subject:         "orders/42 — café",
			Time:            time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("CET", 3600)),
			DataContentType: "application/json; charset=utf-8",
			DataSchema:      "https://example.com/schemas/created/v2.json",
			Extensions: map[string]string{
				"tenant":      "acme",
				"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				"sequence":    "42",
				"flag":        "true",
				"note":        `50% off: "ü" & more`,
			},
			Data: []byte(`{"order":42,"items":["a","b"]}`),
		},
		Header: map[string][]string{
			"X-Bustest-Trace": {"abc-123"},
			"X-Bustest-Multi": {"one", "two"},
		},
	}
	if !multi {
		m.Header["X-Bustest-Multi"] = []string{"one"}
	}
	return m
}

// testAttributes: every attribute the publisher sets (extensions, time,
// dataschema, datacontenttype) and every transport header arrive equal;
// the attributes Publish fills in (id, specversion, source, time) are set
// on the published message in place and arrive as set; binary data
// survives; received transport headers never include CloudEvents ones. A
// header with two values is sent only where Features.MultiValueHeaders.
func testAttributes(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj := e.subject("attrs")
	rec := Recorder(t, sub, subj)

	full := fullEvent("bustest-"+e.id+"-full", subj, e.f.MultiValueHeaders)
	minimal := bus.NewMessage(subj, testType, nil)
	binary := bus.NewMessage(subj, testType, allBytes())
	binary.Event.DataContentType = "application/octet-stream"
	sent := []*bus.Message{full, minimal, binary}
	for _, m := range sent {
		e.publish(t, pub, m)
	}
	assert.Equal(t, "bustest-"+e.id+"-full", full.Event.ID, "Publish keeps an ID that is set")
	assert.NotEmpty(t, minimal.Event.ID, "Publish fills the ID")
	assert.Equal(t, cloudevents.SpecVersion, minimal.Event.SpecVersion)
	assert.NotEmpty(t, minimal.Event.Source, "Publish fills the source")
	assert.False(t, minimal.Event.Time.IsZero(), "Publish fills the time")

	byID := map[string]*bus.Message{}
	for _, m := range rec.Wait(len(sent), e.timeout) {
		byID[m.Event.ID] = m
	}
	for i, want := range sent {
		got := byID[want.Event.ID]
		require.NotNil(t, got, "message %d (id %s) did not arrive", i, want.Event.ID)
		checkEvent(t, want, got)
	}
}

// checkEvent checks that a received message carries what was published.
func checkEvent(t *testing.T, want, got *bus.Message) {
	t.Helper()
	w, g := want.Event, got.Event
	assert.Equal(t, want.Subject, got.Subject, "routing subject")
	assert.Equal(t, w.ID, g.ID, "id")
	assert.Equal(t, w.Source, g.Source, "source")
	assert.Equal(t, w.SpecVersion, g.SpecVersion, "specversion")
	assert.Equal(t, w.Type, g.Type, "type")
	assert.Equal(t, w.Subject, g.Subject, "subject attribute")
	assert.True(t, w.Time.Equal(g.Time), "time: published %v, received %v", w.Time, g.Time)
	assert.Equal(t, w.DataContentType, g.DataContentType, "datacontenttype")
	assert.Equal(t, w.DataSchema, g.DataSchema, "dataschema")
	if len(w.Extensions) == 0 {
		assert.Empty(t, g.Extensions, "extensions")
	} else {
		assert.Equal(t, w.Extensions, g.Extensions, "extensions")
	}
	if len(w.Data) == 0 {
		assert.Empty(t, g.Data, "data")
	} else {
		assert.Equal(t, w.Data, g.Data, "data")
	}
	for k, v := range want.Header {
		assert.Equal(t, v, got.Header[k], "transport header %q", k)
	}
	for k := range got.Header {
		assert.False(t, cloudevents.IsEventHeader(k), "CloudEvents header %q leaked into Message.Header", k)
	}
}

// allBytes returns every byte value once, and then again in reverse.
func allBytes() []byte {
	b := make([]byte, 512)
	for i := range 256 {
		b[i], b[511-i] = byte(i), byte(i)
	}
	return b
}
