package driver

import (
	"context"
	"time"
)

// Message is what a backend moves: a routing subject, transport headers and
// a body. On the way out the bus fills Subject, Header and Data (the encoded
// CloudEvent). On the way in the backend also fills Reply, Attempt and Acker.
type Message struct {
	// Subject is the routing subject, NATS rules: "."-separated tokens.
	Subject string
	// Header holds transport headers; keys are case-sensitive as in NATS.
	// On Publish the map passes to the backend: the caller builds a fresh
	// map for each call and does not touch it (or its value slices)
	// afterwards, so a backend may keep or share it without copying.
	Header map[string][]string
	// Data is the message body. It stays the caller's: a backend that keeps
	// it past Publish copies it. Received Data is the receiver's.
	Data []byte
	// ID identifies the message for deduplication, for backends that
	// implement Deduplicator (JetStream: the Nats-Msg-Id header): the bus
	// sets a hash of the event's source and id (the pair CloudEvents
	// defines as unique); a dead-letter copy gets its own (from the
	// original's, and the failing group). Empty means no deduplication.
	ID string

	// Reply is the subject a response should be published to, when the
	// message is a request; empty otherwise.
	Reply string
	// Attempt is the delivery attempt, 1 for the first delivery; 0 when the
	// backend cannot tell (a backend that redelivers but cannot count
	// refuses SubscribeOptions.MaxAttempts, which the bus could not
	// enforce). It counts deliveries as the backend sees them, including
	// ones handed back at shutdown (see bus.Message.Attempt).
	Attempt int
	// Acker settles the message. It is nil for at-most-once deliveries
	// (core NATS, requests), which need no settlement; the bus retries a
	// failed at-most-once event in process instead (not a request).
	Acker Acker
	// Exhausted is set on a delivery the backend itself has given up on:
	// it stopped redelivering the message without the bus having settled
	// it (JetStream: MaxDeliver reached, announced by the server's
	// max-deliveries advisory, for example because every delivery was
	// handed back or never reached the callback). The bus runs no handler
	// for it: it dead-letters the message (or logs it) with the reason.
	// Acker is nil: there is nothing left to settle.
	Exhausted bool
	// Native is the backend's own message, for bus.Message.As: the bus
	// sets As's target when Native is assignable to it (core NATS:
	// *nats.Msg; JetStream: jetstream.Msg; Watermill: *message.Message).
	// Nil when the backend has none to offer.
	Native any
}

// Originer is implemented by the Acker of a backend that stores messages:
// Origin says where the delivered message is stored (JetStream: stream
// name and stream sequence). The bus puts it on dead letters. A backend
// without an Acker for a delivery (Exhausted) may set the bus's
// Busway-Dead-Letter-Stream and -Sequence headers itself.
type Originer interface {
	Origin() (stream string, sequence uint64)
}

// Handler receives each delivered message. The bus settles the message
// through m.Acker before it returns. The bus owns the handlers' context
// (it cancels it when a drain's deadline passes), so a backend passes none.
type Handler func(m *Message)

// SubscribeOptions says what to subscribe to and how.
type SubscribeOptions struct {
	// Subject is the subject pattern; "*" matches one token, ">" the rest.
	Subject string
	// Group, when not empty, makes the subscription a member of a competing
	// consumer group: each message goes to exactly one member of the group.
	// Empty means fan-out: the subscription gets every matching message.
	Group string
	// Concurrency is how many callbacks may run at once; at least 1.
	Concurrency int
	// MaxAttempts is how many deliveries the bus allows a message before
	// it counts the failure as final (0: no limit). A backend with a
	// server-side delivery cap uses it to place a backstop just above it
	// (JetStream MaxDeliver), and refuses a configured cap below it.
	MaxAttempts int
	// DeadLetter is the subject the bus will publish this subscription's
	// failed messages to ("" when none). A backend that can tell whether a
	// subject is durable refuses one that is not unless the user allowed
	// it (JetStream: a subject no stream captures).
	DeadLetter string
}

