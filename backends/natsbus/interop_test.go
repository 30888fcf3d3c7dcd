package natsbus_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
)

// interopStream captures the subjects of the interop tests.
func interopStream() *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "INTEROP", Subjects: []string{"interop.>"}}}
}

// interopBackends runs f on core NATS and on JetStream, each with its own
// server.
func interopBackends(t *testing.T, f func(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig)) {
	for name, js := range map[string]func() *natsbus.JetStreamConfig{
		"Core":      func() *natsbus.JetStreamConfig { return nil },
		"JetStream": interopStream,
	} {
		t.Run(name, func(t *testing.T) { f(t, startEmbedded(t), js()) })
	}
}

// interopTime has nanoseconds, to check they survive.
var interopTime = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)

// interopEvent is an event whose attributes need percent-encoding: a
// space and non-ASCII in id and subject, '%' in source, '"' in an
// extension.
func interopEvent() *bus.Message {
	m := bus.NewMessage("interop.orders.created", "com.example.order.created.v1", []byte(`{"order":42,"note":"naïve"}`))
	m.Event.ID = "order 42 é"
	m.Event.Source = "https://example.com/shop?q=a%20b"
	m.Event.Subject = "order 42"
	m.Event.Time = interopTime
	m.Event.DataContentType = "application/json"
	m.Event.DataSchema = "https://example.com/schemas/order.v1.json"
	m.Event.Extensions = map[string]string{"tenant": `acme "eu"`}
	m.Header.Set("X-Request-Id", "r-1")
	return m
}

// interopBinaryHeaders are interopEvent's headers in binary mode, as the
// NATS binding (1.0.3 draft) spells them.
var interopBinaryHeaders = map[string]string{
	"ce-specversion":     "1.0",
	"ce-id":              "order%2042%20%C3%A9",
	"ce-source":          "https://example.com/shop?q=a%2520b",
	"ce-type":            "com.example.order.created.v1",
	"ce-subject":         "order%2042",
	"ce-time":            "2025-01-02T03:04:05.123456789Z",
	"ce-datacontenttype": "application/json",
	"ce-dataschema":      "https://example.com/schemas/order.v1.json",
	"ce-tenant":          "acme%20%22eu%22",
	"X-Request-Id":       "r-1",
}

// interopPlainReader returns a function that reads, with plain nats.go,
// the next message the bus publishes on subject: a core subscription made
// now, or on JetStream an ordered consumer of the stream.
func interopPlainReader(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig, subject string) func() *nats.Msg {
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	if js == nil {
		sub, err := nc.SubscribeSync(subject)
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		return func() *nats.Msg {
			m, err := sub.NextMsg(coreTestWait)
			require.NoError(t, err)
			return m
		}
	}
	return func() *nats.Msg {
		jsc, err := jetstream.New(nc)
		require.NoError(t, err)
		cons, err := jsc.OrderedConsumer(t.Context(), js.Stream.Name, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
		require.NoError(t, err)
		m, err := cons.Next(jetstream.FetchMaxWait(coreTestWait))
		require.NoError(t, err)
		return &nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()}
	}
}

func TestInteropBinaryPublishSeenByPlainNATS(t *testing.T) {
	interopBackends(t, func(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig) {
		b := coreTestBus(t, natsbus.Config{URL: srv.URL(), JetStream: js})
		read := interopPlainReader(t, srv, js, "interop.orders.created")
		sent := interopEvent()
		require.NoError(t, b.Publish(t.Context(), sent))
		got := read()

		assert.Equal(t, `{"order":42,"note":"naïve"}`, string(got.Data), "the payload is the event data, unchanged")
		for k, want := range interopBinaryHeaders {
			assert.Equal(t, []string{want}, got.Header[k], "header %s", k)
		}
		assert.Empty(t, got.Header.Get("Content-Type"), "binary mode carries ce-datacontenttype, no Content-Type")
		for k := range got.Header {
			_, known := interopBinaryHeaders[k]
			assert.True(t, known || js != nil && strings.HasPrefix(k, "Nats-"), "unexpected header %q", k)
		}
		if js != nil {
			assert.Equal(t, driver.DedupID(sent.Event.Source, sent.Event.ID), got.Header.Get(jetstream.MsgIDHeader), "source and id deduplicate")
		}
	})
}

