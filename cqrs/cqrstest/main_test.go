package cqrstest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The harness stops what it starts: services, the recorder, the bus.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
