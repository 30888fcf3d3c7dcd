package cloudevents

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// extensionTypes holds one extension per CloudEvents type, in canonical
// string form.
var extensionTypes = map[string]string{
	"extbool":              "true",
	"extint":               "-2147483648",
	"extstring":            "Euro € 😀 \"quoted\" 100%",
	"extbinary":            "AQID/w==",
	"exturi":               "https://example.com/schema?x=1#frag",
	"exturiref":            "/relative/path",
	"exttime":              "2024-05-06T07:08:09.123456789Z",
	"longername1234567890": "longer than the recommended 20 characters",
}

func fullEvent() Event {
	return Event{
		ID:              "a1b2c3 d4",
		Source:          "https://example.com/orders?region=eu",
		SpecVersion:     SpecVersion,
		Type:            "com.example.order.created.v2",
		Subject:         "order/42 «Grüße»",
		Time:            time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		DataContentType: "application/json; charset=utf-8",
		DataSchema:      "https://example.com/schemas/order/v2.json",
		Extensions:      extensionTypes,
		Data:            []byte(`{"id":42,"note":"ünïcode"}`),
	}
}

func minimalEvent() Event {
	return Event{ID: "1", Source: "/s", SpecVersion: SpecVersion, Type: "t"}
}

func roundTrip(t *testing.T, ev Event, mode Mode) Event {
	t.Helper()
	h := map[string][]string{}
	body, err := Encode(&ev, mode, h)
	require.NoError(t, err)
	got, err := Decode(h, body)
	require.NoError(t, err)
	return got
}

func TestRoundTrip(t *testing.T) {
	events := map[string]Event{
		"full":    fullEvent(),
		"minimal": minimalEvent(),
		"binary data": func() Event {
			ev := minimalEvent()
			ev.DataContentType = "application/octet-stream"
			ev.Data = []byte{0, 1, 2, 0xff, '"', '\n'}
			return ev
		}(),
		"json data, +json type": func() Event {
			ev := minimalEvent()
			ev.DataContentType = "application/vnd.example+json"
			ev.Data = []byte(`[1,"two",{"three":3}]`)
			return ev
		}(),
		"invalid json, json type": func() Event {
			ev := minimalEvent()
			ev.DataContentType = "application/json"
			ev.Data = []byte(`{not json`)
			return ev
		}(),
		"json with surrounding space": func() Event {
			ev := minimalEvent()
			ev.DataContentType = "application/json"
			ev.Data = []byte(" {} \n")
			return ev
		}(),
		"data without content type": func() Event {
			ev := minimalEvent()
			ev.Data = []byte(`{"a":1}`)
			return ev
		}(),
		"non-UTC time": func() Event {
			ev := minimalEvent()
			ev.Time = time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 5*3600))
			return ev
		}(),
	}
	for name, ev := range events {
		for _, mode := range []Mode{Binary, Structured} {
			t.Run(name+"/"+mode.String(), func(t *testing.T) {
				got := roundTrip(t, ev, mode)
				assertSameEvent(t, ev, got)
			})
		}
	}
}

// assertSameEvent compares events by value: times by instant, and nil and
// empty maps or data as equal.
func assertSameEvent(t *testing.T, want, got Event) {
	t.Helper()
	assert.True(t, want.Time.Equal(got.Time), "time: want %v, got %v", want.Time, got.Time)
	if len(want.Extensions) == 0 {
		assert.Empty(t, got.Extensions)
	} else {
		assert.Equal(t, want.Extensions, got.Extensions)
	}
	assert.Equal(t, string(want.Data), string(got.Data))
	want.Time, got.Time = time.Time{}, time.Time{}
	want.Extensions, got.Extensions = nil, nil
	want.Data, got.Data = nil, nil
	assert.Equal(t, want, got)
}

