package natsbus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ConsumerName is the durable consumer of a group: the group with
// characters a consumer name cannot hold replaced by "_", a "-", and 8 hex
// digits of the group's FNV-32a hash (so that two groups whose cleaned
// names collide still get two consumers). It depends on the group alone:
// every pattern the group subscribes to in a stream is a filter subject of
// this one consumer. Operators use it to find a group's consumer
// ("nats consumer info STREAM NAME").
func ConsumerName(group string) string {
	h := fnv.New32a()
	h.Write([]byte(group))
	clean := strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == '/' || r == '\\' || r > '~' {
			return '_'
		}
		return r
	}, group)
	return fmt.Sprintf("%s-%08x", clean, h.Sum32())
}

// groupDescription is the description of a group's consumer.
func groupDescription(group string) string { return fmt.Sprintf("busway group %q", group) }

// plainDescription is the description of a plain subscription's consumer.
func plainDescription(pattern string) string {
	return fmt.Sprintf("busway subscription on %q", pattern)
}

// checkMaxDeliver refuses a subscription whose MaxAttempts the configured
// max_deliver cannot honour: the server would stop redelivering before
// the bus gives up, and the message would end through the backstop
// instead of the subscription's retry policy.
func (c *Conn) checkMaxDeliver(o driver.SubscribeOptions) error {
	md := c.cfg.JetStream.MaxDeliver
	switch {
	case md <= 0 || (o.MaxAttempts > 0 && o.MaxAttempts <= md):
		return nil
	case o.MaxAttempts <= 0:
		return fmt.Errorf("%w: max_deliver %d caps deliveries, but the subscription to %q has MaxAttempts 0 (no limit): set MaxAttempts to at most %d, or remove max_deliver",
			driver.ErrNotSupported, md, o.Subject, md)
	}
	return fmt.Errorf("%w: max_deliver %d is below the subscription's MaxAttempts %d on %q: the server would stop redelivering before the bus gives up; raise max_deliver or lower MaxAttempts",
		driver.ErrNotSupported, md, o.MaxAttempts, o.Subject)
}

// maxDeliver is the server-side backstop for subscriptions with these
// MaxAttempts: the configured max_deliver, or one more than the largest
// MaxAttempts (room for one delivery handed back at shutdown), or
// unlimited (-1) when any has no limit.
func (c *Conn) maxDeliver(attempts ...int) int {
	if md := c.cfg.JetStream.MaxDeliver; md > 0 {
		return md
	}
	n := 0
	for _, a := range attempts {
		if a <= 0 {
			return -1
		}
		n = max(n, a+1)
	}
	return n
}

// baseConsumer is the configuration every consumer of the backend shares.
func (c *Conn) baseConsumer(maxDeliver int) jetstream.ConsumerConfig {
	jc := c.cfg.JetStream
	return jetstream.ConsumerConfig{
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       jc.AckWait,
		MaxDeliver:    maxDeliver,
		MaxAckPending: jc.MaxAckPending,
	}
}

