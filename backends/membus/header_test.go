package membus

import (
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/cloudevents"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireSize is the size nats.go gives headers: "NATS/1.0\r\n", then
// "Name: value\r\n" per value, then "\r\n".
func TestHeaderWireSize(t *testing.T) {
	_, _, n, err := headerSize(nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, _, n, err = headerSize(map[string][]string{"A": {"1", "22"}, "Bb": {"x"}})
	require.NoError(t, err)
	assert.Equal(t, len("NATS/1.0\r\nA: 1\r\nA: 22\r\nBb: x\r\n\r\n"), n)
	_, _, n, err = headerSize(map[string][]string{"Empty": nil})
	require.NoError(t, err)
	assert.Equal(t, len("NATS/1.0\r\n\r\n"), n)
}

func TestPayloadLimitCountsHeaderBytes(t *testing.T) {
	const limit = 100
	c := open(t, Options{MaxPayload: limit})
	ch, _ := collect(t, c, "size", "")
	h := map[string][]string{"Ce-Id": {"abc"}}
	hsize := len("NATS/1.0\r\nCe-Id: abc\r\n\r\n")
	require.Equal(t, limit, c.MaxPayload())

	exact := &driver.Message{Subject: "size", Header: h, Data: make([]byte, limit-hsize)}
	require.NoError(t, c.Publish(t.Context(), exact))
	assert.Len(t, receive(t, ch).Data, limit-hsize)

	over := &driver.Message{Subject: "size", Header: h, Data: make([]byte, limit-hsize+1)}
	err := c.Publish(t.Context(), over)
	require.ErrorIs(t, err, driver.ErrPayloadTooLarge)
	assert.Contains(t, err.Error(), "101 bytes")
	assert.Contains(t, err.Error(), "limit of 100")
	assert.Contains(t, err.Error(), "headers 24 + body 77")

	// The limit applies even with nobody subscribed.
	require.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "nobody", Data: make([]byte, limit+1)}),
		driver.ErrPayloadTooLarge)
}

func TestDefaultMaxPayloadIsNATSDefault(t *testing.T) {
	c := open(t, Options{})
	assert.Equal(t, 1048576, c.MaxPayload())
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "a", Data: make([]byte, 1048576)}))
	require.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "a", Data: make([]byte, 1048577)}),
		driver.ErrPayloadTooLarge)
}

func TestInvalidHeaderName(t *testing.T) {
	c := open(t, Options{})
	for _, name := range []string{"", "a b", "a:b", "a\tb", "ü", "a\x00", "a/b", "a(b", "a\"b", "a=b"} {
		err := c.Publish(t.Context(), &driver.Message{Subject: "h", Header: map[string][]string{name: {"v"}}})
		require.ErrorIs(t, err, driver.ErrInvalidHeader, "%q", name)
	}
	for _, name := range []string{"Ce-Id", "ce-specversion", "Nats-Msg-Id", "X_Y.Z!#$%&'*+^`|~"} {
		err := c.Publish(t.Context(), &driver.Message{Subject: "h", Header: map[string][]string{name: {"v"}}})
		require.NoError(t, err, "%q", name)
	}
}

func TestHeaderValuesCleanedDataCopied(t *testing.T) {
	c := open(t, Options{})
	ch, _ := collect(t, c, "h", "")
	values := []string{" a\r\nb\nc\r ", "plain"}
	h := map[string][]string{"K": values}
	data := []byte("body")
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "h", Header: h, Data: data}))
	// The publisher may reuse its data buffer at once (the header map
	// belongs to the backend after Publish: driver contract).
	data[0] = 'X'
	m := receive(t, ch)
	assert.Equal(t, []string{"a  b c", "plain"}, m.Header["K"])
	assert.Equal(t, "body", string(m.Data))
	// Cleaning never writes through the caller's value slices.
	assert.Equal(t, " a\r\nb\nc\r ", values[0])
}

func TestInvalidSubjects(t *testing.T) {
	c := open(t, Options{})
	err := c.Publish(t.Context(), &driver.Message{Subject: "foo.*"})
	require.ErrorIs(t, err, driver.ErrInvalidSubject)
	assert.Contains(t, err.Error(), `"foo.*"`)
	err = c.Publish(t.Context(), &driver.Message{Subject: "foo", Reply: "bad reply"})
	require.ErrorIs(t, err, driver.ErrInvalidSubject)
	noop := func(*driver.Message) {}
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "foo.>.bar"}, noop)
	require.ErrorIs(t, err, driver.ErrInvalidSubject)
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "foo", Group: "a b"}, noop)
	require.ErrorIs(t, err, driver.ErrInvalidSubject)
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "foo"}, nil)
	require.Error(t, err)
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "foo", Concurrency: -1}, noop)
	require.Error(t, err)
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: strings.Repeat("a.", 3) + "\x01"}, noop)
	require.ErrorIs(t, err, driver.ErrInvalidSubject)
}

// isBusHeader's list must name every header the bus's encoder writes, or
// the fast path silently stops applying; a name missing from it still gets
// the full check, so this guards speed, not correctness.
func TestIsBusHeaderCoversEncoder(t *testing.T) {
	ev := cloudevents.Event{
		ID: "1", Source: "/s", SpecVersion: cloudevents.SpecVersion, Type: "t.v1",
		Subject: "x", Time: time.Now(), DataContentType: "application/json",
		DataSchema: "https://example.com/s.json",
	}
	for _, mode := range []cloudevents.Mode{cloudevents.Binary, cloudevents.Structured} {
		h := map[string][]string{}
		_, err := cloudevents.Encode(&ev, mode, h)
		require.NoError(t, err)
		for k := range h {
			assert.True(t, isBusHeader(k), "%v mode writes %q", mode, k)
		}
	}
}
