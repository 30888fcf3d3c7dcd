package cloudevents

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// benchEvent is a typical bus event: the required attributes, time,
// subject, a JSON content type, one extension and a small payload.
func benchEvent() Event {
	return Event{
		ID:              "0b8b5d2e-6a8f-4a53-9f5e-3f7e2c1d9a10",
		Source:          "/services/orders",
		SpecVersion:     SpecVersion,
		Type:            "com.example.order.created.v2",
		Subject:         "order-42",
		Time:            time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
		DataContentType: "application/json",
		Extensions:      map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		Data:            []byte(`{"id":42,"total":"19.99","currency":"EUR"}`),
	}
}

func BenchmarkEncodeBinary(b *testing.B) {
	ev := benchEvent()
	h := make(map[string][]string, 16)
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		if _, err := Encode(&ev, Binary, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	ev := benchEvent()
	h := map[string][]string{"Nats-Msg-Id": {ev.ID}}
	body, err := Encode(&ev, Binary, h)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeStructured(b *testing.B) {
	ev := benchEvent()
	h := make(map[string][]string, 4)
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		if _, err := Encode(&ev, Structured, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeStructured(b *testing.B) {
	ev := benchEvent()
	h := map[string][]string{}
	body, err := Encode(&ev, Structured, h)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKGoJSON is the sdk-go way to build and write the same event,
// for comparison with BenchmarkEncodeStructured.
func BenchmarkSDKGoJSON(b *testing.B) {
	src := benchEvent()
	payload := map[string]any{"id": 42, "total": "19.99", "currency": "EUR"}
	b.ReportAllocs()
	for b.Loop() {
		e := event.New()
		e.SetID(src.ID)
		e.SetSource(src.Source)
		e.SetType(src.Type)
		e.SetSubject(src.Subject)
		e.SetTime(src.Time)
		e.SetExtension("traceparent", src.Extensions["traceparent"])
		if err := e.SetData(event.ApplicationJSON, payload); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncoderBinary(b *testing.B) {
	ev := benchEvent()
	h := make(map[string][]string, 16)
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		if _, err := e.Encode(&ev, Binary, h); err != nil {
			b.Fatal(err)
		}
	}
}
