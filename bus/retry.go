package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/busway/busway/bus/driver"
)

// runAtMostOnce handles a delivery the backend will not redeliver (no
// Acker: core NATS). The retry policy still holds: a retryable failure
// is retried in process, on this delivery goroutine (so the
// subscription's order is kept), after the backoff, up to MaxAttempts
// attempts, which Message.Attempt counts. The retries end with the
// process: a hard stop during a wait loses the message, as at-most-once
// says, and logs it.
func (s *Subscription) runAtMostOnce(dm *driver.Message) {
	for attempt := 1; ; attempt++ {
		m, err := s.b.decode(dm) // afresh each attempt: a handler may have changed m
		m.attempt = attempt
		ctx := s.observeHandle(m)
		if err == nil {
			err = s.invoke(ctx, m)
		}
		switch {
		case err == nil:
			s.firsts.forget(m)
			m.outcome = OutcomeAcked
			observeEnd(m, err)
			return
		case s.stopped() && errors.Is(err, context.Canceled):
			s.lostAtStop(m)
			observeEnd(m, err)
			return
		case !s.retryable(attempt, err):
			s.fail(s.settleCtx, m, err)
			observeEnd(m, err)
			return
		}
		s.firsts.failed(m, time.Now())
		m.outcome = OutcomeRetried
		observeEnd(m, err)
		d := s.delay(attempt)
		s.failureLog(m, err).Warn("busway: handler failed; retrying in process (at-most-once delivery)",
			"max_attempts", s.cfg.maxAttempts, "retry_delay", d)
		if !s.wait(d) {
			s.lostAtStop(m)
			return
		}
	}
}

// wait waits d, and reports false when a hard stop (the handlers' context
// ending) cut it short.
func (s *Subscription) wait(d time.Duration) bool {
	if d <= 0 {
		return !s.stopped()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// lostAtStop logs an at-most-once message that a hard stop kept from
// being handled: there is nothing to hand it back to.
func (s *Subscription) lostAtStop(m *Message) {
	s.b.logger().Warn("busway: at-most-once message lost at shutdown before it was handled",
		"subject", m.Subject, "group", s.cfg.group, "event_id", m.Event.ID, "attempt", m.attempt)
}

// exhausted handles a delivery the backend gave up on (it stopped
// redelivering the message without the bus settling it; JetStream:
// MaxDeliver reached): no handler runs; the message goes to the
// dead-letter subject with the reason, or is logged at Error. There is no
// Acker: nothing is left to settle.
func (s *Subscription) exhausted(dm *driver.Message) {
	m, _ := s.b.decode(dm) // for the event id; the bytes go on as they are
	cause := fmt.Errorf("busway: the backend stopped redelivering after %d deliveries without the bus settling it", m.attempt)
	log := s.failureLog(m, cause)
	if s.cfg.deadLetter == "" {
		log.Error("busway: message given up by the backend and lost: no dead-letter subject is set")
		return
	}
	if err := s.deadLetter(s.ctx, m, cause, true); err != nil {
		log.Error("busway: message given up by the backend and lost: dead-letter publish failed",
			"dead_letter", s.cfg.deadLetter, "dead_letter_error", err)
		return
	}
	log.Warn("busway: message dead-lettered", "dead_letter", s.cfg.deadLetter)
}
