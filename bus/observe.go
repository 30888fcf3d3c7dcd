package bus

import (
	"context"
	"fmt"
	"strings"
)

// Outcome is how the bus settled a handled message. It is decided where
// the message is settled (acknowledged, handed back, dead-lettered or
// terminated), never guessed from the handler's error.
type Outcome uint8

// Outcomes reported to an Observer at the end of a handling.
const (
	// OutcomeNone: the message was not settled by its handler's result
	// (a hard stop handed it back, or it was lost at shutdown).
	OutcomeNone Outcome = iota
	// OutcomeAcked: the handler succeeded; the message was acknowledged
	// (on at-most-once backends: handled).
	OutcomeAcked
	// OutcomeRetried: the handler failed and the message was handed back
	// for another attempt (or retried in process on at-most-once backends).
	OutcomeRetried
	// OutcomeDeadLettered: the message failed for good and was published
	// to the dead-letter subject.
	OutcomeDeadLettered
	// OutcomeTerminated: the message failed for good and was terminated
	// (or lost, on at-most-once backends) and logged.
	OutcomeTerminated
	// OutcomeAnswered: a request's handler ran; the requester got the
	// reply or the error.
	OutcomeAnswered
)

// String returns the outcome's metric label: "acked", "retried",
// "dead_lettered", "terminated", "answered" or "none".
func (o Outcome) String() string {
	switch o {
	case OutcomeAcked:
		return "acked"
	case OutcomeRetried:
		return "retried"
	case OutcomeDeadLettered:
		return "dead_lettered"
	case OutcomeTerminated:
		return "terminated"
	case OutcomeAnswered:
		return "answered"
	}
	return "none"
}

// HandleInfo describes the subscription a handling belongs to. Pattern is
// the subscription's subject pattern: bounded by the code, unlike the
// subject, so it is the one to use as a metric label.
type HandleInfo struct {
	Pattern string // the subscription's subject pattern
	Group   string // the consumer group, "" without one
	Backend string // the backend's short name, e.g. "natsbus", "membus"
}

// PublishInfo describes a publish: the backend and, for PublishBatch, the
// number of messages in the batch (1 for Publish).
type PublishInfo struct {
	Batch   int
	Backend string
}

// HandleResult is the end of one handling: how it was settled and the
// handler's error (nil on success).
type HandleResult struct {
	Outcome Outcome
	Err     error
}

// Observer watches what the bus does, for tracing and metrics (package
// otelbus implements it with OpenTelemetry). Every method is called on
// the goroutine doing the work and returns the function the bus calls when
// that work ends; the returned context is used for the work, so an
// observer can carry a span into a handler and into the publishes it
// makes. Start methods may change the message's CloudEvents extensions
// (to propagate trace context); they must not keep m after the end
// function returns. Without observers (the default) the bus makes none of
// these calls. An end function may be nil: nothing to do at the end.
type Observer interface {
	// ObservePublish is called for each message given to Publish or
	// PublishBatch, before it is encoded. end gets the publish result;
	// m.Event.ID is filled by then.
	// An observer can also watch each batch as a whole: see BatchObserver.
	ObservePublish(ctx context.Context, info PublishInfo, m *Message) (context.Context, func(err error))
	// ObserveHandle is called for each delivery attempt that runs a
	// handler (and for a delivery that could not be decoded, with
	// m.Event empty); end is called after the message was settled.
	ObserveHandle(ctx context.Context, info HandleInfo, m *Message) (context.Context, func(HandleResult))
	// ObserveRequest is called for each Request before the request is
	// encoded; end gets the reply or the error.
	ObserveRequest(ctx context.Context, m *Message) (context.Context, func(reply *Message, err error))
}

// BatchObserver is an Observer that also watches each PublishBatch as a
// whole. ObserveBatch is called after ObservePublish was called for every
// message of the batch (so their trace context is in place) and before
// any is sent; end gets the batch's result.
type BatchObserver interface {
	Observer
	ObserveBatch(ctx context.Context, info PublishInfo, ms []*Message) (context.Context, func(err error))
}

// DeadLetterObserver is an Observer that also sees each dead-letter copy
// of a handled message before it is published: handlerCtx is the context
// the failed handling ran with (from ObserveHandle), header the copy's
// headers, to which it may add its own (e.g. to link the copy to the
// failed handling's span). Not called for a message the backend gave up
// on without a handling.
type DeadLetterObserver interface {
	Observer
	ObserveDeadLetter(handlerCtx context.Context, m *Message, header map[string][]string)
}

// observeDeadLetter tells the observers that implement DeadLetterObserver
// about a dead-letter copy of m.
func (b *Bus) observeDeadLetter(m *Message, header map[string][]string) {
	if b.obs == nil || m.obsCtx == nil {
		return
	}
	for _, o := range observers(b.obs) {
		if do, ok := o.(DeadLetterObserver); ok {
			do.ObserveDeadLetter(m.obsCtx, m, header)
		}
	}
}

