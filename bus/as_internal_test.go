package bus

import (
	"fmt"
	"testing"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
)

type nativeMsg struct{ seq uint64 }

func (n *nativeMsg) String() string { return fmt.Sprint(n.seq) }

func TestMessageAs(t *testing.T) {
	native := &nativeMsg{seq: 7}
	m := &Message{raw: &driver.Message{Native: native}}

	var p *nativeMsg
	assert.True(t, m.As(&p), "the native type itself")
	assert.Same(t, native, p)
	var s fmt.Stringer
	assert.True(t, m.As(&s), "an interface the native type implements")
	assert.Equal(t, "7", s.String())

	var wrong *int
	assert.False(t, m.As(&wrong), "another type")
	assert.False(t, m.As(p), "not a pointer to a pointer")
	assert.False(t, m.As(nil))
	assert.False(t, (&Message{}).As(&p), "a message built for publishing")
	assert.False(t, (&Message{raw: &driver.Message{}}).As(&p), "a backend without native messages")
}
