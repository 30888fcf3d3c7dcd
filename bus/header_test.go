package bus_test

import (
	"testing"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
)

func TestHeader(t *testing.T) {
	m := bus.NewMessage("a", "t", nil)
	assert.Empty(t, m.Header.Get("X"), "a nil Header reads as empty")
	m.Header.Set("X", "1") // Set makes the map
	m.Header.Add("X", "2")
	m.Header.Add("Y", "y")
	assert.Equal(t, "1", m.Header.Get("X"))
	assert.Equal(t, []string{"1", "2"}, m.Header.Values("X"))
	assert.Empty(t, m.Header.Get("x"), "keys are case-sensitive, as in NATS")
	c := m.Header.Clone()
	c.Set("X", "changed")
	assert.Equal(t, "1", m.Header.Get("X"), "Clone copies")
	m.Header.Del("Y")
	assert.Nil(t, m.Header.Values("Y"))
	assert.Nil(t, bus.Header(nil).Clone())
}
