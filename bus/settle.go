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
func (s *Subscription) settle(m *Message, err error) {
	ctx, acker := s.settleCtx, m.raw.Acker
	switch {
	case err == nil:
		if acker != nil {
			s.logAckErr(m, "ack", acker.Ack(ctx))
		}
	case s.shouldRetry(m, err):
		s.logAckErr(m, "nak", s.nak(ctx, acker, m.attempt))
	default:
		s.fail(ctx, m, err)
	}
}

// shouldRetry reports whether a failed message gets another delivery.
func (s *Subscription) shouldRetry(m *Message, err error) bool {
	if m.raw.Acker == nil || IsPermanent(err) {
		return false
	}
	return s.cfg.maxAttempts <= 0 || m.attempt < s.cfg.maxAttempts
}

// nak asks for redelivery after the backoff, when the backend can delay.
func (s *Subscription) nak(ctx context.Context, acker driver.Acker, attempt int) error {
	if d, ok := acker.(driver.DelayNaker); ok && s.cfg.backoff != nil {
		return d.NakWithDelay(ctx, s.delay(attempt))
	}
	return acker.Nak(ctx)
}

// delay is the user's backoff for attempt; a panicking backoff function
// means no delay rather than a crashed delivery goroutine.
func (s *Subscription) delay(attempt int) (d time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			s.b.logger().Error("busway: Backoff.Delay panicked; redelivering without delay", "panic", r)
			d = 0
		}
	}()
	return s.cfg.backoff.Delay(attempt)
}

// fail handles a final failure: dead-letter, or terminate and log.
func (s *Subscription) fail(ctx context.Context, m *Message, err error) {
	log := s.failureLog(m, err)
	acker := m.raw.Acker
	why := "no dead-letter subject is set"
	if s.cfg.deadLetter != "" {
		dlErr := s.deadLetter(s.ctx, m, err, IsPermanent(err))
		switch {
		case dlErr == nil:
			log.Warn("busway: message dead-lettered", "dead_letter", s.cfg.deadLetter)
			if acker != nil {
				s.logAckErr(m, "ack", acker.Ack(ctx))
			}
			return
		case acker != nil && !errors.Is(dlErr, ErrPayloadTooLarge):
			log.Error("busway: dead-letter publish failed; message handed back for redelivery", "dead_letter_error", dlErr)
			s.logAckErr(m, "nak", s.nak(ctx, acker, m.attempt))
			return
		}
		// Redelivery cannot help: too large, or at-most-once.
		why = "dead-letter publish failed: " + dlErr.Error()
	}
	if acker == nil {
		log.Error("busway: message failed on an at-most-once subscription and is lost", "why", why)
		return
	}
	log.Error("busway: message failed for good and is terminated", "why", why)
	if t, ok := acker.(driver.Terminator); ok {
		s.logAckErr(m, "term", t.Term(ctx, flatten(err.Error(), maxReasonLen)))
		return
	}
	s.logAckErr(m, "ack", acker.Ack(ctx))
}

// failureLog is the logger for a final failure, with the panic stack when
// the handler panicked.
func (s *Subscription) failureLog(m *Message, err error) *slog.Logger {
	log := s.b.logger().With("subject", m.Subject, "event_id", m.Event.ID,
		"attempt", m.attempt, "permanent", IsPermanent(err), "error", err)
	var p *panicError
	if errors.As(err, &p) {
		log = log.With("stack", string(p.stack))
	}
	return log
}

// deadLetter publishes the original bytes to the dead-letter subject with
// the failure described in added headers.
func (s *Subscription) deadLetter(ctx context.Context, m *Message, cause error, permanent bool) error {
	h := make(map[string][]string, len(m.raw.Header)+5)
	for k, v := range m.raw.Header {
		h[k] = v
	}
	h[DeadLetterSubjectHeader] = []string{m.raw.Subject}
	h[DeadLetterAttemptsHeader] = []string{strconv.Itoa(m.attempt)}
	h[DeadLetterPermanentHeader] = []string{strconv.FormatBool(permanent)}
	h[DeadLetterTimeHeader] = []string{time.Now().UTC().Format(time.RFC3339Nano)}
	h[DeadLetterReasonHeader] = []string{flatten(cause.Error(), maxReasonLen)}
	dm := &driver.Message{Subject: s.cfg.deadLetter, Header: h, Data: m.raw.Data}
	if m.Event.ID != "" && s.b.dedup {
		// Deduplicated as its own message (see deadLetterKey), never as
		// a copy of the original.
		dm.ID = driver.DedupID(m.Event.Source, m.Event.ID, "dead-letter", s.dlKey)
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