// Subscription is a live subscription.
type Subscription interface {
	// Drain stops intake of new messages, waits until every callback in
	// flight has returned (so each message is settled), and releases the
	// subscription. When ctx ends first, the backend starts no queued
	// message any more, still waits for the callbacks in flight (the bus
	// cancels its handlers' context at that moment), returns an error
	// wrapping ctx.Err(), and makes sure unsettled messages will be
	// redelivered (where the backend redelivers at all). A second Drain
	// waits for the first, bounded by its own ctx (see Once).
	Drain(ctx context.Context) error
}

// Ender is implemented by a Subscription that can end on its own, not
// through Drain: its consumer was deleted and could not be recreated, its
// connection closed for good. Done is closed when it ended; Err then says
// why (nil after a Drain).
type Ender interface {
	Done() <-chan struct{}
	Err() error
}

// Conn is an open connection to a backend. Its methods are safe for
// concurrent use.
type Conn interface {
	// Publish sends m. It returns when the backend has taken the message
	// (core NATS: buffered; JetStream: stored; mem: queued to subscribers).
	Publish(ctx context.Context, m *Message) error
	// Subscribe starts delivering matching messages to h. It returns once
	// the subscription is active: a message published after it returns,
	// from any connection to the same broker, reaches h.
	Subscribe(ctx context.Context, opts SubscribeOptions, h Handler) (Subscription, error)
	// Close releases the connection. Subscriptions should have been drained
	// by the caller; Close tears down any that remain. A connection the
	// user passed in to the backend is never closed.
	Close(ctx context.Context) error
}

// Requester is implemented by a Conn with request/reply: Request publishes m
// with a unique reply subject and returns the first response. It fails with
// ErrNoResponders when nobody subscribes to m.Subject, and with the context's
// error when ctx ends first.
type Requester interface {
	Request(ctx context.Context, m *Message) (*Message, error)
}

// BatchPublisher is implemented by a Conn that publishes a batch faster
// than one Publish after another: PublishBatch returns when every message
// is taken as Publish would (core NATS: flushed to the server; JetStream:
// every store acknowledgement arrived).
type BatchPublisher interface {
	PublishBatch(ctx context.Context, ms []*Message) error
}

// Deduplicator is implemented by a Conn that deduplicates by Message.ID;
// the bus computes IDs only when Deduplicates returns true.
type Deduplicator interface {
	Deduplicates() bool
}

// PublishCopier is implemented by a Conn whose Publish, and Request if it
// is a Requester, by the time they return, have copied what they need of
// the Message (Subject, Header names and values, ID) and keep no reference
// to the Message, its Header map or the header value strings (nats.go
// copies them into its write buffer). When PublishCopies returns true the
// bus reuses that storage for its next Publish or Request instead of
// allocating it per message. Data stays the caller's either way, and
// PublishBatch always gets fresh messages. A
// backend that queues the Message or its Header (an in-memory queue, a
// Watermill message) must not implement it, or returns false.
type PublishCopier interface {
	PublishCopies() bool
}

// Aser gives access to a backend's native types. As reports whether target
// (a pointer) was set; see each backend's documentation for what it
// supports.
type Aser interface {
	As(target any) bool
}

// Acker settles one delivered message.
type Acker interface {
	// Ack reports the message handled; it will not be delivered again.
	Ack(ctx context.Context) error
	// Nak reports the message not handled; it will be delivered again.
	Nak(ctx context.Context) error
}

// DelayNaker is an Acker that can redeliver after a delay.
type DelayNaker interface {
	NakWithDelay(ctx context.Context, delay time.Duration) error
}

// Terminator is an Acker that can stop redelivery of a message for good,
// recording why.
type Terminator interface {
	Term(ctx context.Context, reason string) error
}

// Progresser is an Acker that can extend the time the server waits for an
// ack while a long handler is still running.
type Progresser interface {
	InProgress(ctx context.Context) error
}
