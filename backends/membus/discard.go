package membus

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDiscarded is matched (with errors.Is) by the error of a Drain, Close,
// Nak or NakWithDelay that had to discard messages nobody else could take:
// the queued, scheduled or naked fan-out messages of a stopped
// subscription, or the oldest messages of a group's full orphan queue. The
// error says how many. It is not a context error: a graceful Drain can
// return it too.
var ErrDiscarded = errors.New("membus: messages discarded")

// discardedError reports discarded messages. It matches ErrDiscarded and
// unwraps to its cause (the drain context's error), if any.
type discardedError struct {
	msg   string
	cause error
}

func (e *discardedError) Error() string        { return e.msg }
func (e *discardedError) Is(target error) bool { return target == ErrDiscarded }
func (e *discardedError) Unwrap() error        { return e.cause }

// discards counts the messages a subscription discarded while it stopped.
// The fan-out counts are messages of the subscription itself; orphans are
// older messages of its group pushed out of the group's full orphan queue.
type discards struct {
	queued  int // queued, never started
	delayed int // scheduled for delayed redelivery
	naked   int // naked (or left unsettled) once the subscription stopped
	orphans int
}

func (n discards) total() int { return n.queued + n.delayed + n.naked + n.orphans }

// String says what was discarded, e.g. "3 queued and 1 awaiting redelivery
// discarded".
func (n discards) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{n.queued, "queued"}, {n.delayed, "awaiting redelivery"}, {n.naked, "naked after the stop"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	var s string
	if len(parts) > 0 {
		s = joinAnd(parts) + " discarded"
	}
	if n.orphans > 0 {
		if s != "" {
			s += "; "
		}
		s += orphansDropped(n.orphans)
	}
	return s
}

// orphansDropped describes n orphans pushed out of a full orphan queue (or
// kept by a broker that is gone).
func orphansDropped(n int) string {
	return fmt.Sprintf("%d orphaned group message(s) discarded (orphan queue full or broker closed)", n)
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
