package busway_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the end-to-end tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
