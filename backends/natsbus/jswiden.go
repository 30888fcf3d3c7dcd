package natsbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// added returns the filters of now that before did not cover.
func added(before, now []string) []string {
	if len(before) == 0 {
		return nil // no filter: the whole stream was covered
	}
	var out []string
	for _, p := range now {
		if !slices.ContainsFunc(before, func(q string) bool { return subsetOf(p, q) }) {
			out = append(out, p)
		}
	}
	return out
}

// rewind makes a consumer whose filter was just widened deliver the
// messages of the added patterns stored since this process first looked
// the consumer up (the group's position when the process started, as a
// redeploy finds it): the server keeps a consumer's position when its
// filter changes, and a consumer moves past (ack floor included) every
// message its filter did not match then. When such a message exists (or
// always, with force: servers before 2.10 apply no filter change to a
// running consumer), the consumer is recreated starting at it (or after
// the last message it delivered), once every message before that start
// is settled (waiting up to min(AckWait, 2s)), else at its ack floor + 1,
// so that nothing pending in any process is dropped. Messages at or after
// the start that were in flight or acked are delivered again
// (at-least-once). o.mu is held.
func (o *jsConsumer) rewind(ctx context.Context, cons jetstream.Consumer, w widening, spec groupSpec) (jetstream.Consumer, error) {
	if len(w.patterns) == 0 {
		return cons, nil
	}
	target, err := o.firstStored(ctx, w)
	if err != nil || (target == 0 && !w.force) {
		return cons, err
	}
	if target == 0 {
		target = cons.CachedInfo().Delivered.Stream + 1
	}
	info, settled, err := o.settledBelow(ctx, cons, target)
	if err != nil {
		return nil, err
	}
	start := target
	if !settled {
		start = min(target, info.AckFloor.Stream+1)
	}
	o.conn.log.Info("natsbus: group consumer widened; recreating it so that the added patterns' stored messages are delivered",
		"stream", o.stream.name, "consumer", o.name, "added", w.patterns, "start_sequence", start)
	if err := o.conn.js.DeleteConsumer(ctx, o.stream.name, o.name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("natsbus: recreate consumer %q to deliver its added patterns: %w", o.name, err)
	}
	spec.patterns = append(spec.patterns, filtersOf(info.Config)...)
	spec.resume = start
	return o.createGroup(ctx, spec)
}

// widening is a change of a group consumer's filter: the patterns added,
// the stream's last sequence before the change, and whether the consumer
// must be recreated whatever it skipped.
type widening struct {
	patterns []string
	last     uint64
	force    bool
}

// firstStored returns the first stream sequence after o.base, and not
// after w.last, holding a message of an added pattern, or 0.
func (o *jsConsumer) firstStored(ctx context.Context, w widening) (uint64, error) {
	first := uint64(0)
	for _, p := range w.patterns {
		m, err := o.stream.handle.GetMsg(ctx, o.base+1, jetstream.WithGetMsgSubject(p))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return 0, fmt.Errorf("natsbus: look for stored messages of %q: %w", p, err)
		case m.Sequence > w.last:
		case first == 0 || m.Sequence < first:
			first = m.Sequence
		}
	}
	return first, nil
}

// settleWait bounds how long a widening waits for the messages before
// its start to be settled (inside one API attempt).
const settleWait = 2 * time.Second

// settledBelow waits, up to min(AckWait, settleWait), until no message
// before seq is pending in any process: nothing is pending at all, or the
// ack floor reached seq-1. It returns the consumer's last info and
// whether that happened.
func (o *jsConsumer) settledBelow(ctx context.Context, cons jetstream.Consumer, seq uint64) (*jetstream.ConsumerInfo, bool, error) {
	deadline := time.Now().Add(min(o.conn.cfg.JetStream.AckWait, settleWait))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, false, err
		}
		if info.NumAckPending == 0 || info.AckFloor.Stream+1 >= seq {
			return info, true, nil
		}
		if time.Now().After(deadline) {
			return info, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-tick.C:
		}
	}
}