func TestEncodeBinaryHeaders(t *testing.T) {
	ev := fullEvent()
	h := map[string][]string{"Nats-Msg-Id": {"keep"}, "Ce-Stale": {"x"}, "content-type": {"x"}}
	body, err := Encode(&ev, Binary, h)
	require.NoError(t, err)
	assert.Same(t, &ev.Data[0], &body[0], "body must be ev.Data, not a copy")
	assert.Equal(t, map[string][]string{
		"Nats-Msg-Id":             {"keep"},
		"ce-specversion":          {"1.0"},
		"ce-id":                   {"a1b2c3%20d4"},
		"ce-source":               {"https://example.com/orders?region=eu"},
		"ce-type":                 {"com.example.order.created.v2"},
		"ce-subject":              {"order/42%20%C2%ABGr%C3%BC%C3%9Fe%C2%BB"},
		"ce-time":                 {"2024-05-06T07:08:09.123456789Z"},
		"ce-datacontenttype":      {"application/json;%20charset=utf-8"},
		"ce-dataschema":           {"https://example.com/schemas/order/v2.json"},
		"ce-extbool":              {"true"},
		"ce-extint":               {"-2147483648"},
		"ce-extstring":            {"Euro%20%E2%82%AC%20%F0%9F%98%80%20%22quoted%22%20100%25"},
		"ce-extbinary":            {"AQID/w=="},
		"ce-exturi":               {"https://example.com/schema?x=1#frag"},
		"ce-exturiref":            {"/relative/path"},
		"ce-exttime":              {"2024-05-06T07:08:09.123456789Z"},
		"ce-longername1234567890": {"longer%20than%20the%20recommended%2020%20characters"},
	}, h)
}

func TestEncodeBinaryValuesDoNotAlias(t *testing.T) {
	ev := minimalEvent()
	h := map[string][]string{}
	_, err := Encode(&ev, Binary, h)
	require.NoError(t, err)
	h["ce-id"] = append(h["ce-id"], "appended")
	assert.Equal(t, []string{"/s"}, h["ce-source"])
	assert.Equal(t, []string{"t"}, h["ce-type"])
	assert.Equal(t, []string{"1.0"}, h["ce-specversion"])
}

func TestEncodeTimeFormat(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC), "2024-01-02T03:04:05.5Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", -2*3600)), "2024-01-02T05:04:05Z"},
	} {
		ev := minimalEvent()
		ev.Time = tc.in
		h := map[string][]string{}
		_, err := Encode(&ev, Binary, h)
		require.NoError(t, err)
		assert.Equal(t, []string{tc.want}, h["ce-time"])
	}
}

func TestEncodeStructuredJSON(t *testing.T) {
	ev := fullEvent()
	ev.Extensions = map[string]string{"extint": "42", "extbool": "true"}
	h := map[string][]string{"ce-id": {"stale"}, "Other": {"kept"}}
	body, err := Encode(&ev, Structured, h)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"Content-Type": {"application/cloudevents+json"},
		"Other":        {"kept"},
	}, h)
	assert.JSONEq(t, `{
		"specversion": "1.0",
		"id": "a1b2c3 d4",
		"source": "https://example.com/orders?region=eu",
		"type": "com.example.order.created.v2",
		"subject": "order/42 «Grüße»",
		"time": "2024-05-06T07:08:09.123456789Z",
		"datacontenttype": "application/json; charset=utf-8",
		"dataschema": "https://example.com/schemas/order/v2.json",
		"extbool": "true",
		"extint": "42",
		"data": {"id": 42, "note": "ünïcode"}
	}`, string(body))
}

