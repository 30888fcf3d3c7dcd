package natsbus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsConsumer is one JetStream consumer of this connection and the
// subscriptions (members) consuming it: a group's durable consumer, shared
// by every subscription of the group in the stream, or a plain
// subscription's own ephemeral consumer. It recreates the consumer when it
// disappears (see recover) and listens for its max-deliveries advisories.
type jsConsumer struct {
	conn   *Conn
	stream *streamInfo
	group  string // "" for a plain subscription's consumer
	name   string

	mu      sync.Mutex // guards the fields below; serialises API calls
	handle  jetstream.Consumer
	created time.Time // the consumer's creation time on the server
	floor   uint64    // its ack floor (stream sequence) when last looked up
	base    uint64    // its ack floor when this process first looked it up
	baseSet bool
	members []*jsSub
	closed  bool
	adv     *nats.Subscription

	view  atomic.Pointer[[]*jsSub] // members, read when routing a message
	track tracker

	kicks     chan struct{} // wakes the watcher (see recover)
	stop      chan struct{} // closed with the consumer
	watchDone sync.WaitGroup

	warnMu sync.Mutex
	warned map[string]time.Time // unmatched subjects last logged
}

func newJSConsumer(c *Conn, st *streamInfo, group string) *jsConsumer {
	o := &jsConsumer{conn: c, stream: st, group: group,
		kicks: make(chan struct{}, 1), stop: make(chan struct{}), warned: map[string]time.Time{}}
	if group != "" {
		o.name = ConsumerName(group)
	}
	o.view.Store(&[]*jsSub{})
	return o
}

// consumerFor returns the consumer a subscription joins, locked: its
// group's (registered per stream and group), or a new one.
func (c *Conn) consumerFor(st *streamInfo, group string) *jsConsumer {
	for {
		c.groupsMu.Lock()
		o := c.groups[st.name+"\x00"+group]
		if o == nil || group == "" {
			o = newJSConsumer(c, st, group)
			if group != "" {
				c.groups[st.name+"\x00"+group] = o
			}
		}
		c.groupsMu.Unlock()
		o.mu.Lock()
		if !o.closed {
			return o
		}
		o.mu.Unlock() // its last member left meanwhile: take a new one
	}
}

// shared reports whether several subscriptions may share the consumer.
func (o *jsConsumer) shared() bool { return o.group != "" }

// setHandle records the consumer handle the server returned.
func (o *jsConsumer) setHandle(h jetstream.Consumer) {
	info := h.CachedInfo()
	o.handle, o.created, o.floor = h, info.Created, info.AckFloor.Stream
	if !o.baseSet {
		o.base, o.baseSet = info.AckFloor.Stream, true
	}
}

// spec is what the consumer must cover for its members and, when not
// nil, a joining subscription.
func (o *jsConsumer) spec(join *driver.SubscribeOptions) groupSpec {
	var sp groupSpec
	for _, m := range o.members {
		sp.patterns = append(sp.patterns, m.pattern)
		sp.attempts = append(sp.attempts, m.opts.MaxAttempts)
	}
	if join != nil {
		sp.patterns = append(sp.patterns, join.Subject)
		sp.attempts = append(sp.attempts, join.MaxAttempts)
	}
	return sp
}

