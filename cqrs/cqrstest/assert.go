package cqrstest

import (
	"fmt"
	"testing"

	"github.com/busway/busway/contract"
)

// AssertPublished checks that an event of ev's type (or an older version
// ev reads, upcast) for which pred returns true was published (pred nil
// matches any), and returns the first match. The test's own input (Send,
// Publish) does not count. It waits until the bus is
// idle first. On failure it lists what was published, with the payloads of
// ev's type decoded.
func AssertPublished[T any](t testing.TB, h *Harness, ev *contract.Event[T], pred func(T) bool) (T, bool) {
	t.Helper()
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	var zero T
	for _, p := range h.published {
		if v, ok := match(ev, p, pred); ok {
			p.expected = true
			return v, true
		}
	}
	t.Errorf("cqrstest: no %s on %s matching the predicate was published\n%s",
		ev.Type(), ev.Subject(), h.report(decoder(ev, pred)))
	return zero, false
}

// AssertNotPublished checks that no event of ev's type for which pred
// returns true (pred nil: none at all) was published.
func AssertNotPublished[T any](t testing.TB, h *Harness, ev *contract.Event[T], pred func(T) bool) bool {
	t.Helper()
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	for _, p := range h.published {
		if _, ok := match(ev, p, pred); ok {
			t.Errorf("cqrstest: %s on %s matching the predicate was published, and should not have been\n%s",
				ev.Type(), ev.Subject(), h.report(decoder(ev, pred)))
			return false
		}
	}
	return true
}

// AssertHandled checks that a service built with h.Options handled a
// message of c's type (any version c reads) with outcome want, and returns
// that attempt (with its Reason: the dead-letter reason, or the error of a
// retried attempt). A dead-lettered attempt also marks its dead-letter
// copy as expected.
func AssertHandled(t testing.TB, h *Harness, c contract.Contract, want Outcome) (Handling, bool) {
	t.Helper()
	return assertHandled(t, h, c.Info().Type, c.Accepts, want)
}

// AssertHandledType is AssertHandled for a CloudEvents type given as a
// string, e.g. one the service does not know (dead-lettered as unknown).
func AssertHandledType(t testing.TB, h *Harness, ceType string, want Outcome) (Handling, bool) {
	t.Helper()
	return assertHandled(t, h, ceType, func(s string) bool { return s == ceType }, want)
}

func assertHandled(t testing.TB, h *Harness, name string, accepts func(string) bool, want Outcome) (Handling, bool) {
	t.Helper()
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	for _, a := range h.handled {
		if accepts(a.Type) && a.Outcome == want {
			if want == DeadLettered {
				h.markDeadLetter(a)
			}
			return *a, true
		}
	}
	t.Errorf("cqrstest: no handling of %s was %s\n%s", name, want, h.report(nil))
	return Handling{}, false
}

func (h *Harness) markDeadLetter(a *Handling) {
	for _, p := range h.published {
		if dl := p.DeadLetter; dl != nil && p.ID == a.ID && dl.From == a.Subject && dl.Attempts == a.Attempt {
			p.expected = true
		}
	}
}

// AssertNothingElsePublished checks that every message published was
// either the test's input (Send, Publish), a query request or reply, or matched
// by an earlier assertion (AssertPublished, AssertHandled of a
// dead-lettered message); it lists the others.
func AssertNothingElsePublished(t testing.TB, h *Harness) bool {
	t.Helper()
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	var extra []string
	for _, p := range h.published {
		if !p.input && !p.expected && !p.Reply && !p.Request {
			extra = append(extra, "  "+describe(p, nil))
		}
	}
	if len(extra) == 0 {
		return true
	}
	msg := fmt.Sprintf("cqrstest: %d message(s) published that no assertion expected:\n", len(extra))
	for _, e := range extra {
		msg += e + "\n"
	}
	t.Errorf("%s%s", msg, h.report(nil))
	return false
}

// match decodes p with ev when ev reads its type, and applies pred.
func match[T any](ev *contract.Event[T], p *Published, pred func(T) bool) (T, bool) {
	var zero T
	if p.DeadLetter != nil || p.Reply || p.input || !ev.Accepts(p.Type) {
		return zero, false
	}
	v, err := ev.Decode(p.message())
	if err != nil || (pred != nil && !pred(v)) {
		return zero, false
	}
	return v, true
}

// decoder renders payloads of ev's type as decoded Go values, noting
// whether pred accepted them.
func decoder[T any](ev *contract.Event[T], pred func(T) bool) func(p *Published) (string, bool) {
	return func(p *Published) (string, bool) {
		if p.DeadLetter != nil || !ev.Accepts(p.Type) {
			return "", false
		}
		v, err := ev.Decode(p.message())
		if err != nil {
			return fmt.Sprintf("%s (does not decode: %v)", p.Data, err), true
		}
		s := fmt.Sprintf("%+v", v)
		if pred != nil && !pred(v) {
			s += " (predicate false)"
		}
		return s, true
	}
}
