package bus

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/busway/busway/bus/driver"
)

// Headers the bus adds to a dead-lettered message. The original headers
// and body are kept unchanged beside them.
const (
	// DeadLetterReasonHeader holds the error text of the last failure.
	DeadLetterReasonHeader = "Busway-Dead-Letter-Reason"
	// DeadLetterSubjectHeader holds the subject the message arrived on.
	DeadLetterSubjectHeader = "Busway-Dead-Letter-Subject"
	// DeadLetterAttemptsHeader holds how many deliveries were attempted.
	DeadLetterAttemptsHeader = "Busway-Dead-Letter-Attempts"
	// DeadLetterPermanentHeader is "true" when the failure was permanent,
	// "false" when the message ran out of attempts.
	DeadLetterPermanentHeader = "Busway-Dead-Letter-Permanent"
	// DeadLetterTimeHeader holds when the message was dead-lettered (RFC 3339).
	DeadLetterTimeHeader = "Busway-Dead-Letter-Time"
	// ErrorHeader carries a responder's error text on a failed request's reply.
	ErrorHeader = "Busway-Error"
)

// maxReasonLen bounds the error text put in headers.
const maxReasonLen = 1024

// settle acknowledges, redelivers or dead-letters a message after its
// handler ran. A message is never acked before the handler returned nil or
// the message was safely published to the dead-letter subject. Acks and
// naks use the never-cancelled settle context, so they go out even after a
// hard stop; the dead-letter publish uses the handlers' context, so a hard
// stop cannot leave it blocked (it fails, and the message is handed back).
// Each failure is logged once, here: at Warn when the message will be
// redelivered or was dead-lettered, at Error when it is terminated.
func (s *Subscription) settle(m *Message, err error) {
	ctx, acker := s.settleCtx, m.raw.Acker
	switch {
	case err == nil:
		s.firsts.forget(m)
		m.outcome = OutcomeAcked
		s.logAckErr(m, "ack", acker.Ack(ctx))
	case s.retryable(m.attempt, err):
		s.firsts.failed(m, time.Now())
		m.outcome = OutcomeRetried
		d := s.delay(m.attempt)
		s.failureLog(m, err).Warn("busway: handler failed; message handed back for redelivery",
			"max_attempts", s.cfg.maxAttempts, "redelivery_delay", d)
		s.logAckErr(m, "nak", s.nak(ctx, acker, d))
	default:
		s.fail(ctx, m, err)
	}
}

// retryable reports whether a failed attempt gets another one.
func (s *Subscription) retryable(attempt int, err error) bool {
	return !IsPermanent(err) && (s.cfg.maxAttempts <= 0 || attempt < s.cfg.maxAttempts)
}

// nak hands a message back for redelivery after d: with the backend's
// delayed nak where it has one, else after waiting d in process (cut
// short by a hard stop).
func (s *Subscription) nak(ctx context.Context, acker driver.Acker, d time.Duration) error {
	if d > 0 {
		if dn, ok := acker.(driver.DelayNaker); ok {
			return dn.NakWithDelay(ctx, d)
		}
		s.wait(d)
	}
	return acker.Nak(ctx)
}

// delay is the user's backoff for attempt (0 without one); a panicking
// backoff function means no delay rather than a crashed delivery
// goroutine.
func (s *Subscription) delay(attempt int) (d time.Duration) {
	if s.cfg.backoff == nil {
		return 0
	}
	defer func() {
		if r := recover(); r != nil {
			s.b.logger().Error("busway: Backoff.Delay panicked; redelivering without delay", "panic", r)
			d = 0
		}
	}()
	return s.cfg.backoff.Delay(attempt)
}