// observeBatch calls ObserveBatch on the observers that implement it.
func observeBatch(o Observer, ctx context.Context, info PublishInfo, ms []*Message) func(error) {
	var ends []func(error)
	for _, o := range observers(o) {
		if bo, ok := o.(BatchObserver); ok {
			if _, end := bo.ObserveBatch(ctx, info, ms); end != nil {
				ends = append(ends, end)
			}
		}
	}
	return combine(ends)
}

// observers lists the observers o stands for.
func observers(o Observer) []Observer {
	if mo, ok := o.(multiObserver); ok {
		return mo
	}
	return []Observer{o}
}

// Observe adds observers to the bus (for example otelbus.Tracing and
// otelbus.Metrics). They are called in the order given; the end functions
// in reverse order.
func Observe(obs ...Observer) Option {
	return func(c *config) {
		for _, o := range obs {
			if o != nil {
				c.observers = append(c.observers, o)
			}
		}
	}
}

// observer returns the configured observers as one (nil without any).
func (c *config) observer() Observer {
	switch len(c.observers) {
	case 0:
		return nil
	case 1:
		return c.observers[0]
	}
	return multiObserver(c.observers)
}

// backendName is the short package name of conn's type ("*membus.Conn":
// "membus").
func backendName(conn any) string {
	t := strings.TrimLeft(fmt.Sprintf("%T", conn), "*")
	if i := strings.IndexByte(t, '.'); i > 0 {
		return t[:i]
	}
	return t
}

// publishObserved is Publish with the observer told.
func (b *Bus) publishObserved(ctx context.Context, m *Message) error {
	ctx, end := b.obs.ObservePublish(ctx, PublishInfo{Batch: 1, Backend: b.backend}, m)
	err := b.publish(ctx, m)
	if end != nil {
		end(err)
	}
	return err
}

// observeHandle starts the observation of one handling; it returns the
// handler context (s.ctx without observers).
func (s *Subscription) observeHandle(m *Message) context.Context {
	if s.b.obs == nil {
		return s.ctx
	}
	info := HandleInfo{Pattern: s.pattern, Group: s.cfg.group, Backend: s.b.backend}
	ctx, end := s.b.obs.ObserveHandle(s.ctx, info, m)
	m.obsEnd, m.obsCtx = end, ctx
	return ctx
}

// observeEnd ends the observation of a handling started by observeHandle.
func observeEnd(m *Message, err error) {
	if m.obsEnd != nil {
		m.obsEnd(HandleResult{Outcome: m.outcome, Err: err})
		m.obsEnd = nil
	}
	m.obsCtx = nil
}

// multiObserver calls several observers; it keeps only the end functions
// that are not nil, and allocates nothing when every one is.
type multiObserver []Observer

func (mo multiObserver) ObservePublish(ctx context.Context, info PublishInfo, m *Message) (context.Context, func(error)) {
	var ends []func(error)
	for _, o := range mo {
		var end func(error)
		if ctx, end = o.ObservePublish(ctx, info, m); end != nil {
			ends = append(ends, end)
		}
	}
	return ctx, combine(ends)
}

func (mo multiObserver) ObserveHandle(ctx context.Context, info HandleInfo, m *Message) (context.Context, func(HandleResult)) {
	var ends []func(HandleResult)
	for _, o := range mo {
		var end func(HandleResult)
		if ctx, end = o.ObserveHandle(ctx, info, m); end != nil {
			ends = append(ends, end)
		}
	}
	return ctx, combine(ends)
}

func (mo multiObserver) ObserveRequest(ctx context.Context, m *Message) (context.Context, func(*Message, error)) {
	var ends []func(reply *Message, err error)
	for _, o := range mo {
		var end func(*Message, error)
		if ctx, end = o.ObserveRequest(ctx, m); end != nil {
			ends = append(ends, end)
		}
	}
	switch len(ends) {
	case 0:
		return ctx, nil
	case 1:
		return ctx, ends[0]
	}
	return ctx, func(r *Message, err error) {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i](r, err)
		}
	}
}

// combine returns one end function calling ends in reverse order (nil
// for none).
func combine[T any](ends []func(T)) func(T) {
	switch len(ends) {
	case 0:
		return nil
	case 1:
		return ends[0]
	}
	return func(v T) {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i](v)
		}
	}
}

// endBatch ends the observation of each message of a batch. A batch that
// failed as a whole (err joins the messages' errors) reports err to each.
func endBatch(ends []func(error), err error) {
	for _, end := range ends {
		if end != nil {
			end(err)
		}
	}
}
