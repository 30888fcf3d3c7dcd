package bus

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewIDIsUUIDv7(t *testing.T) {
	seen := map[string]bool{}
	before := time.Now().UnixMilli()
	for range 1000 {
		id := newID(time.Now())
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(7), u.Version())
		assert.Equal(t, uuid.RFC4122, u.Variant())
		ms := u.Time() // 100ns units since 1582 for v1/v2; for v7 uuid derives unix ms
		sec, nsec := ms.UnixTime()
		assert.InDelta(t, before, sec*1000+nsec/1e6, 5000)
		assert.False(t, seen[id], "ids are unique")
		seen[id] = true
	}
}