func TestEncodeStructuredBase64(t *testing.T) {
	ev := minimalEvent()
	ev.DataContentType = "text/plain"
	ev.Data = []byte("hello")
	body, err := Encode(&ev, Structured, map[string][]string{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"specversion":"1.0","id":"1","source":"/s","type":"t",
		"datacontenttype":"text/plain","data_base64":"aGVsbG8="}`, string(body))
}

func TestEncodeKeepsSourceVerbatim(t *testing.T) {
	ev := minimalEvent()
	ev.Source = "HTTP://Example.COM/a%7e/b?q=%41"
	ev.DataSchema = "URN:Example:Schema"
	got := roundTrip(t, ev, Structured)
	assert.Equal(t, ev.Source, got.Source)
	assert.Equal(t, ev.DataSchema, got.DataSchema)
}

func TestEncodeInvalidLeavesHeaders(t *testing.T) {
	ev := minimalEvent()
	ev.Source = ""
	h := map[string][]string{"ce-id": {"old"}}
	_, err := Encode(&ev, Binary, h)
	require.ErrorIs(t, err, ErrInvalidEvent)
	assert.Equal(t, map[string][]string{"ce-id": {"old"}}, h)

	ev = minimalEvent()
	_, err = Encode(&ev, Mode(7), h)
	assert.ErrorContains(t, err, "unknown content mode")
	_, err = Encode(&ev, Binary, nil)
	assert.ErrorContains(t, err, "non-nil header map")
}

func TestDecodeModeDetection(t *testing.T) {
	structured := []byte(`{"specversion":"1.0","id":"s","source":"/s","type":"t"}`)
	for _, ct := range []string{
		"application/cloudevents+json",
		"Application/CloudEvents+JSON; charset=UTF-8",
		"application/cloudevents",
	} {
		ev, err := Decode(map[string][]string{"Content-Type": {ct}}, structured)
		require.NoError(t, err, ct)
		assert.Equal(t, "s", ev.ID)
	}
	// Structured without Content-Type, as sdk-go's JetStream binding sends.
	ev, err := Decode(nil, structured)
	require.NoError(t, err)
	assert.Equal(t, "s", ev.ID)

	_, err = Decode(map[string][]string{"content-type": {"application/cloudevents-batch+json"}}, []byte("[]"))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = Decode(map[string][]string{"content-type": {"application/cloudevents+avro"}}, []byte("x"))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestDecodeBinaryLenient(t *testing.T) {
	h := map[string][]string{
		"CE-SpecVersion": {"1.0"},
		"Ce-Id":          {" \"quoted \\\"id\\\"\" "},
		"ce-source":      {"/a%20b"}, // sdk-go writes URIs unencoded
		"ce-type":        {"t%c3%bc"},
		"Ce-MyExt":       {"v"},
		"content-type":   {"text/plain"},
		"Nats-Msg-Id":    {"ignored"},
	}
	body := []byte("payload")
	ev, err := Decode(h, body)
	require.NoError(t, err)
	assert.Equal(t, `quoted "id"`, ev.ID)
	assert.Equal(t, "/a%20b", ev.Source)
	assert.Equal(t, "tü", ev.Type)
	assert.Equal(t, map[string]string{"myext": "v"}, ev.Extensions)
	assert.Equal(t, "text/plain", ev.DataContentType)
	assert.Same(t, &body[0], &ev.Data[0], "data must be the body, not a copy")

	h["ce-datacontenttype"] = []string{"application/xml"}
	ev, err = Decode(h, nil)
	require.NoError(t, err)
	assert.Equal(t, "application/xml", ev.DataContentType, "ce-datacontenttype wins")
	assert.Nil(t, ev.Data)
}

func TestIsEventHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"ce-id": true, "CE-ID": true, "Ce-Anything": true, "ce-": true,
		"content-type": true, "Content-Type": true,
		"Nats-Msg-Id": false, "ce": false, "cex-id": false, "content-typex": false, "": false,
	} {
		assert.Equal(t, want, IsEventHeader(name), name)
	}
}

func TestModeString(t *testing.T) {
	assert.Equal(t, "binary", Binary.String())
	assert.Equal(t, "structured", Structured.String())
	assert.Equal(t, "Mode(9)", Mode(9).String())
}

func TestDecodeReturnsPartialEventOnError(t *testing.T) {
	ev, err := Decode(map[string][]string{"ce-id": {"abc"}, "ce-specversion": {"1.0"}}, nil)
	var ae *AttributeError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, "abc", ev.ID)
}
