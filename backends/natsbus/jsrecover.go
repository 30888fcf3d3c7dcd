package natsbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrConsumerDeleted is the error a JetStream subscription ends with (see
// driver.Ender and bus.Subscription.Err) when its consumer was deleted on
// the server (by an operator, by InactiveThreshold after a partition,
// with its stream) and could not be recreated: a plain subscription's
// consumer never is (its position is gone), a group's is unless its
// stream is gone or the account may not create it. The error names the
// stream and consumer and wraps the cause.
var ErrConsumerDeleted = errors.New("natsbus: consumer deleted")

// recoverPause is the wait between two checks of a consumer whose state
// the JetStream API did not tell (no answer, disconnected).
const recoverPause = time.Second

// kick wakes the watcher; kicks coalesce.
func (o *jsConsumer) kick() {
	select {
	case o.kicks <- struct{}{}:
	default:
	}
}

// watch runs while the consumer has members: on each kick (a loop
// reported a deleted consumer, missing heartbeats...) it checks the
// consumer until the check concludes.
func (o *jsConsumer) watch() {
	defer o.watchDone.Done()
	for {
		select {
		case <-o.stop:
			return
		case <-o.kicks:
		}
		for !o.recover() {
			select {
			case <-o.stop:
				return
			case <-time.After(recoverPause):
			}
		}
	}
}

// recover checks the consumer and repairs what it finds: loops nats.go
// ended are restarted; a consumer recreated elsewhere (another process of
// the group) is adopted; a deleted group consumer is recreated with the
// group's filter, starting where this process had got to; a deleted
// plain consumer, or one that cannot be recreated, ends the members with
// ErrConsumerDeleted. It reports false when the API did not answer.
func (o *jsConsumer) recover() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(o.members) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiAttempt)
	defer cancel()
	cons, err := o.conn.js.Consumer(ctx, o.stream.name, o.name)
	switch {
	case err == nil:
		recreated := !cons.CachedInfo().Created.Equal(o.created)
		if recreated {
			o.conn.log.Warn("natsbus: consumer was recreated by another process; resuming on it",
				"stream", o.stream.name, "consumer", o.name)
		}
		o.setHandle(cons)
		o.restartLoops(recreated)
		return true
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		return o.recreate(ctx, err)
	case noAnswer(err):
		return false
	}
	o.conn.log.Warn("natsbus: checking consumer", "stream", o.stream.name, "consumer", o.name, "error", err)
	return false
}

// recreate makes a deleted group consumer again, or ends the members
// when that is not possible. o.mu is held.
func (o *jsConsumer) recreate(ctx context.Context, cause error) bool {
	if !o.shared() {
		o.endAll(fmt.Errorf("%w: stream %q, consumer %q of the subscription to %q (a plain subscription's position cannot be recovered; subscribe again): %w",
			ErrConsumerDeleted, o.stream.name, o.name, o.members[0].pattern, cause))
		return true
	}
	spec := o.spec(nil)
	spec.resume = o.track.resume(o.floor)
	if st, err := o.conn.js.Stream(ctx, o.stream.name); err == nil && st.CachedInfo().Created.After(o.stream.created) {
		spec.resume = 1 // a new stream: everything in it is new to the group
		o.stream.created = st.CachedInfo().Created
	}
	cons, err := o.ensureGroup(ctx, spec)
	switch {
	case err == nil:
		o.conn.log.Warn("natsbus: group consumer was deleted; recreated", "stream", o.stream.name,
			"consumer", o.name, "group", o.group, "start_sequence", spec.resume)
		o.setHandle(cons)
		o.restartLoops(true)
		return true
	case noAnswer(err), errors.Is(err, jetstream.ErrConsumerExists):
		return false // no answer, or a deletion still under way: again
	}
	o.endAll(fmt.Errorf("%w: stream %q, consumer %q of group %q, and it could not be recreated: %w",
		ErrConsumerDeleted, o.stream.name, o.name, o.group, err))
	return true
}

// restartLoops restarts, on the current handle, the loops nats.go ended,
// or every loop when all is set (the consumer was recreated: the old
// loops pull from a consumer that is gone). o.mu is held.
func (o *jsConsumer) restartLoops(all bool) {
	for _, s := range o.members {
		s.mu.Lock()
		for _, l := range s.loops {
			if s.stopped || !(all || l.terminal.Load()) {
				continue
			}
			l.cc.Stop()
			if err := s.consume(o.handle, l); err != nil {
				s.mu.Unlock()
				s.endWith(fmt.Errorf("natsbus: restart consuming %q from consumer %q: %w", s.pattern, o.name, err))
				s.mu.Lock()
				break
			}
		}
		s.mu.Unlock()
	}
}

// endAll ends every member with err. o.mu is held.
func (o *jsConsumer) endAll(err error) {
	for _, s := range o.members {
		s.endWith(err)
	}
}
