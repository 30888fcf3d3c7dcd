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
	now := time.Date(2026, 11, 27, 15, 4, 5, 678_000_000, time.UTC)
	for range 1000 {
		id := newID(now)
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(7), u.Version())
		assert.Equal(t, uuid.RFC4122, u.Variant())
		sec, nsec := u.Time().UnixTime()
		assert.Equal(t, now.UnixMilli(), sec*1000+nsec/1e6, "the id carries the publish time in milliseconds")
		assert.False(t, seen[id], "ids are unique")
		seen[id] = true
	}
}
