package cqrs_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind (a
// service or subscription that did not stop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