// setStart sets where a new consumer starts: at seq when not zero,
// otherwise as configured.
func (c *Conn) setStart(cc *jetstream.ConsumerConfig, seq uint64) {
	jc := c.cfg.JetStream
	switch {
	case seq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq
	case jc.Start == StartAll:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	case jc.Start == StartAtSequence:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, jc.StartSequence
	case jc.Start == StartAtTime:
		t := jc.StartTime
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
}

// setFilters sets the consumer's filter: FilterSubject for one plain
// pattern, FilterSubjects otherwise (nats.go's check on FilterSubject
// rejects a '>' that is not a whole token; the server takes the plural
// form, 2.10+).
func setFilters(cc *jetstream.ConsumerConfig, filters []string) {
	cc.FilterSubject, cc.FilterSubjects = "", nil
	if len(filters) == 1 && !literalWildcard(filters[0]) {
		cc.FilterSubject = filters[0]
	} else if len(filters) > 0 {
		cc.FilterSubjects = slices.Clone(filters)
	}
}

// filtersOf returns a consumer's filter subjects; none means the whole
// stream.
func filtersOf(cc jetstream.ConsumerConfig) []string {
	if len(cc.FilterSubjects) > 0 {
		return cc.FilterSubjects
	}
	if cc.FilterSubject != "" {
		return []string{cc.FilterSubject}
	}
	return nil
}

// literalWildcard reports whether subject has a '*' or '>' inside a longer
// token (a literal character there, not a wildcard).
func literalWildcard(subject string) bool {
	for t := range strings.SplitSeq(subject, ".") {
		if len(t) > 1 && strings.ContainsAny(t, "*>") {
			return true
		}
	}
	return false
}

// reduceFilters returns the union of patterns without duplicates or
// patterns contained in another, sorted. Two patterns that overlap
// without one containing the other are an error wrapping
// driver.ErrNotSupported: the server refuses overlapping filter subjects.
func reduceFilters(group string, patterns []string) ([]string, error) {
	var out []string
	for i, p := range patterns {
		if slices.ContainsFunc(patterns, func(q string) bool { return q != p && subsetOf(p, q) }) ||
			slices.Contains(patterns[:i], p) {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	for i, p := range out {
		for _, q := range out[i+1:] {
			if overlap(p, q) {
				return nil, fmt.Errorf("%w: group %q on %q and %q: JetStream cannot serve one consumer with filter subjects that overlap without one containing the other; subscribe the group to one pattern covering both, or use two groups",
					driver.ErrNotSupported, group, p, q)
			}
		}
	}
	return out, nil
}

// checkFilters refuses filters the connected server cannot take: several
// filter subjects, or a literal '*' or '>' inside a token, need 2.10
// (2.9 ignores FilterSubjects and would make a consumer of the whole
// stream).
func (c *Conn) checkFilters(group string, filters []string) error {
	if c.serverAtLeast(2, 10, 0) {
		return nil
	}
	if len(filters) > 1 {
		return fmt.Errorf("%w: group %q needs a consumer with several filter subjects %q, which nats-server %s does not have (2.10+); subscribe the group to one pattern covering them, or upgrade the server",
			driver.ErrNotSupported, group, filters, c.nc.ConnectedServerVersion())
	}
	if len(filters) == 1 && literalWildcard(filters[0]) {
		return fmt.Errorf("%w: a JetStream subscription to %q (a '*' or '>' inside a token) needs nats-server 2.10+ (connected to %s)",
			driver.ErrNotSupported, filters[0], c.nc.ConnectedServerVersion())
	}
	return nil
}

// createPlain creates a plain subscription's consumer: named here, so that
// a retry after an unanswered create finds the same consumer instead of
// making a second one; removed by the server InactiveThreshold after its
// client went away.
func (c *Conn) createPlain(ctx context.Context, st *streamInfo, o driver.SubscribeOptions) (jetstream.Consumer, error) {
	if err := c.checkFilters("", []string{o.Subject}); err != nil {
		return nil, err
	}
	cc := c.baseConsumer(c.maxDeliver(o.MaxAttempts))
	setFilters(&cc, []string{o.Subject})
	c.setStart(&cc, 0)
	cc.Name, cc.InactiveThreshold = nuid.Next(), c.cfg.JetStream.InactiveThreshold
	cc.Description = plainDescription(o.Subject)
	return apiRetry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		return c.js.CreateConsumer(ctx, st.name, cc)
	})
}

// groupSpec is what a group's consumer must cover: the patterns of its
// members in this process (and a joining one), and their MaxAttempts.
type groupSpec struct {
	patterns []string
	attempts []int
	resume   uint64 // where a recreated consumer starts; 0 for a new one
}

// ensureGroup makes the group's consumer cover spec: it widens the
// existing consumer in place (its position is kept), or creates it.
func (o *jsConsumer) ensureGroup(ctx context.Context, spec groupSpec) (jetstream.Consumer, error) {
	c := o.conn
	return apiRetry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		for range 3 { // a create can race another process's
			have, err := c.js.Consumer(ctx, o.stream.name, o.name)
			switch {
			case err == nil:
				return o.widen(ctx, have, spec)
			case !errors.Is(err, jetstream.ErrConsumerNotFound):
				return nil, err
			}
			cons, err := o.createGroup(ctx, spec)
			if !errors.Is(err, jetstream.ErrConsumerExists) {
				return cons, err
			}
		}
		return nil, fmt.Errorf("natsbus: consumer %q: created, changed or deleted by another process meanwhile, three times: %w",
			o.name, jetstream.ErrConsumerExists)
	})
}

