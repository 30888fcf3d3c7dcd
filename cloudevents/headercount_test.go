package cloudevents

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HeaderCount is exactly how many headers Encode adds, in both modes, for
// a minimal and a full event.
func TestHeaderCountMatchesEncode(t *testing.T) {
	minimal := Event{SpecVersion: "1.0", ID: "1", Source: "/s", Type: "t"}
	full := fullEvent()
	for _, ev := range []*Event{&minimal, &full} {
		for _, mode := range []Mode{Binary, Structured} {
			h := map[string][]string{}
			_, err := Encode(ev, mode, h)
			require.NoError(t, err)
			assert.Equal(t, len(h), HeaderCount(ev, mode), "mode %v, event %q", mode, ev.ID)
		}
	}
}
