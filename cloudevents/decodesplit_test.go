package cloudevents

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DecodeSplit decodes exactly as Decode does, overwrites what *ev held,
// and reports whether any header is not an event header.
func TestDecodeSplitMatchesDecode(t *testing.T) {
	core := func(extra map[string][]string) map[string][]string {
		h := map[string][]string{
			"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"/s"},
			"ce-type": {"t"}, "ce-time": {"2024-05-06T07:08:09.5Z"},
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	cases := []struct {
		name   string
		h      map[string][]string
		body   []byte
		others bool
	}{
		{"binary", core(nil), []byte("x"), false},
		{"content type", core(map[string][]string{"Content-Type": {"text/plain"}}), []byte("x"), false},
		{"transport header", core(map[string][]string{"Traceparent": {"00-1-01"}}), nil, true},
		{"empty transport header", core(map[string][]string{"Empty": nil}), nil, true},
		{"empty ce header", core(map[string][]string{"ce-ext": {}}), nil, false},
		{"malformed", core(map[string][]string{"ce-id": {"%G1"}, "X": {"y"}}), nil, true},
		{"structured", map[string][]string{"Content-Type": {ContentTypeStructuredJSON}, "X": {"y"}},
			[]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`), true},
		{"headerless JSON", nil, []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := Decode(c.h, c.body)
			got := Event{Subject: "left over", Extensions: map[string]string{"old": "1"}}
			others, err := DecodeSplit(&got, c.h, c.body)
			assert.Equal(t, wantErr, err)
			assert.Equal(t, want, got)
			assert.Equal(t, c.others, others)
		})
	}
}

// Validate accepts times to the nanosecond inside years 0000-9999 and
// rejects the first instants outside.
func TestValidateTimeBounds(t *testing.T) {
	ev := Event{SpecVersion: SpecVersion, ID: "1", Source: "/s", Type: "t"}
	for _, tm := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 59, 59, 0, time.FixedZone("", 3600)),
	} {
		ev.Time = tm
		require.NoError(t, ev.Validate(), "%v", tm)
	}
	for _, tm := range []time.Time{
		time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -3600)),
	} {
		ev.Time = tm
		require.ErrorIs(t, ev.Validate(), ErrInvalidEvent, "%v", tm)
	}
}
