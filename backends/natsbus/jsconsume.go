package natsbus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pullExpiry is how long each pull request lives; nats.go's idle
// heartbeat is half of it, and a loop that misses two heartbeats pulls
// again.
const pullExpiry = 5 * time.Second

// maxHandBackDelay bounds the random delay of a message handed back at a
// hard stop (and by AckWait).
const maxHandBackDelay = 5 * time.Second

// jsSubscribe consumes the stream: a group's subscriptions share the
// group's durable consumer (see jsConsumer), a plain subscription gets an
// ephemeral one (deleted on Drain, and by the server InactiveThreshold
// after a crash). Concurrency N is N pull loops on the consumer. Each
// message is acked only after the bus settled it.
func (c *Conn) jsSubscribe(ctx context.Context, st *streamInfo, o driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	if c.closing.Load() {
		return nil, driver.ErrClosed
	}
	if err := c.checkMaxDeliver(o); err != nil {
		return nil, err
	}
	owner := c.consumerFor(st, o.Group)
	s, err := owner.join(ctx, o, h)
	if err != nil {
		if len(owner.members) == 0 && !owner.closed {
			owner.closeLocked(ctx)
		}
		owner.mu.Unlock()
		return nil, fmt.Errorf("natsbus: consumer for %q in stream %q: %w", o.Subject, st.name, err)
	}
	owner.mu.Unlock()
	if err := c.addSub(s); err != nil {
		_ = s.Drain(ctx)
		return nil, err
	}
	return s, nil
}

// jsSub is a JetStream subscription: pull loops on its consumer, which
// it may share with the other subscriptions of its group.
type jsSub struct {
	conn    *Conn
	owner   *jsConsumer
	pattern string
	opts    driver.SubscribeOptions
	h       driver.Handler

	mu       sync.Mutex // guards loops and stopped
	loops    []*pullLoop
	stopped  bool // no loop may be started any more
	gate     driver.Gate
	stopping atomic.Bool // Drain began: hand-backs are spread over time
	handBack atomic.Bool // hard stop: what still arrives is handed back unhandled

	heartbeat chan struct{} // closed to stop keepAlive
	hbDone    sync.WaitGroup
	drain     driver.Once
	teardown  sync.Once
	ending
}

// pullLoop is one Consume on the consumer, running one handler at a time.
type pullLoop struct {
	cc       jetstream.ConsumeContext
	terminal atomic.Bool // nats.go ended it (consumer deleted, bad request)
	// cur is the message the loop's handler runs, for the InProgress
	// heartbeat.
	cur atomic.Pointer[delivery]
}

func newJSSub(o *jsConsumer, opts driver.SubscribeOptions, h driver.Handler) *jsSub {
	s := &jsSub{conn: o.conn, owner: o, pattern: opts.Subject, opts: opts, h: h, heartbeat: make(chan struct{})}
	s.ending.init()
	return s
}

// start runs Concurrency pull loops on cons and the heartbeat.
func (s *jsSub) start(cons jetstream.Consumer) error {
	s.hbDone.Add(1)
	go s.keepAlive(s.conn.cfg.JetStream.AckWait)
	s.mu.Lock()
	defer s.mu.Unlock()
	for range max(s.opts.Concurrency, 1) {
		l := &pullLoop{}
		if err := s.consume(cons, l); err != nil {
			return fmt.Errorf("natsbus: consume %q: %w", s.pattern, err)
		}
		s.loops = append(s.loops, l)
	}
	return nil
}

// consume (re)starts loop l on cons; s.mu is held.
func (s *jsSub) consume(cons jetstream.Consumer, l *pullLoop) error {
	cc, err := cons.Consume(s.onMsg(l),
		jetstream.PullMaxMessages(s.conn.cfg.JetStream.PullMaxMessages),
		// Pull requests expire (and idle heartbeats come) often, so a
		// loop whose pull was lost (a consumer leader change, nats.go's
		// missing-heartbeat stall) pulls again within seconds, not 30.
		jetstream.PullExpiry(pullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { s.onConsumeErr(l, err) }))
	if err != nil {
		return err
	}
	l.cc = cc
	l.terminal.Store(false)
	return nil
}

// onConsumeErr watches nats.go's reports on a loop: a deleted or unknown
// consumer, or missing heartbeats, wake the consumer's watcher, which
// checks the consumer and recreates it (or ends the subscription).
func (s *jsSub) onConsumeErr(l *pullLoop, err error) {
	switch {
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrBadRequest):
		l.terminal.Store(true) // nats.go stops the loop after this call
		s.owner.kick()
	case errors.Is(err, jetstream.ErrNoHeartbeat), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrConsumerNotFound):
		s.owner.kick()
	}
	if !s.stopping.Load() {
		s.conn.log.Warn("natsbus: consume", "stream", s.owner.stream.name, "consumer", s.owner.name, "subject", s.pattern, "error", err)
	}
}

