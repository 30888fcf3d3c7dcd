package wmbus

import (
	"container/list"
	"sync"
)

// defaultAttemptMemory is the number of message UUIDs a subscription
// remembers delivery counts for when Options.AttemptMemory is 0.
const defaultAttemptMemory = 10000

// attempts counts deliveries per Watermill message UUID for one
// subscription, so that driver.Message.Attempt says which delivery this
// is. It remembers at most max UUIDs and forgets the least recently
// delivered first. Its methods are safe for concurrent use.
type attempts struct {
	max int

	mu    sync.Mutex
	order *list.List               // of *attemptEntry, most recently delivered first
	byID  map[string]*list.Element // UUID -> element of order
}

// attemptEntry is one remembered UUID and how often it was delivered.
type attemptEntry struct {
	id string
	n  int
}

// newAttempts returns a counter for a subscription from
// Options.AttemptMemory: 0 means defaultAttemptMemory, a negative value
// turns counting off (nil).
func newAttempts(memory int) *attempts {
	switch {
	case memory < 0:
		return nil
	case memory == 0:
		memory = defaultAttemptMemory
	}
	return &attempts{max: memory, order: list.New(), byID: make(map[string]*list.Element)}
}

// delivered records a delivery of the message with UUID id and returns the
// delivery count, 1 for the first. It returns 0 (the backend cannot tell)
// on a nil counter and for an empty UUID, which cannot be told apart from
// another message's.
func (a *attempts) delivered(id string) int {
	if a == nil || id == "" {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if el, ok := a.byID[id]; ok {
		e := el.Value.(*attemptEntry)
		e.n++
		a.order.MoveToFront(el)
		return e.n
	}
	for a.order.Len() >= a.max {
		oldest := a.order.Back()
		a.order.Remove(oldest)
		delete(a.byID, oldest.Value.(*attemptEntry).id)
	}
	a.byID[id] = a.order.PushFront(&attemptEntry{id: id, n: 1})
	return 1
}

// forget drops the count of the message with UUID id: it was settled for
// good and will not come again.
func (a *attempts) forget(id string) {
	if a == nil || id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if el, ok := a.byID[id]; ok {
		a.order.Remove(el)
		delete(a.byID, id)
	}
}

// size returns how many UUIDs are remembered.
func (a *attempts) size() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.order.Len()
}
