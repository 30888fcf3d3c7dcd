package cloudevents

import (
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encoderEvents are events of every shape, in an order that makes one
// reused Encoder grow, shrink and grow again.
func encoderEvents() []Event {
	escaped := fullEvent()
	escaped.Extensions = map[string]string{"note": "100% «sure»", "plain": "x"}
	noTime := minimalEvent()
	many := minimalEvent()
	many.Extensions = map[string]string{}
	for _, c := range "abcdefghijklmnop" {
		many.Extensions["ext"+string(c)] = "v " + string(c) // each one escaped
	}
	huge := minimalEvent()
	huge.Extensions = map[string]string{"big": strings.Repeat("é", 3000)} // escapes past maxKeep
	return []Event{benchEvent(), minimalEvent(), fullEvent(), noTime, many, benchEvent(), escaped, huge, minimalEvent(), fullEvent()}
}

// A reused Encoder writes exactly what Encode writes, for every shape of
// event, whatever it encoded before.
func TestEncoderMatchesEncode(t *testing.T) {
	var e Encoder
	for i, ev := range encoderEvents() {
		want := map[string][]string{"Traceparent": {"00-1"}, "ce-stale": {"x"}}
		got := maps.Clone(want)
		wantBody, err := Encode(&ev, Binary, want)
		require.NoError(t, err)
		gotBody, err := e.Encode(&ev, Binary, got)
		require.NoError(t, err)
		assert.Equal(t, want, got, "event %d", i)
		assert.Equal(t, wantBody, gotBody, "event %d", i)
		back, err := Decode(got, gotBody)
		require.NoError(t, err, "event %d", i)
		assertSameEvent(t, ev, back)
	}
}

// Once grown, an Encoder encodes a typical event without allocating; one
// grown past maxKeep by an unusual event lets that storage go.
func TestEncoderReusesStorage(t *testing.T) {
	var e Encoder
	ev := benchEvent()
	h := make(map[string][]string, 16)
	allocs := testing.AllocsPerRun(100, func() {
		clear(h)
		if _, err := e.Encode(&ev, Binary, h); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)

	huge := encoderEvents()[7]
	_, err := e.Encode(&huge, Binary, map[string][]string{})
	require.NoError(t, err)
	require.Greater(t, cap(e.buf), maxKeep)
	_, err = e.Encode(&ev, Binary, map[string][]string{})
	require.NoError(t, err)
	assert.LessOrEqual(t, cap(e.buf), maxKeep)
}

// The Encoder validates as Encode does, leaving h untouched, and encodes
// structured mode as Encode does.
func TestEncoderInvalidAndStructured(t *testing.T) {
	var e Encoder
	bad := minimalEvent()
	bad.Source = ""
	h := map[string][]string{"ce-id": {"keep"}}
	_, err := e.Encode(&bad, Binary, h)
	require.ErrorIs(t, err, ErrInvalidEvent)
	assert.Equal(t, map[string][]string{"ce-id": {"keep"}}, h)
	_, err = e.Encode(&bad, Binary, nil)
	require.Error(t, err)

	// Source and type checked once are not checked again, but a different
	// one always is.
	good := minimalEvent()
	_, err = e.Encode(&good, Binary, map[string][]string{})
	require.NoError(t, err)
	badType, badSource := good, good
	badType.Type = "t\x01"
	badSource.Source = "%zz"
	_, err = e.Encode(&badType, Binary, map[string][]string{})
	assert.ErrorContains(t, err, "type")
	_, err = e.Encode(&badSource, Binary, map[string][]string{})
	assert.ErrorContains(t, err, "source")
	_, err = e.Encode(&good, Binary, map[string][]string{})
	require.NoError(t, err)

	ev := fullEvent()
	want, got := map[string][]string{}, map[string][]string{}
	wantBody, err := Encode(&ev, Structured, want)
	require.NoError(t, err)
	gotBody, err := e.Encode(&ev, Structured, got)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.JSONEq(t, string(wantBody), string(gotBody))
}