// onMsg is loop l's callback. A message of a shared consumer goes to the
// member of this process whose pattern matches its subject.
func (s *jsSub) onMsg(l *pullLoop) jetstream.MessageHandler {
	return func(msg jetstream.Msg) {
		if s.handBack.Load() || !s.gate.Enter() {
			s.handBackUnhandled(msg)
			return
		}
		defer s.gate.Leave()
		to := s
		if s.owner.shared() && !subject.Match(s.pattern, msg.Subject()) {
			if to = s.owner.route(msg.Subject(), s); to == nil {
				s.owner.unmatched(msg)
				return
			}
			defer to.gate.Leave()
		}
		to.deliver(l, msg)
	}
}

// handBackUnhandled returns a message that arrives after a hard stop
// (nats.go still hands over what its pull buffer holds) without running
// a handler, after a random delay: spread over time, not all at once.
func (s *jsSub) handBackUnhandled(msg jetstream.Msg) {
	if s.handBack.Load() {
		if err := msg.NakWithDelay(s.spread()); err != nil {
			s.conn.log.Debug("natsbus: hand back at a hard stop (redelivered after AckWait)", "subject", msg.Subject(), "error", err)
		}
	}
	// Otherwise the subscription ended: left unacked, redelivered after
	// AckWait.
}

// spread is a random delay below min(AckWait, 5s).
func (s *jsSub) spread() time.Duration {
	return rand.N(min(s.conn.cfg.JetStream.AckWait, maxHandBackDelay))
}

// deliver runs s's handler on msg, received by loop l.
func (s *jsSub) deliver(l *pullLoop, msg jetstream.Msg) {
	d := &delivery{msg: msg, sub: s}
	attempt, seq, ok := deliveryInfo(msg)
	if ok {
		d.seq = seq
		s.owner.track.delivered(seq)
	}
	d.dm = driver.Message{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Attempt: attempt, Acker: d, Native: msg}
	l.cur.Store(d)
	s.h(&d.dm)
	l.cur.CompareAndSwap(d, nil)
}

// keepAlive sends InProgress, every third of AckWait, for every message a
// handler is running, so the server does not redeliver a message while its
// handler is still working on it.
func (s *jsSub) keepAlive(ackWait time.Duration) {
	defer s.hbDone.Done()
	t := time.NewTicker(max(ackWait/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.heartbeat:
			return
		case <-t.C:
			// Every message a handler runs, however recently it started:
			// its AckWait began at delivery, and it may have waited in
			// the pull buffer before the handler took it.
			s.mu.Lock()
			loops := s.loops
			s.mu.Unlock()
			for _, l := range loops {
				if d := l.cur.Load(); d != nil {
					_ = d.InProgress(context.Background())
				}
			}
		}
	}
}

// Drain stops pulling, lets the handlers finish the messages already
// pulled, and leaves the consumer (a plain subscription's is deleted).
// When ctx ends first, the handlers still running (whose context the bus
// has cancelled) are waited for, and the messages nats.go still hands
// over are handed back unhandled after random delays below
// min(AckWait, 5s). A second Drain waits for the first, bounded by its
// own ctx. After the subscription ended on its own, Drain releases what
// is left and returns nil (Err has the cause).
func (s *jsSub) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "drain of "+s.pattern, s.doDrain)
}

func (s *jsSub) doDrain(ctx context.Context) error {
	s.stopping.Store(true)
	s.mu.Lock()
	s.stopped = true
	loops := s.loops
	s.mu.Unlock()
	for _, l := range loops {
		l.cc.Drain()
	}
	var err error
	if !closedBefore(ctx, loops) {
		err = fmt.Errorf("natsbus: drain %q: %w", s.pattern, ctx.Err())
		s.handBack.Store(true)
	}
	s.gate.CloseAndWait() // Closed can come before a running handler returned
	s.release(ctx)
	s.finish(nil)
	return err
}

// closedBefore waits until every loop has closed, and reports false if
// ctx ended first.
func closedBefore(ctx context.Context, loops []*pullLoop) bool {
	for _, l := range loops {
		select {
		case <-l.cc.Closed():
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// endWith ends the subscription on its own (its consumer is gone for
// good, or the connection closed): Done closes with err at once; the
// handlers still running are waited for in the background before the
// subscription leaves its consumer.
func (s *jsSub) endWith(err error) {
	if !s.finish(err) {
		return // drained or ended already
	}
	s.stopping.Store(true)
	s.stopLoops()
	s.conn.log.Error("natsbus: subscription ended", "stream", s.owner.stream.name, "consumer", s.owner.name,
		"subject", s.pattern, "group", s.opts.Group, "error", err)
	go func() {
		s.gate.CloseAndWait()
		dead, cancel := context.WithCancel(context.Background())
		cancel() // nothing to wait for: the consumer or the connection is gone
		s.release(dead)
	}()
}

// stopLoops stops every loop, for good.
func (s *jsSub) stopLoops() {
	s.mu.Lock()
	s.stopped = true
	loops := s.loops
	s.mu.Unlock()
	for _, l := range loops {
		l.cc.Stop()
	}
}

func (s *jsSub) stopHeartbeat() {
	close(s.heartbeat)
	s.hbDone.Wait()
}

// release stops the heartbeat and leaves the consumer, once.
func (s *jsSub) release(ctx context.Context) {
	s.teardown.Do(func() {
		s.stopHeartbeat()
		s.owner.leave(ctx, s)
		s.conn.removeSub(s)
	})
}
