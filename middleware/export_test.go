package middleware

import (
	"time"

	"github.com/busway/busway/bus"
)

// NewTestDedup returns Dedup's handler with a clock and a hook called when a
// duplicate starts waiting for the copy in flight, and a function reporting
// how many events it remembers.
func NewTestDedup(cfg DedupConfig, next bus.Handler, now func() time.Time, onWait func()) (bus.Handler, func() int) {
	d := newDedupMemory(cfg, now)
	d.onWait = onWait
	return DedupWith(d)(next), d.len
}
