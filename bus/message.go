package bus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/cloudevents"
	"github.com/google/uuid"
)

// Message is one CloudEvent plus the routing subject it travels on.
//
// On the way out, build it with NewMessage or NewJSON, or by hand; Publish
// fills the CloudEvents attributes left empty (ID, SpecVersion, Source,
// Time). On the way in, a handler receives a decoded Message that also
// carries delivery information (Attempt, Raw) and can answer a request with
// Respond.
//
// A Message is not safe for concurrent use; do not publish the same value
// from two goroutines at once.
type Message struct {
	// Subject is the routing subject (NATS rules). It is not the CloudEvents
	// "subject" attribute, which is Event.Subject.
	Subject string
	// Event is the CloudEvent: attributes, extensions and data.
	Event cloudevents.Event
	// Header holds transport headers that are not CloudEvents attributes
	// (for example tracing or application headers). Keys are case-sensitive.
	Header Header

	// delivery state, set on received messages only
	attempt   int
	raw       *driver.Message
	bus       *Bus
	responded bool
	outcome   Outcome            // how it was settled, for observers
	obsEnd    func(HandleResult) // the observers' end of this handling
	obsCtx    context.Context    // the observed handling's context (see DeadLetterObserver)
}

// NewMessage returns a message for subject with the given CloudEvents type
// and data. ID, Source and Time are filled in by Publish when left empty.
func NewMessage(subject, eventType string, data []byte) *Message {
	return &Message{
		Subject: subject,
		Event: cloudevents.Event{
			SpecVersion: cloudevents.SpecVersion,
			Type:        eventType,
			Data:        data,
		},
	}
}

// NewJSON returns a message whose data is v encoded as JSON, with
// datacontenttype "application/json".
func NewJSON(subject, eventType string, v any) (*Message, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("busway: encode %s data as JSON: %w", eventType, err)
	}
	m := NewMessage(subject, eventType, data)
	m.Event.DataContentType = "application/json"
	return m, nil
}

// Attempt returns the delivery attempt of a received message: 1 on the
// first delivery, 2 on the first redelivery, and so on. It is 0 on a
// message built for publishing. MaxAttempts compares against it.
//
// On a backend that redelivers it is the backend's count of deliveries,
// which includes deliveries that never ran a handler to the end: on
// JetStream the server's delivery count, so a message handed back at
// shutdown, pulled into a process that was then killed, or not acked
// within AckWait has used a delivery; on mem every delivery that reached
// the bus counts (one handed back at shutdown too), while queued messages
// a hard stop passes to another group member keep their count. On an
// at-most-once delivery (core NATS) it counts the bus's in-process
// attempts, each a real handler call. See the package documentation.
func (m *Message) Attempt() int { return m.attempt }

// Raw returns the bytes the message arrived with: its transport headers and
// body exactly as received, before decoding. Both are nil on a message
// built for publishing. The caller must not modify them.
func (m *Message) Raw() (header Header, body []byte) {
	if m.raw == nil {
		return nil, nil
	}
	return m.raw.Header, m.raw.Data
}

// As sets target, a pointer to a backend-native message type, to the
// native message this one was delivered as, and reports whether it could:
// on core NATS a **nats.Msg, on JetStream a *jetstream.Msg (its Metadata
// has the stream and consumer sequences, the pending count and the
// server's timestamp), on the Watermill adapter a **message.Message. It
// reports false on a message built for publishing, and where the backend
// has no native message (mem).
func (m *Message) As(target any) bool {
	if m.raw == nil || m.raw.Native == nil || target == nil {
		return false
	}
	return setNative(m.raw.Native, target)
}

// IsRequest reports whether the message is a request that expects a reply.
func (m *Message) IsRequest() bool { return m.raw != nil && m.raw.Reply != "" }

// Respond answers a request with reply; reply.Subject is ignored and set to
// the requester's reply subject. It fails with ErrNotSupported when the
// message is not a request. Only the first response reaches the requester.
func (m *Message) Respond(ctx context.Context, reply *Message) error {
	if !m.IsRequest() || m.bus == nil {
		return fmt.Errorf("%w: message on %q is not a request", ErrNotSupported, m.Subject)
	}
	reply.Subject = m.raw.Reply
	if err := m.bus.Publish(ctx, reply); err != nil {
		return err // the bus still answers with the handler's error
	}
	m.responded = true
	return nil
}

// InProgress tells the backend that the handler is still working on the
// message, so it is not redelivered while a long handler runs (JetStream
// resets its ack timer). It returns ErrNotSupported where the backend has
// no such notion, which callers may ignore.
func (m *Message) InProgress(ctx context.Context) error {
	if m.raw != nil {
		if p, ok := m.raw.Acker.(driver.Progresser); ok {
			return p.InProgress(ctx)
		}
	}
	return fmt.Errorf("%w: in-progress on this delivery", ErrNotSupported)
}

// fillDefaults sets the required attributes left empty.
func (m *Message) fillDefaults(source string) {
	e := &m.Event
	var now time.Time // one clock read for both id and time
	if e.ID == "" || e.Time.IsZero() {
		now = time.Now()
	}
	if e.ID == "" {
		e.ID = newID(now)
	}
	if e.SpecVersion == "" {
		e.SpecVersion = cloudevents.SpecVersion
	}
	if e.Source == "" {
		e.Source = source
	}
	if e.Time.IsZero() {
		e.Time = now.UTC()
	}
}

// newID returns a UUIDv7 (RFC 9562): unique, and sortable by creation
// time, which keeps JetStream's dedup index and logs readable. The random
// bits come from math/rand/v2's ChaCha8 generator, seeded from the OS:
// unpredictable enough for ids and free of the allocations and lock of
// reading crypto/rand per message.
func newID(now time.Time) string {
	var u uuid.UUID
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint64(u[8:], rand.Uint64())
	binary.BigEndian.PutUint64(u[0:], ms<<16|rand.Uint64()&0xffff)
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	return u.String()
}
