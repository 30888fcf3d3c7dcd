package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
)

// Subscription is a live subscription started by Subscriber.Subscribe.
//
// It ends when it is drained (Drain, Bus.Close, a Router's shutdown) or
// when its backend side ends on its own (a JetStream consumer deleted and
// not recreated, a connection closed for good): Done is closed then, and
// Err says why (nil after a drain).
//
// The zero value is a valid Subscription with nothing behind it: Drain
// returns nil at once and closes Done. A fake Subscriber in a test can
// return one.
type Subscription struct {
	b       *Bus
	pattern string
	cfg     subConfig
	handler Handler // the user handler wrapped in its middleware

	ctx    context.Context // handlers' base context: values of Subscribe's ctx
	cancel context.CancelFunc
	// settleCtx carries the same values but is never cancelled, so a
	// message is still settled after a hard stop.
	settleCtx context.Context

	dlKey  string        // see deadLetterKey
	firsts firstFailures // see failureMeta
	ds     driver.Subscription
	drain  driver.Once
	cuts   cutter // a later caller's deadline cuts the drain under way
	end    ending // Done and Err
}

// Subscribe implements Subscriber: it delivers messages whose subject
// matches pattern to h until the subscription is drained, the bus closed,
// or the backend ends it (see Subscription). ctx bounds the subscribe call
// itself; its values (not its cancellation) reach the handlers. Options
// set the group, concurrency, middleware, dead-letter subject and retry
// policy; a backend that cannot honour one fails with an error wrapping
// ErrNotSupported.
func (b *Bus) Subscribe(ctx context.Context, pattern string, h Handler, opts ...SubscribeOption) (*Subscription, error) {
	s, err := b.newSubscription(ctx, pattern, h, opts)
	if err != nil {
		return nil, err
	}
	if b.closing.Load() {
		s.cancel()
		return nil, ErrClosed
	}
	cfg := s.cfg
	ds, err := b.conn.Subscribe(ctx, driver.SubscribeOptions{
		Subject: pattern, Group: cfg.group, Concurrency: cfg.concurrency,
		MaxAttempts: max(cfg.maxAttempts, 0), DeadLetter: cfg.deadLetter,
	}, s.dispatch)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("busway: subscribe to %q: %w", pattern, err)
	}
	s.ds = ds
	if err := b.subs.Add(s, nil); err != nil { // Close began during the driver call: undo
		return nil, errors.Join(ErrClosed, s.Drain(ctx))
	}
	s.watch()
	return s, nil
}

// newSubscription checks the arguments and builds the subscription.
func (b *Bus) newSubscription(ctx context.Context, pattern string, h Handler, opts []SubscribeOption) (*Subscription, error) {
	if err := subject.ValidatePattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("busway: subscribe to %q: nil handler", pattern)
	}
	cfg := defaultSubConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.group != "" {
		if err := subject.ValidateGroup(cfg.group); err != nil {
			return nil, fmt.Errorf("busway: subscribe to %q: %w", pattern, err)
		}
	}
	if cfg.deadLetter != "" {
		if err := subject.Validate(cfg.deadLetter); err != nil {
			return nil, fmt.Errorf("dead-letter subject: %w", err)
		}
		if subject.Match(pattern, cfg.deadLetter) {
			return nil, fmt.Errorf("%w: dead-letter subject %q matches the subscription's own pattern %q: each dead letter would come back to it, and a message that cannot be handled would loop",
				ErrInvalidSubject, cfg.deadLetter, pattern)
		}
	}
	s := &Subscription{b: b, pattern: pattern, cfg: cfg, handler: Chain(h, cfg.middleware...)}
	if cfg.deadLetter != "" && b.dedup {
		s.dlKey = deadLetterKey(cfg.group, pattern)
	}
	s.settleCtx = context.WithoutCancel(ctx)
	s.ctx, s.cancel = context.WithCancel(s.settleCtx)
	return s, nil
}

// Pattern returns the subject pattern the subscription listens on.
func (s *Subscription) Pattern() string { return s.pattern }