// widen updates an existing group consumer: its filter becomes the
// reduced union of its filter on the server and spec's patterns (never
// narrower), and its settings the configured ones.
func (o *jsConsumer) widen(ctx context.Context, have jetstream.Consumer, spec groupSpec) (jetstream.Consumer, error) {
	old := have.CachedInfo().Config
	if !o.baseSet { // this process's first look at the consumer
		o.base, o.baseSet = have.CachedInfo().AckFloor.Stream, true
	}
	want, err := o.wanted(old, spec)
	if err != nil || sameConsumer(old, want) {
		return have, err
	}
	w := widening{patterns: added(filtersOf(old), filtersOf(want))}
	if len(w.patterns) > 0 {
		// Messages stored from now on are delivered under the new filter;
		// those stored before may have been skipped.
		si, err := o.stream.handle.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("natsbus: stream info: %w", err)
		}
		w.last = si.State.LastSeq
		if !o.conn.serverAtLeast(2, 10, 0) {
			// 2.9 takes a new filter into the consumer's configuration
			// but does not apply it to delivery: recreate the consumer.
			w.force = true
			return o.rewind(ctx, have, w, spec)
		}
	}
	cons, err := o.conn.js.UpdateConsumer(ctx, o.stream.name, want)
	if err != nil {
		return nil, err
	}
	return o.rewind(ctx, cons, w, spec)
}

// wanted is old with the filter widened to spec's patterns and the
// settings the backend manages.
func (o *jsConsumer) wanted(old jetstream.ConsumerConfig, spec groupSpec) (jetstream.ConsumerConfig, error) {
	want := old
	if cur := filtersOf(old); len(cur) > 0 { // none: the whole stream, already wider
		filters, err := reduceFilters(o.group, append(slices.Clone(cur), spec.patterns...))
		if err != nil {
			return want, err
		}
		if err := o.conn.checkFilters(o.group, filters); err != nil {
			return want, err
		}
		setFilters(&want, filters)
	}
	base := o.conn.baseConsumer(o.conn.maxDeliver(spec.attempts...))
	want.AckWait, want.MaxDeliver, want.MaxAckPending = base.AckWait, base.MaxDeliver, base.MaxAckPending
	want.Description = groupDescription(o.group)
	return want, nil
}

// sameConsumer reports whether the settings the backend manages agree.
func sameConsumer(a, b jetstream.ConsumerConfig) bool {
	return sameSet(filtersOf(a), filtersOf(b)) && a.AckWait == b.AckWait && a.MaxDeliver == b.MaxDeliver &&
		a.MaxAckPending == b.MaxAckPending && a.Description == b.Description
}

// createGroup creates the group's consumer on spec's patterns. A new
// group starts as configured, or, when consumers of the previous naming
// exist for the group, after the lowest of their ack floors; a recreated
// one at spec.resume.
func (o *jsConsumer) createGroup(ctx context.Context, spec groupSpec) (jetstream.Consumer, error) {
	c := o.conn
	filters, err := reduceFilters(o.group, spec.patterns)
	if err != nil {
		return nil, err
	}
	if err := c.checkFilters(o.group, filters); err != nil {
		return nil, err
	}
	cc := c.baseConsumer(c.maxDeliver(spec.attempts...))
	setFilters(&cc, filters)
	cc.Durable, cc.Description = o.name, groupDescription(o.group)
	start := spec.resume
	if start == 0 {
		if start, err = o.legacyStart(ctx); err != nil {
			return nil, err
		}
	}
	c.setStart(&cc, start)
	return c.js.CreateConsumer(ctx, o.stream.name, cc)
}

// legacyStart looks for consumers of the group made by the previous
// naming (one per group and subject, described `busway group "G" on "S"`)
// and returns the stream sequence after the lowest of their ack floors,
// or 0 when there are none. They are left in place for the operator.
func (o *jsConsumer) legacyStart(ctx context.Context) (uint64, error) {
	list := o.stream.handle.ListConsumers(ctx)
	var names []string
	var floor uint64
	for ci := range list.Info() {
		var g, s string
		if n, _ := fmt.Sscanf(ci.Config.Description, "busway group %q on %q", &g, &s); n != 2 || g != o.group {
			continue
		}
		if len(names) == 0 || ci.AckFloor.Stream < floor {
			floor = ci.AckFloor.Stream
		}
		names = append(names, ci.Name)
	}
	if err := list.Err(); err != nil {
		return 0, fmt.Errorf("natsbus: look for the group's legacy consumers: %w", err)
	}
	if len(names) == 0 {
		return 0, nil
	}
	o.conn.log.Info("natsbus: group consumer created from legacy consumers; it starts after their lowest ack floor. Delete the legacy consumers once no old instance runs",
		"stream", o.stream.name, "group", o.group, "consumer", o.name, "legacy", names, "start_sequence", floor+1)
	return floor + 1, nil
}
