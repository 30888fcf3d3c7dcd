package bus

import (
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encode gives the driver its own copy of every transport header (the
// driver owns the map and its slices) and leaves out event-named ones.
func TestEncodeCopiesTransportHeaders(t *testing.T) {
	b := New(nil)
	m := NewMessage("orders.created", "com.example.created.v1", []byte("x"))
	m.Header = map[string][]string{
		"Traceparent":  {"00-abc-01"},
		"Baggage":      {"a=1"},
		"Multi":        {"one", "two"},
		"Empty":        {},
		"Nil":          nil,
		"Ce-Id":        {"stale"},
		"content-type": {"text/stale"},
	}
	dm, err := b.encode(t.Context(), m)
	require.NoError(t, err)
	h := dm.Header
	assert.Equal(t, []string{"00-abc-01"}, h["Traceparent"])
	assert.Equal(t, []string{"a=1"}, h["Baggage"])
	assert.Equal(t, []string{"one", "two"}, h["Multi"])
	assert.NotNil(t, h["Empty"])
	assert.Empty(t, h["Empty"])
	v, ok := h["Nil"]
	assert.True(t, ok)
	assert.Nil(t, v)
	assert.NotContains(t, h, "Ce-Id")
	assert.NotContains(t, h, "content-type")
	assert.Equal(t, []string{m.Event.ID}, h["ce-id"])

	// Appending to one copied value must not overwrite another.
	h["Traceparent"] = append(h["Traceparent"], "more")
	h["Baggage"] = append(h["Baggage"], "more")
	assert.Equal(t, []string{"00-abc-01", "more"}, h["Traceparent"])
	assert.Equal(t, []string{"a=1", "more"}, h["Baggage"])
	assert.Equal(t, []string{"one", "two"}, h["Multi"])
	// Changing the copies leaves the message's headers alone, and back.
	h["Multi"][0] = "changed"
	m.Header["Baggage"][0] = "changed"
	assert.Equal(t, []string{"one", "two"}, m.Header["Multi"])
	assert.Equal(t, []string{"a=1", "more"}, h["Baggage"])
}

// decode keeps transport headers (empty ones too) in Message.Header, and
// leaves Header nil when there are none.
func TestDecodeTransportHeaders(t *testing.T) {
	b := New(nil)
	m := NewMessage("orders.created", "com.example.created.v1", []byte("x"))
	dm, err := b.encode(t.Context(), m)
	require.NoError(t, err)

	got, err := b.decode(&driver.Message{Subject: dm.Subject, Header: dm.Header, Data: dm.Data})
	require.NoError(t, err)
	assert.Nil(t, got.Header)
	assert.Equal(t, m.Event.ID, got.Event.ID)
	assert.True(t, m.Event.Time.Equal(got.Event.Time))

	dm.Header["Traceparent"] = []string{"00-abc-01"}
	dm.Header["Empty"] = nil
	got, err = b.decode(&driver.Message{Subject: dm.Subject, Header: dm.Header, Data: dm.Data})
	require.NoError(t, err)
	assert.Equal(t, Header{"Traceparent": {"00-abc-01"}, "Empty": nil}, got.Header)

	dm.Header["ce-id"] = []string{""}
	got, err = b.decode(&driver.Message{Subject: dm.Subject, Header: dm.Header, Data: dm.Data})
	require.ErrorIs(t, err, ErrMalformed)
	assert.Empty(t, got.Event.ID, "a malformed delivery carries no half-decoded event")
	assert.Nil(t, got.Header)
}

// fillDefaults reads the clock once: the id's timestamp and the time agree,
// and attributes already set are kept.
func TestFillDefaultsOneClockRead(t *testing.T) {
	m := Message{}
	m.fillDefaults("/src")
	u, err := uuid.Parse(m.Event.ID)
	require.NoError(t, err)
	sec, nsec := u.Time().UnixTime()
	assert.Equal(t, m.Event.Time.UnixMilli(), sec*1000+nsec/1e6)
	assert.Equal(t, time.UTC, m.Event.Time.Location())

	set := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	m = Message{}
	m.Event.ID, m.Event.Time, m.Event.Source = "id-1", set, "/mine"
	m.fillDefaults("/src")
	assert.Equal(t, "id-1", m.Event.ID)
	assert.Equal(t, set, m.Event.Time)
	assert.Equal(t, "/mine", m.Event.Source)
}

// A received message's Header never holds reserved names (the backend's
// Nats-Msg-Id on JetStream, a Status line): they are transport controls,
// not the sender's headers, and Publish would refuse them if the message
// were forwarded. Raw still has every header as received.
func TestDecodeHidesReservedHeaders(t *testing.T) {
	b := New(nil)
	m := NewMessage("orders.created", "com.example.created.v1", []byte("x"))
	dm, err := b.encode(t.Context(), m)
	require.NoError(t, err)
	for _, k := range []string{"Nats-Msg-Id", "Nats-Expected-Stream", "nats-rollup", "Status", "Description"} {
		dm.Header[k] = []string{"v"}
	}
	got, err := b.decode(&driver.Message{Subject: dm.Subject, Header: dm.Header, Data: dm.Data})
	require.NoError(t, err)
	assert.Nil(t, got.Header, "only reserved transport headers: none for the handler")
	raw, _ := got.Raw()
	assert.Equal(t, []string{"v"}, raw["Nats-Msg-Id"], "Raw keeps them")

	dm.Header["Traceparent"] = []string{"00-abc-01"}
	got, err = b.decode(&driver.Message{Subject: dm.Subject, Header: dm.Header, Data: dm.Data})
	require.NoError(t, err)
	assert.Equal(t, Header{"Traceparent": {"00-abc-01"}}, got.Header)
	fwd := NewMessage("orders.copied", "com.example.created.v1", nil)
	fwd.Header = got.Header
	_, err = b.encode(t.Context(), fwd)
	assert.NoError(t, err, "a received message's headers can be forwarded as they are")
}
