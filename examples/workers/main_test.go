package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestWorkers runs the example on its default bus (an in-process NATS
// server) and on mem://: every task is handled exactly once by the group,
// and the printed summary is the same on both.
func TestWorkers(t *testing.T) {
	for _, url := range []string{"", "mem://workers-test"} {
		t.Run(fmt.Sprintf("url=%q", url), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := run(ctx, url, 3, 12)
			require.NoError(t, err)
			var out bytes.Buffer
			res.print(&out, false)
			assert.Contains(t, out.String(), "task 7: 7 squared is 49 (handled 1 time(s))\n")
			assert.Contains(t, out.String(), "12 tasks, 12 handled exactly once, by a group of 3 workers (\"squarers\")\n")
			var verbose bytes.Buffer
			res.print(&verbose, true)
			total := 0
			for w := 1; w <= 3; w++ {
				total += res.count(w)
			}
			assert.Equal(t, 12, total, "the workers' shares add up to the tasks")
		})
	}
}