// join makes sure the consumer exists and covers o's pattern, and starts
// a subscription on it. o.mu is held.
func (o *jsConsumer) join(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (*jsSub, error) {
	c := o.conn
	var cons jetstream.Consumer
	var err error
	if o.shared() {
		cons, err = o.ensureGroup(ctx, o.spec(&opts))
	} else {
		cons, err = c.createPlain(ctx, o.stream, opts)
		if err == nil {
			o.name = cons.CachedInfo().Name
		}
	}
	if err != nil {
		return nil, err
	}
	o.setHandle(cons)
	s := newJSSub(o, opts, h)
	if err := s.start(cons); err != nil {
		s.stopLoops()
		s.stopHeartbeat()
		return nil, err
	}
	o.members = append(o.members, s)
	o.publishView()
	if len(o.members) == 1 {
		o.listenAdvisories()
		o.watchDone.Add(1)
		go o.watch()
	}
	return s, nil
}

func (o *jsConsumer) publishView() {
	v := slices.Clone(o.members)
	o.view.Store(&v)
}

// leave removes a drained or ended subscription; the last one closes the
// consumer: its watcher and advisory listener stop, a plain subscription's
// consumer is deleted (bounded by ctx), a group's is kept.
func (o *jsConsumer) leave(ctx context.Context, s *jsSub) {
	o.mu.Lock()
	o.members = slices.DeleteFunc(o.members, func(m *jsSub) bool { return m == s })
	o.publishView()
	last := len(o.members) == 0 && !o.closed
	if last {
		o.closeLocked(ctx)
	}
	o.mu.Unlock()
	if last {
		o.watchDone.Wait()
	}
}

// closeLocked closes the consumer; o.mu is held.
func (o *jsConsumer) closeLocked(ctx context.Context) {
	o.closed = true
	close(o.stop)
	if o.adv != nil {
		_ = o.adv.Unsubscribe()
	}
	if o.shared() {
		o.conn.groupsMu.Lock()
		if o.conn.groups[o.stream.name+"\x00"+o.group] == o {
			delete(o.conn.groups, o.stream.name+"\x00"+o.group)
		}
		o.conn.groupsMu.Unlock()
		return
	}
	if o.handle != nil {
		o.conn.deleteConsumer(ctx, o.stream.name, o.name)
	}
}

// deleteConsumer deletes a consumer, bounded by ctx; when ctx has ended
// already (a hard stop), the request is sent without waiting for the
// answer. Either way the server removes it after InactiveThreshold.
func (c *Conn) deleteConsumer(ctx context.Context, stream, name string) {
	if ctx.Err() != nil {
		subj := fmt.Sprintf("$JS.API.CONSUMER.DELETE.%s.%s", stream, name)
		if err := c.nc.PublishRequest(subj, c.nc.NewInbox(), nil); err != nil {
			c.log.Debug("natsbus: delete consumer (the server removes it after inactive_threshold)", "consumer", name, "error", err)
		}
		return
	}
	if err := c.js.DeleteConsumer(ctx, stream, name); err != nil {
		c.log.Debug("natsbus: delete consumer (the server removes it after inactive_threshold)", "consumer", name, "error", err)
	}
}

// route returns another live member of this process for a message on
// subj that from's pattern does not match: the first whose pattern does,
// entered in its gate (the caller calls Leave). Nil when none does.
func (o *jsConsumer) route(subj string, from *jsSub) *jsSub {
	for _, m := range *o.view.Load() {
		if m != from && subject.Match(m.pattern, subj) && m.gate.Enter() {
			return m
		}
	}
	return nil
}

// unmatchedDelay is how long a message no member of this process matches
// waits before it is offered again (to another process of the group, or
// to this one once it subscribes to the pattern).
const unmatchedDelay = time.Second

// unmatched hands back a message of the group's consumer that no
// subscription of this process matches: another instance widened the
// group, or this one drained the pattern's subscription. Its deliveries
// count; the MaxDeliver backstop ends it if no one takes it.
func (o *jsConsumer) unmatched(msg jetstream.Msg) {
	_ = msg.NakWithDelay(unmatchedDelay)
	now := time.Now()
	o.warnMu.Lock()
	last, seen := o.warned[msg.Subject()]
	log := !seen || now.Sub(last) >= time.Minute
	if log {
		if len(o.warned) > 1000 {
			clear(o.warned)
		}
		o.warned[msg.Subject()] = now
	}
	o.warnMu.Unlock()
	if log {
		o.conn.log.Warn("natsbus: a message of the group's consumer matches no subscription of this process; handed back (logged once a minute per subject)",
			"stream", o.stream.name, "group", o.group, "consumer", o.name, "subject", msg.Subject())
	}
}
