package membus

import (
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
)

// inboxPrefix starts the reply subject of every request, as in nats.go.
const inboxPrefix = "_INBOX."

// maxCachedRoutes bounds the route cache; it is emptied when full, as
// nats-server bounds its sublist cache.
const maxCachedRoutes = 4096

// registry holds the named brokers, each with the count of open Conns on it.
var registry = struct {
	sync.Mutex
	brokers map[string]*broker
}{brokers: make(map[string]*broker)}

// acquire returns the broker named name, creating it if needed, and counts
// one more Conn on it. An empty name gives a new private broker.
func acquire(name string) *broker {
	if name == "" {
		return newBroker("")
	}
	registry.Lock()
	defer registry.Unlock()
	b := registry.brokers[name]
	if b == nil {
		b = newBroker(name)
		registry.brokers[name] = b
	}
	b.refs++
	return b
}

// release counts one Conn less on b and forgets a named broker no Conn
// uses; a private broker has only one Conn. When b goes away it returns
// how many orphaned group messages it discarded.
func release(b *broker) int {
	if b.name == "" {
		return b.orphans.close()
	}
	registry.Lock()
	defer registry.Unlock()
	b.refs--
	if b.refs == 0 && registry.brokers[b.name] == b {
		delete(registry.brokers, b.name)
		return b.orphans.close()
	}
	return 0
}

// broker routes messages between the subscriptions of every Conn on it.
type broker struct {
	name string
	refs int // guarded by registry

	mu      sync.RWMutex
	subs    []*subscription
	routes  map[string]*route // cache: subject -> matching subscriptions
	inboxes map[string]chan *driver.Message

	orphans orphanStore // group messages waiting for a member
	idle    idleWatch   // for WaitIdle
}

func newBroker(name string) *broker {
	return &broker{
		name:    name,
		routes:  make(map[string]*route),
		inboxes: make(map[string]chan *driver.Message),
		orphans: orphanStore{max: DefaultBuffer},
	}
}

// route is the immutable set of subscriptions matching one subject.
type route struct {
	plain  []*subscription
	groups []*groupRoute
}

func (r *route) empty() bool { return len(r.plain) == 0 && len(r.groups) == 0 }

// groupRoute is the members of one group that match a subject, with a
// round-robin cursor.
type groupRoute struct {
	name    string
	members []*subscription
	next    atomic.Uint32
}

// add starts routing to s.
func (b *broker) add(s *subscription) {
	b.mu.Lock()
	b.subs = append(b.subs, s)
	clear(b.routes)
	b.mu.Unlock()
}

// remove stops routing to s.
func (b *broker) remove(s *subscription) {
	b.mu.Lock()
	for i, x := range b.subs {
		if x == s {
			b.subs = append(b.subs[:i], b.subs[i+1:]...)
			break
		}
	}
	clear(b.routes)
	b.mu.Unlock()
}

// route returns the subscriptions matching subject, from the cache when it
// can, and the request inbox waiting on subject, if any. Inbox subjects are
// used once and are not cached.
func (b *broker) route(subject string) (*route, chan *driver.Message) {
	if strings.HasPrefix(subject, inboxPrefix) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		return b.match(subject), b.inboxes[subject]
	}
	b.mu.RLock()
	r := b.routes[subject]
	b.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r = b.routes[subject]; r == nil {
		r = b.match(subject)
		if len(b.routes) >= maxCachedRoutes {
			clear(b.routes)
		}
		b.routes[subject] = r
	}
	return r, nil
}

// match computes the route of subj; b.mu must be held (read or write).
// Group members are grouped by group name across patterns, as nats-server
// does.
func (b *broker) match(subj string) *route {
	r := &route{}
	for _, s := range b.subs {
		if !subject.Match(s.pattern, subj) {
			continue
		}
		if s.group == "" {
			r.plain = append(r.plain, s)
			continue
		}
		g := r.group(s.group)
		if g == nil {
			g = &groupRoute{name: s.group}
			// A random first member: a route is rebuilt after every
			// subscription change, and never cached for reply inboxes,
			// so a cursor starting at 0 would favour the first member.
			g.next.Store(rand.Uint32())
			r.groups = append(r.groups, g)
		}
		g.members = append(g.members, s)
	}
	return r
}

func (r *route) group(name string) *groupRoute {
	for _, g := range r.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

// addInbox makes messages published to subject go to ch as well.
func (b *broker) addInbox(subject string, ch chan *driver.Message) {
	b.mu.Lock()
	b.inboxes[subject] = ch
	b.mu.Unlock()
}

func (b *broker) removeInbox(subject string) {
	b.mu.Lock()
	delete(b.inboxes, subject)
	b.mu.Unlock()
}

// toLiveMember offers a message to the members of group that match
// subject, round-robin, until try reports that one took it. Drained members
// are no longer routed to, and try refuses members that are not open.
func (b *broker) toLiveMember(subject, group string, try func(*subscription) bool) bool {
	r, _ := b.route(subject)
	g := r.group(group)
	if g == nil {
		return false
	}
	n := uint32(len(g.members))
	start := g.next.Add(1) - 1
	for i := range n {
		if try(g.members[(start+i)%n]) {
			return true
		}
	}
	return false
}
