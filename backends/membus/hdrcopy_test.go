package membus

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A header comes out of the copy as NATS delivers it: every name with its
// values in order, values cleaned, names without values dropped, and a map
// (maybe empty) whenever the published header had entries. Headers past
// the inline storage work the same.
func TestHeaderCopyAsNATSDelivers(t *testing.T) {
	many := map[string][]string{}
	for i := range 30 {
		many["X-"+strconv.Itoa(i)] = []string{strconv.Itoa(i), "again"}
	}
	for _, tc := range []struct {
		name string
		in   map[string][]string
		want map[string][]string
	}{
		{"nil", nil, nil},
		{"empty", map[string][]string{}, nil},
		{"only empty names", map[string][]string{"Empty": nil, "Also": {}}, map[string][]string{}},
		{"multi", map[string][]string{"A": {"1", "22"}, "Bb": {"x"}, "Empty": nil},
			map[string][]string{"A": {"1", "22"}, "Bb": {"x"}}},
		{"cleaned", map[string][]string{"V": {"  a\r\nb  ", "\tc"}}, map[string][]string{"V": {"a  b", "c"}}},
		{"many", many, many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, nlens, _, err := headerSize(tc.in)
			require.NoError(t, err)
			var c headerCopy
			buf := make([]byte, text)
			c.fill(tc.in, buf, nlens)
			got := c.header()
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tc.want, got)
			for k, vs := range got { // capped: an append cannot overwrite the next name's values
				assert.Equal(t, len(vs), cap(vs), k)
			}
		})
	}
}

// Publish copies the header: the publisher may change or reuse its map,
// its slices and the bytes under its strings once Publish returns, and the
// receiver still gets what was published.
func TestPublisherMayReuseHeaderAfterPublish(t *testing.T) {
	c := open(t, Options{})
	ch, _ := collect(t, c, "reuse", "")
	raw := []byte("first-value")
	value := unsafeString(raw) // a string over bytes the publisher will overwrite
	h := map[string][]string{"X-Value": {value}, "X-Multi": {"a", "b"}}
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "reuse", Header: h, Data: []byte("1")}))
	copy(raw, "XXXXXXXXXXX")
	h["X-Multi"][0] = "changed"
	clear(h)
	h["X-Value"] = []string{"second"}
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "reuse", Header: h, Data: []byte("2")}))

	first, second := receive(t, ch), receive(t, ch)
	assert.Equal(t, map[string][]string{"X-Value": {"first-value"}, "X-Multi": {"a", "b"}}, first.Header)
	assert.Equal(t, map[string][]string{"X-Value": {"second"}}, second.Header)
	assert.True(t, c.PublishCopies())
}

// Every delivery has its own header map, as every NATS subscriber parses
// its own: a receiver that changes its map changes no other receiver's,
// nor a redelivery's.
func TestReceiversGetTheirOwnHeader(t *testing.T) {
	c := open(t, Options{})
	a, _ := collect(t, c, "own", "")
	redelivered := make(chan *driver.Message, 2)
	attempts := 0
	_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "own"}, func(m *driver.Message) {
		attempts++
		if attempts == 1 {
			m.Header["X-Id"][0] = "scribbled"
			m.Header["X-New"] = []string{"added"}
			require.NoError(t, m.Acker.Nak(t.Context()))
		} else {
			require.NoError(t, m.Acker.Ack(t.Context()))
		}
		redelivered <- m
	})
	require.NoError(t, err)
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "own", Header: map[string][]string{"X-Id": {"1"}}}))

	first, again := recv(t, redelivered), recv(t, redelivered)
	assert.Equal(t, "scribbled", first.Header["X-Id"][0])
	assert.Equal(t, map[string][]string{"X-Id": {"1"}}, again.Header, "redelivery")
	assert.Equal(t, map[string][]string{"X-Id": {"1"}}, receive(t, a).Header, "other subscriber")
}

// unsafeString returns a string sharing b's bytes, as a publisher's pooled
// storage does.
func unsafeString(b []byte) string { return unsafe.String(&b[0], len(b)) }
