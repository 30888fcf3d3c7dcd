package cloudevents

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var structuredHeader = map[string][]string{"content-type": {"application/cloudevents+json"}}

func TestDecodeJSONExtensionTypes(t *testing.T) {
	body := `{"specversion":"1.0","id":"1","source":"/s","type":"t",
		"b":true,"f":false,"i":42,"neg":-7,"whole":5.0,"exp":1e3,"max":2147483647,
		"s":"str","pair":"\ud83d\ude00 \\ud800","n":null,"subject":null,"time":null}`
	ev, err := Decode(structuredHeader, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"b": "true", "f": "false", "i": "42", "neg": "-7", "whole": "5", "exp": "1000",
		"max": "2147483647", "s": "str", "pair": `😀 \ud800`,
	}, ev.Extensions)
	assert.Empty(t, ev.Subject)
	assert.True(t, ev.Time.IsZero())
}

func TestDecodeJSONData(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t"`
	for _, tc := range []struct {
		name, tail, ct, data string
	}{
		{"json object", `,"datacontenttype":"application/json","data":{"a": [1, 2]}}`, "application/json", `{"a": [1, 2]}`},
		{"json string", `,"datacontenttype":"application/json","data":"s"}`, "application/json", `"s"`},
		{"json null", `,"datacontenttype":"application/json","data":null}`, "application/json", `null`},
		{"+json", `,"datacontenttype":"application/vnd.x+json","data":[true]}`, "application/vnd.x+json", `[true]`},
		{"implied json", `,"data":{"k":1}}`, "application/json", `{"k":1}`},
		{"text string", `,"datacontenttype":"text/xml","data":"<a \"b\"/>"}`, "text/xml", `<a "b"/>`},
		{"text null", `,"datacontenttype":"text/plain","data":null}`, "text/plain", ``},
		{"text non-string", `,"datacontenttype":"text/plain","data":123}`, "text/plain", `123`},
		{"base64", `,"datacontenttype":"application/octet-stream","data_base64":"AAH/"}`, "application/octet-stream", "\x00\x01\xff"},
		{"base64 no type", `,"data_base64":"eyAieHl6IjogMTIzIH0="}`, "", `{ "xyz": 123 }`},
		{"base64 null, data", `,"data_base64":null,"data":1}`, "application/json", `1`},
		{"base64 empty", `,"data_base64":""}`, "", ``},
	} {
		ev, err := Decode(structuredHeader, []byte(head+tc.tail))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.ct, ev.DataContentType, tc.name)
		assert.Equal(t, tc.data, string(ev.Data), tc.name)
		if tc.data == "" {
			assert.Nil(t, ev.Data, tc.name)
		}
	}
}

func TestDecodeJSONAttributes(t *testing.T) {
	body := `{"specversion":"1.0","id":"i\u00e9","source":"urn:x","type":"t","subject":"s",
		"time":"2024-05-06t07:08:09.5+02:00","datacontenttype":"text/plain","dataschema":"urn:s"}`
	ev, err := Decode(structuredHeader, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, Event{
		ID: "ié", Source: "urn:x", SpecVersion: "1.0", Type: "t", Subject: "s",
		Time:            time.Date(2024, 5, 6, 5, 8, 9, 500000000, time.UTC),
		DataContentType: "text/plain", DataSchema: "urn:s",
	}, ev)
}

func TestDecodeJSONErrors(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t"`
	for _, tc := range []struct {
		name, body, attr string
		malformed        bool
	}{
		{"not JSON", `nope`, "", true},
		{"array", `[1]`, "", true},
		{"truncated", head, "", true},
		{"trailing data", head + `} {}`, "", true},
		{"trailing garbage", head + `}x`, "", true},
		{"invalid UTF-8", head + `,"subject":"` + "\xff" + `"}`, "", true},
		{"duplicate attribute", head + `,"id":"2"}`, "id", true},
		{"duplicate extension", head + `,"e":"1","e":"2"}`, "e", true},
		{"id not string", `{"specversion":"1.0","id":1,"source":"/s","type":"t"}`, "id", true},
		{"time not string", head + `,"time":5}`, "time", true},
		{"bad time", head + `,"time":"2024-13-01T00:00:00Z"}`, "time", true},
		{"object extension", head + `,"e":{"a":1}}`, "e", true},
		{"array extension", head + `,"e":[1]}`, "e", true},
		{"fraction extension", head + `,"e":1.5}`, "e", true},
		{"big extension", head + `,"e":2147483648}`, "e", true},
		{"data and data_base64", head + `,"data":1,"data_base64":"AA=="}`, "data_base64", true},
		{"base64 not string", head + `,"data_base64":1}`, "data_base64", true},
		{"bad base64", head + `,"data_base64":"!!"}`, "data_base64", true},
		{"lone high surrogate", head + `,"datacontenttype":"text/plain","data":"\ud800"}`, "data", true},
		{"high surrogate, no low", `{"specversion":"1.0","id":"\ud800\u0041","source":"/s","type":"t"}`, "id", true},
		{"lone low surrogate", head + `,"e":"x\udc00"}`, "e", true},
		{"missing specversion", `{"id":"1","source":"/s","type":"t"}`, "specversion", false},
		{"specversion 0.3", `{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, "specversion", false},
		{"missing id", `{"specversion":"1.0","source":"/s","type":"t"}`, "id", false},
		{"null source", `{"specversion":"1.0","id":"1","source":null,"type":"t"}`, "source", false},
		{"uppercase member", head + `,"Subject":"x"}`, "Subject", false},
		{"control in extension", head + `,"e":"a\nb"}`, "e", false},
		{"extension named data_x", head + `,"data_x":"1"}`, "data_x", false},
	} {
		_, err := Decode(structuredHeader, []byte(tc.body))
		require.Error(t, err, tc.name)
		assert.ErrorIs(t, err, ErrInvalidEvent, tc.name)
		if tc.malformed {
			assert.ErrorIs(t, err, ErrMalformed, tc.name)
		}
		if tc.attr != "" {
			var ae *AttributeError
			require.True(t, errors.As(err, &ae), "%s: %v", tc.name, err)
			assert.Equal(t, tc.attr, ae.Attribute, tc.name)
		}
	}
}