func TestInteropStructuredPublishSeenByPlainNATS(t *testing.T) {
	interopBackends(t, func(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig) {
		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet})
		require.NoError(t, err)
		b := bus.New(c, bus.Logger(quiet), bus.Structured())
		t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
		read := interopPlainReader(t, srv, js, "interop.orders.created")
		require.NoError(t, b.Publish(t.Context(), interopEvent()))
		got := read()

		assert.Equal(t, "application/cloudevents+json", got.Header.Get("Content-Type"))
		assert.Equal(t, "r-1", got.Header.Get("X-Request-Id"))
		for k := range got.Header {
			assert.False(t, strings.HasPrefix(strings.ToLower(k), "ce-"), "structured mode has no %q header", k)
		}
		var doc map[string]any
		require.NoError(t, json.Unmarshal(got.Data, &doc), "%s", got.Data)
		assert.Equal(t, map[string]any{
			"specversion":     "1.0",
			"id":              "order 42 é",
			"source":          "https://example.com/shop?q=a%20b",
			"type":            "com.example.order.created.v1",
			"subject":         "order 42",
			"time":            "2025-01-02T03:04:05.123456789Z",
			"datacontenttype": "application/json",
			"dataschema":      "https://example.com/schemas/order.v1.json",
			"tenant":          `acme "eu"`,
			"data":            map[string]any{"order": float64(42), "note": "naïve"},
		}, doc)
	})
}

// interopSubscribe subscribes b to subject and returns the channel of
// delivered messages.
func interopSubscribe(t *testing.T, b *bus.Bus, subject string) <-chan *bus.Message {
	got := make(chan *bus.Message, 4)
	_, err := b.Subscribe(t.Context(), subject, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}), bus.Group("interop"))
	require.NoError(t, err)
	return got
}

// interopPlainPublish publishes msg with plain nats.go: core, or a
// JetStream publish waiting for the store acknowledgement.
func interopPlainPublish(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig, msg *nats.Msg) {
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	if js == nil {
		require.NoError(t, nc.PublishMsg(msg))
		require.NoError(t, nc.Flush())
		return
	}
	jsc, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = jsc.PublishMsg(t.Context(), msg)
	require.NoError(t, err)
}

func TestInteropPlainBinaryPublishReachesBus(t *testing.T) {
	interopBackends(t, func(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig) {
		b := coreTestBus(t, natsbus.Config{URL: srv.URL(), JetStream: js})
		got := interopSubscribe(t, b, "interop.plain.>")
		h := nats.Header{}
		for k, v := range interopBinaryHeaders {
			h[k] = []string{v}
		}
		h["ce-datacontenttype"] = []string{"text/plain;%20charset=utf-8"}
		h["ce-count"] = []string{"7"}
		interopPlainPublish(t, srv, js, &nats.Msg{Subject: "interop.plain.binary", Header: h, Data: []byte("hello from nats.go")})

		m := coreTestRecv(t, got, "the plain nats.go message at the bus handler")
		assert.Equal(t, "interop.plain.binary", m.Subject)
		ev := m.Event
		assert.Equal(t, "1.0", ev.SpecVersion)
		assert.Equal(t, "order 42 é", ev.ID)
		assert.Equal(t, "https://example.com/shop?q=a%20b", ev.Source)
		assert.Equal(t, "com.example.order.created.v1", ev.Type)
		assert.Equal(t, "order 42", ev.Subject)
		assert.True(t, interopTime.Equal(ev.Time), "time %v", ev.Time)
		assert.Equal(t, "text/plain; charset=utf-8", ev.DataContentType)
		assert.Equal(t, "https://example.com/schemas/order.v1.json", ev.DataSchema)
		assert.Equal(t, map[string]string{"tenant": `acme "eu"`, "count": "7"}, ev.Extensions)
		assert.Equal(t, "hello from nats.go", string(m.Event.Data))
		assert.Equal(t, "r-1", m.Header.Get("X-Request-Id"), "a non-CloudEvents header stays a transport header")
		assert.Equal(t, 1, m.Attempt())
	})
}

func TestInteropPlainStructuredPublishReachesBus(t *testing.T) {
	interopBackends(t, func(t *testing.T, srv *embedded.Server, js *natsbus.JetStreamConfig) {
		b := coreTestBus(t, natsbus.Config{URL: srv.URL(), JetStream: js})
		got := interopSubscribe(t, b, "interop.plain.>")
		body := `{"specversion":"1.0","id":"s-1","source":"/plain","type":"com.example.structured.v1",` +
			`"time":"2025-01-02T03:04:05Z","datacontenttype":"application/octet-stream","traceid":"t-9",` +
			`"data_base64":"` + base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}) + `"}`
		h := nats.Header{"Content-Type": []string{"application/cloudevents+json; charset=utf-8"}}
		interopPlainPublish(t, srv, js, &nats.Msg{Subject: "interop.plain.structured", Header: h, Data: []byte(body)})

		m := coreTestRecv(t, got, "the plain structured message at the bus handler")
		ev := m.Event
		assert.Equal(t, "s-1", ev.ID)
		assert.Equal(t, "/plain", ev.Source)
		assert.Equal(t, "com.example.structured.v1", ev.Type)
		assert.True(t, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Equal(ev.Time), "time %v", ev.Time)
		assert.Equal(t, "application/octet-stream", ev.DataContentType)
		assert.Equal(t, map[string]string{"traceid": "t-9"}, ev.Extensions)
		assert.Equal(t, []byte{0, 1, 2, 0xff}, m.Event.Data)
	})
}
