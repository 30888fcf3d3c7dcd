package driver

import "sync"

// Set is the set of live subscriptions of a connection, closed once: after
// Close, Add fails with ErrClosed. Every backend keeps one so that closing
// the connection drains what its user did not. The zero value is an empty,
// open set.
type Set[S comparable] struct {
	mu     sync.Mutex
	closed bool
	m      map[S]struct{}
}

// Add puts s in the set, then runs then (when not nil) while still holding
// the set's lock, so that a concurrent Close either sees s with then done
// or makes Add fail. It fails with ErrClosed once Close was called.
func (t *Set[S]) Add(s S, then func()) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if t.m == nil {
		t.m = make(map[S]struct{})
	}
	t.m[s] = struct{}{}
	if then != nil {
		then()
	}
	return nil
}

// Remove takes s out of the set; a drained subscription calls it.
func (t *Set[S]) Remove(s S) {
	t.mu.Lock()
	delete(t.m, s)
	t.mu.Unlock()
}

// Close closes the set and returns its members, for the caller to drain
// (DrainAll). first is false when the set was already closed; the members
// are then those still in it.
func (t *Set[S]) Close() (members []S, first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first = !t.closed
	t.closed = true
	members = make([]S, 0, len(t.m))
	for s := range t.m {
		members = append(members, s)
	}
	return members, first
}

// Closed reports whether Close was called.
func (t *Set[S]) Closed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Len returns the number of members.
func (t *Set[S]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Members returns the current members, in no particular order.
func (t *Set[S]) Members() []S {
	t.mu.Lock()
	defer t.mu.Unlock()
	members := make([]S, 0, len(t.m))
	for s := range t.m {
		members = append(members, s)
	}
	return members
}
