//go:build !unix

package natsbus_test

import "time"

// processCPU is not measured here: the cpu-ns/msg metric is left out.
func processCPU() time.Duration { return 0 }
