package bus

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/busway/busway/bus/driver"
)

// Subscription is a live subscription started by Subscriber.Subscribe.
type Subscription struct {
	b       *busImpl
	pattern string
	cfg     subConfig
	handler Handler // the user handler wrapped in its middleware

	ctx    context.Context // handlers' base context: values of Subscribe's ctx
	cancel context.CancelFunc
	// settleCtx carries the same values but is never cancelled, so a
	// message is still settled after a hard stop.
	settleCtx context.Context

	ds       driver.Subscription
	drainMu  sync.Mutex
	drained  bool
	drainErr error
}

// Subscribe implements Subscriber.
func (b *busImpl) Subscribe(ctx context.Context, pattern string, h Handler, opts ...SubscribeOption) (*Subscription, error) {
	if err := ValidatePattern(pattern); err != nil {
		return nil, err
	}
	cfg := defaultSubConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.deadLetter != "" {
		if err := ValidateSubject(cfg.deadLetter); err != nil {
			return nil, fmt.Errorf("dead-letter subject: %w", err)
		}
	}
	s := &Subscription{b: b, pattern: pattern, cfg: cfg, handler: Chain(h, cfg.middleware...)}
	s.settleCtx = context.WithoutCancel(ctx)
	s.ctx, s.cancel = context.WithCancel(s.settleCtx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		s.cancel()
		return nil, ErrClosed
	}
	ds, err := b.conn.Subscribe(ctx, driver.SubscribeOptions{
		Subject: pattern, Group: cfg.group, Concurrency: cfg.concurrency,
	}, s.dispatch)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("busway: subscribe to %q: %w", pattern, err)
	}
	s.ds = ds
	b.subs[s] = struct{}{}
	return s, nil
}

// Pattern returns the subject pattern the subscription listens on.
func (s *Subscription) Pattern() string { return s.pattern }

// Drain stops intake of new messages, waits until every handler in flight
// returns and its message is settled, and ends the subscription. When ctx
// ends first, the handlers still running see their context cancelled, and
// Drain returns ctx's error once they have returned; their messages are
// redelivered by backends that redeliver. Calling Drain again returns the
// first result.
func (s *Subscription) Drain(ctx context.Context) error {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	if s.drained {
		return s.drainErr
	}
	s.drained = true
	stop := context.AfterFunc(ctx, s.cancel)
	s.drainErr = s.ds.Drain(ctx)
	stop()
	s.cancel()
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	return s.drainErr
}

// dispatch is the driver callback: decode, run the handler chain, settle.
func (s *Subscription) dispatch(_ context.Context, dm *driver.Message) {
	m, err := s.b.decode(dm)
	if err == nil {
		err = s.invoke(m)
	}
	if dm.Reply != "" {
		s.answerFailedRequest(m, err)
		return
	}
	s.settle(s.settleCtx, m, err)
}

// invoke runs the handler chain, turning a panic into an error.
func (s *Subscription) invoke(m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())
		}
	}()
	return s.handler.Handle(s.ctx, m)
}

// answerFailedRequest tells the requester that the handler failed, unless
// the handler already answered.
func (s *Subscription) answerFailedRequest(m *Message, err error) {
	if err == nil || m.responded {
		return
	}
	reply := NewMessage(m.raw.Reply, "io.busway.error", nil)
	reply.SetHeader(ErrorHeader, flatten(err.Error(), maxReasonLen))
	dm, encErr := s.b.encode(s.ctx, reply)
	if encErr == nil {
		encErr = s.b.conn.Publish(s.ctx, dm)
	}
	if encErr != nil {
		s.b.logger().Error("busway: could not answer failed request",
			"subject", m.Subject, "error", err, "reply_error", encErr)
	}
}
