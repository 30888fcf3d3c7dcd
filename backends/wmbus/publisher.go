package wmbus

import (
	"fmt"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// publisher is the Watermill face of a driver.Conn for publishing.
type publisher struct {
	conn   driver.Conn
	closed atomic.Bool
}

// NewPublisher returns a Watermill publisher that publishes through conn,
// so Watermill code (a message.Router, Watermill middleware, Watermill's
// test suite) can run on a Busway backend.
//
// Each message goes to conn as a driver.Message: the topic is the subject
// (it must be a valid subject for the backend: on mem and NATS, "."-
// separated tokens without wildcards or whitespace), the metadata are the
// headers (so header rules apply to metadata keys), the UUID travels in
// UUIDHeader, and the payload is the body. The backend's publish is
// bounded by the message's context. Messages are published one by one in
// order; Publish stops at the first failure.
//
// Messages published this way are not CloudEvents unless their metadata or
// payload make them so (ce- metadata for binary mode, or a structured JSON
// payload with Content-Type application/cloudevents+json): a Busway
// handler subscribed to the same subject treats anything else as
// malformed.
//
// Close makes further Publish calls fail with driver.ErrClosed; it does not
// close conn, which stays the caller's.
func NewPublisher(conn driver.Conn) message.Publisher {
	return &publisher{conn: conn}
}

// Publish publishes msgs to topic; see NewPublisher.
func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		if p.closed.Load() {
			return fmt.Errorf("wmbus: publish to %q: %w", topic, driver.ErrClosed)
		}
		if err := p.conn.Publish(msg.Context(), encodeFace(topic, msg)); err != nil {
			return fmt.Errorf("wmbus: publish message %s to %q: %w", msg.UUID, topic, err)
		}
	}
	return nil
}

// Close stops the publisher. It is idempotent and does not close the
// driver.Conn.
func (p *publisher) Close() error {
	p.closed.Store(true)
	return nil
}
