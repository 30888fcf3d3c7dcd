package membus

import (
	"slices"
	"sync"

	"github.com/busway/busway/bus/subject"
)

// orphanStore keeps, per group name, the group messages that no live
// member could take when their subscription stopped or naked them: a FIFO
// of at most max deliveries per group, handed to the next member that
// joins the group and whose pattern matches them. Its mutex also makes
// "no live member, so keep it" atomic with a member joining.
type orphanStore struct {
	mu     sync.Mutex
	max    int
	dead   bool // the broker is gone: nothing more is kept
	groups map[string]*deque
}

// keep appends ds (oldest first) to group's FIFO, dropping the oldest
// messages past o.max, and returns how many messages it dropped. o.mu must
// be held.
func (o *orphanStore) keep(group string, ds []*delivery) int {
	if o.dead {
		return len(ds)
	}
	if o.groups == nil {
		o.groups = make(map[string]*deque)
	}
	q := o.groups[group]
	if q == nil {
		q = new(deque)
		o.groups[group] = q
	}
	dropped := 0
	for _, d := range ds {
		if q.len() >= o.max {
			q.popFront()
			dropped++
		}
		q.pushBack(d)
	}
	return dropped
}

// take removes and returns, oldest first, the orphans of group whose
// subject matches pattern. o.mu must be held.
func (o *orphanStore) take(group, pattern string) []*delivery {
	q := o.groups[group]
	if q == nil {
		return nil
	}
	var out []*delivery
	for _, d := range q.takeAll() {
		if subject.Match(pattern, d.env.subject) {
			out = append(out, d)
		} else {
			q.pushBack(d)
		}
	}
	if q.len() == 0 {
		delete(o.groups, group)
	}
	return out
}

// close forgets every orphan, as the broker goes away, and returns how
// many there were. Orphans kept later are counted as dropped.
func (o *orphanStore) close() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dead = true
	n := 0
	for _, q := range o.groups {
		n += q.len()
	}
	o.groups = nil
	return n
}

// join starts routing to s. A group member first gets the orphans of its
// group that match its pattern, ahead of any message published to it.
func (b *broker) join(s *subscription) {
	if s.group == "" {
		b.add(s)
		return
	}
	b.orphans.mu.Lock()
	defer b.orphans.mu.Unlock()
	s.adopt(b.orphans.take(s.group, s.pattern))
	b.add(s)
}

// rehome gives the deliveries ds of group (oldest first), which their
// subscription will not handle, to open members of the group, round-robin,
// keeping their attempt and what remains of their delay; those no member
// matches become orphans. It returns how many messages were discarded.
func (b *broker) rehome(group string, ds []*delivery) int {
	// Under the orphans' lock, so no member can join between "no member
	// took it" and "keep it".
	b.orphans.mu.Lock()
	defer b.orphans.mu.Unlock()
	if ds = b.toLive(group, ds); len(ds) == 0 {
		return 0
	}
	return b.orphans.keep(group, ds)
}

// toLive offers each of ds (oldest first) to an open member of group and
// returns, oldest first, those no member took. Members take them at the
// front of their queues, so they are offered newest first.
func (b *broker) toLive(group string, ds []*delivery) []*delivery {
	var left []*delivery
	for _, d := range slices.Backward(ds) {
		if !b.toLiveMember(d.env.subject, group, func(m *subscription) bool { return m.accept(d, false) }) {
			left = append(left, d)
		}
	}
	slices.Reverse(left)
	return left
}