// fail handles a final failure: dead-letter, or terminate and log. A
// dead-letter publish that failed for a reason a later attempt may not
// meet (a timeout, no stream answer, shutdown) hands the message back; one
// the backend refused for good (refusedForGood) terminates it.
func (s *Subscription) fail(ctx context.Context, m *Message, err error) {
	log := s.failureLog(m, err)
	acker := m.raw.Acker
	why := "no dead-letter subject is set"
	if s.cfg.deadLetter != "" {
		dlErr := s.deadLetter(s.ctx, m, err, false)
		switch {
		case dlErr == nil:
			m.outcome = OutcomeDeadLettered
			log.Warn("busway: message dead-lettered", "dead_letter", s.cfg.deadLetter)
			if acker != nil {
				s.logAckErr(m, "ack", acker.Ack(ctx))
			}
			return
		case acker != nil && !refusedForGood(dlErr):
			m.outcome = OutcomeRetried
			d := s.delay(m.attempt)
			log.Error("busway: dead-letter publish failed; message handed back for redelivery",
				"dead_letter", s.cfg.deadLetter, "dead_letter_error", dlErr, "redelivery_delay", d)
			s.logAckErr(m, "nak", s.nak(ctx, acker, d))
			return
		}
		why = "dead-letter publish failed: " + dlErr.Error()
		log = log.With("dead_letter", s.cfg.deadLetter)
	}
	m.outcome = OutcomeTerminated
	if acker == nil {
		log.Error("busway: message failed on an at-most-once subscription and is lost", "why", why)
		return
	}
	log.Error("busway: message failed for good and is terminated", "why", why)
	if t, ok := acker.(driver.Terminator); ok {
		s.logAckErr(m, "term", t.Term(ctx, flatten(err.Error()+"; "+why, maxReasonLen)))
		return
	}
	s.logAckErr(m, "ack", acker.Ack(ctx))
}

// refusedForGood reports whether a dead-letter publish failed for a
// reason that redelivering the message cannot change: the copy is too
// large, has a header the backend refuses, goes to a subject the backend
// refuses, or asks for what the backend cannot do.
func refusedForGood(err error) bool {
	return errors.Is(err, ErrPayloadTooLarge) || errors.Is(err, ErrInvalidHeader) ||
		errors.Is(err, ErrInvalidSubject) || errors.Is(err, ErrNotSupported)
}

// failureLog is the logger for a failed attempt, with the panic stack when
// the handler panicked.
func (s *Subscription) failureLog(m *Message, err error) *slog.Logger {
	log := s.b.logger().With("subject", m.Subject)
	if s.cfg.group != "" {
		log = log.With("group", s.cfg.group)
	}
	log = log.With("event_id", m.Event.ID, "attempt", m.attempt, "permanent", IsPermanent(err), "error", err)
	var p *panicError
	if errors.As(err, &p) {
		log = log.With("stack", string(p.stack))
	}
	return log
}

// deadLetter publishes the original bytes to the dead-letter subject with
// the failure described in added headers; exhausted is set when the
// backend gave up redelivering.
func (s *Subscription) deadLetter(ctx context.Context, m *Message, cause error, exhausted bool) error {
	h := make(map[string][]string, len(m.raw.Header)+12)
	for k, v := range m.raw.Header {
		h[k] = v
	}
	h[DeadLetterSubjectHeader] = []string{m.raw.Subject}
	h[DeadLetterAttemptsHeader] = []string{strconv.Itoa(m.attempt)}
	h[DeadLetterPermanentHeader] = []string{strconv.FormatBool(!exhausted && IsPermanent(cause))}
	now := time.Now()
	h[DeadLetterTimeHeader] = []string{now.UTC().Format(time.RFC3339Nano)}
	s.failureMeta(h, m, cause, exhausted, now)
	h[DeadLetterReasonHeader] = []string{flatten(cause.Error(), maxReasonLen)}
	s.b.observeDeadLetter(m, h)
	dm := &driver.Message{Subject: s.cfg.deadLetter, Header: h, Data: m.raw.Data}
	if m.Event.ID != "" && s.b.dedup {
		// Deduplicated as its own message (see deadLetterKey), never as
		// a copy of the original.
		dm.ID = driver.DedupID(m.Event.Source, m.Event.ID, "dead-letter", s.dlKey)
		if r := h[DeadLetterReplaysHeader][0]; r != "0" { // a failed replay is a new dead letter
			dm.ID = driver.DedupID(m.Event.Source, m.Event.ID, "dead-letter", s.dlKey, "replay", r)
		}
	}
	err := s.b.conn.Publish(ctx, dm)
	if errors.Is(err, ErrPayloadTooLarge) {
		// The failure metadata pushed a near-limit message over; keep the
		// original bytes and shorten what we added.
		h[DeadLetterReasonHeader] = []string{flatten(cause.Error(), 64)}
		err = s.b.conn.Publish(ctx, dm)
	}
	return err
}

func (s *Subscription) logAckErr(m *Message, op string, err error) {
	if err != nil {
		s.b.logger().LogAttrs(context.Background(), slog.LevelWarn, "busway: settle failed",
			slog.String("op", op), slog.String("subject", m.Subject),
			slog.String("event_id", m.Event.ID), slog.Any("error", err))
	}
}

// flatten makes s fit a header value: one line, at most n bytes.
func flatten(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}
