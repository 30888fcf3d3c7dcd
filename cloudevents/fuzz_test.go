package cloudevents

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"testing"
)

// parseHeaderText reads "name:value" lines into a header map; a name given
// twice gets two values.
func parseHeaderText(s string) map[string][]string {
	h := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			h[k] = append(h[k], v)
		}
	}
	return h
}

// headerText is the inverse of parseHeaderText, sorted for stable seeds.
func headerText(h map[string][]string) string {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			lines = append(lines, k+":"+v)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func fuzzSeeds(f *testing.F) {
	for _, ev := range []Event{fullEvent(), minimalEvent()} {
		for _, mode := range []Mode{Binary, Structured} {
			h := map[string][]string{}
			body, err := Encode(&ev, mode, h)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(headerText(h), body)
		}
	}
	const core = "ce-specversion:1.0\nce-id:1\nce-source:/s\nce-type:t\n"
	f.Add(core+"Ce-Subject:Euro%20%e2%82%ac%20%f0%9f%98%80\nce-time:2024-05-06T07:08:09.5+02:00", []byte("x"))
	f.Add(core+"ce-subject: \"quoted \\\"s\\\"\" \ncontent-type:text/plain\nCE-EXT:a b", []byte{})
	f.Add(core+"ce-source:/a%20b\nce-dataschema:urn:x\nce-datacontenttype:application/json", []byte(`{"a":1}`))
	f.Add(core+"ce-id:%G1\nce-ext:%C0%A0\nce-time:x", []byte(nil))
	f.Add(core+"ce-id:2\nce-ext:1\nCe-Ext:2", []byte(nil))
	f.Add("content-type:application/cloudevents+json; charset=utf-8",
		[]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","e":5,"b":true,"n":null,"data":{"k":[1,2]}}`))
	f.Add("", []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":"hi"}`))
	f.Add("Content-Type:application/cloudevents+json",
		[]byte(`{"specversion":"1.0","id":"\ud83d\ude00","source":"/s","type":"t","data_base64":"AAE="}`))
	f.Add("Content-Type:application/cloudevents+json", []byte(`{"specversion":"1.0","id":1}`))
}

// FuzzDecode checks that Decode never panics, that its errors match
// ErrInvalidEvent, and that every event it accepts survives Encode and
// Decode again, in both modes, unchanged.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, headers string, body []byte) {
		ev, err := Decode(parseHeaderText(headers), body)
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("error does not match ErrInvalidEvent: %v", err)
			}
			return
		}
		for _, mode := range []Mode{Binary, Structured} {
			h := map[string][]string{}
			body2, err := Encode(&ev, mode, h)
			if err != nil {
				t.Fatalf("%v: accepted event does not encode: %v\n%#v", mode, err, ev)
			}
			ev2, err := Decode(h, body2)
			if err != nil {
				t.Fatalf("%v: re-encoded event does not decode: %v\n%#v\n%v\n%q", mode, err, ev, h, body2)
			}
			if !sameEvent(ev, ev2) {
				t.Fatalf("%v: round trip changed the event:\n%#v\n%#v", mode, ev, ev2)
			}
		}
	})
}

func sameEvent(a, b Event) bool {
	if !a.Time.Equal(b.Time) || !bytes.Equal(a.Data, b.Data) || len(a.Extensions) != len(b.Extensions) {
		return false
	}
	for k, v := range a.Extensions {
		if w, ok := b.Extensions[k]; !ok || v != w {
			return false
		}
	}
	a.Time, a.Data, a.Extensions = b.Time, b.Data, b.Extensions
	return a.ID == b.ID && a.Source == b.Source && a.SpecVersion == b.SpecVersion &&
		a.Type == b.Type && a.Subject == b.Subject && a.DataContentType == b.DataContentType &&
		a.DataSchema == b.DataSchema
}
