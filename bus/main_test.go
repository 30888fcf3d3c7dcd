package bus_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them:
// subscriptions, routers and buses must clean up after themselves.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