// Drain stops intake of new messages, waits until every handler in flight
// returns and its message is settled, and ends the subscription. When ctx
// ends first, the handlers still running see their context cancelled, and
// Drain returns ctx's error once they have returned; their messages, and
// those the backend had queued, are not failed but handed back (Nak) so
// that backends that redeliver deliver them again.
//
// A second Drain (or a Bus.Close) while one is under way waits for it,
// bounded by its own ctx, and returns the first's result; when its ctx
// ends first it returns ctx's error at once, and cuts the drain under way
// short as its own deadline would (handlers cancelled, messages handed
// back): a caller's deadline bounds the shutdown whoever started it. The
// first Drain then reports that cause.
func (s *Subscription) Drain(ctx context.Context) error {
	defer whenDone(ctx, func() { s.cuts.cut(context.Cause(ctx)) })()
	return s.drain.Do(ctx, "drain of "+s.pattern, s.drainOnce)
}

// drainOnce is the first Drain's work.
func (s *Subscription) drainOnce(ctx context.Context) error {
	if s.ds == nil {
		s.end.finish(nil) // a zero Subscription: nothing behind it
		return nil
	}
	dctx, cancel := s.cuts.start(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(dctx, s.cancel)
	err := s.ds.Drain(dctx)
	cut := !stop() || dctx.Err() != nil
	s.cancel()
	s.b.subs.Remove(s)
	s.b.ended.Remove(s)
	if cut {
		// The handlers were cancelled (even if the backend finished on
		// its own in the same moment): say why.
		switch cause := context.Cause(dctx); {
		case err == nil:
			err = fmt.Errorf("busway: drain of %q: %w", s.pattern, cause)
		case !errors.Is(err, cause):
			err = fmt.Errorf("busway: drain of %q: %w: %w", s.pattern, cause, err)
		}
	}
	s.end.finish(nil)
	return err
}

// stopped reports whether the subscription was torn down hard: its
// handlers' context is cancelled.
func (s *Subscription) stopped() bool { return s.ctx.Err() != nil }

// dispatch is the driver callback: decode, run the handler chain, settle.
// After a hard stop it runs no handler: the message is handed back. A
// delivery the backend gave up on runs no handler either (see exhausted),
// and one without an Acker is retried in process (see runAtMostOnce).
func (s *Subscription) dispatch(dm *driver.Message) {
	switch {
	case dm.Exhausted:
		s.exhausted(dm)
		return
	case s.skipReplay(dm):
		return
	case s.stopped():
		s.handBack(dm)
		return
	case dm.Acker == nil && dm.Reply == "":
		s.runAtMostOnce(dm)
		return
	}
	m, err := s.b.decode(dm)
	ctx := s.observeHandle(m)
	defer func() { observeEnd(m, err) }()
	if err == nil {
		err = s.invoke(ctx, m)
	}
	if dm.Reply != "" {
		m.outcome = OutcomeAnswered
		s.answerFailedRequest(m, err)
		return
	}
	if err != nil && s.stopped() && errors.Is(err, context.Canceled) {
		s.handBack(dm) // shutdown is not the handler's failure
		return
	}
	s.settle(m, err)
}

// handBack returns an unhandled message to the backend for redelivery. An
// at-most-once message has nowhere to go back to: it is lost, and logged.
func (s *Subscription) handBack(dm *driver.Message) {
	if dm.Acker == nil {
		if dm.Reply == "" {
			m, _ := s.b.decode(dm)
			s.lostAtStop(m)
		}
		return
	}
	if err := dm.Acker.Nak(s.settleCtx); err != nil {
		s.b.logger().Warn("busway: could not hand back a message at shutdown",
			"subject", dm.Subject, "group", s.cfg.group, "error", err)
	}
}

// invoke runs the handler chain, turning a panic into an error.
func (s *Subscription) invoke(ctx context.Context, m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return s.handler.Handle(ctx, m)
}

// answerFailedRequest tells the requester that the handler failed, unless
// the handler already answered.
func (s *Subscription) answerFailedRequest(m *Message, err error) {
	if err == nil || m.responded {
		return
	}
	reply := NewMessage(m.raw.Reply, "io.busway.error", nil)
	reply.Header.Set(ErrorHeader, flatten(err.Error(), maxReasonLen)) // panics: no stack
	dm, encErr := s.b.encode(s.ctx, reply)
	if encErr == nil {
		encErr = s.b.conn.Publish(s.ctx, dm)
	}
	if encErr != nil {
		s.b.logger().Error("busway: could not answer failed request",
			"subject", m.Subject, "error", err, "reply_error", encErr)
	}
}

// panicError is a recovered handler panic. Its text is the panic value
// only, so it can go to a requester or a header; the stack goes to logs.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("%v: %v", ErrPanic, p.value) }
func (p *panicError) Unwrap() error { return ErrPanic }
