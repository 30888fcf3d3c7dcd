// Package wmbus connects Busway and Watermill, both ways.
//
// Watermill into Busway: NewConn turns any Watermill message.Publisher and
// message.Subscriber (Kafka, AMQP, SQL, Redis Streams, Google Cloud Pub/Sub,
// gochannel...) into a driver.Conn, and bus.New opens a Bus over it:
//
//	pubSub := gochannel.NewGoChannel(gochannel.Config{}, nil)
//	conn, err := wmbus.NewConn(pubSub, pubSub, wmbus.Options{})
//	b := bus.New(conn)
//	defer pubSub.Close() // after b.Close: the Watermill values stay ours
//
// Busway into Watermill: NewPublisher and NewSubscriber give a driver.Conn
// of a Busway backend (mem, NATS, JetStream) a Watermill face, so Watermill
// code (a message.Router, Watermill middleware, Watermill's universal test
// suite) runs on it. The face is an adapter over the driver, not the other
// way round: the bus itself never goes through Watermill's channels.
//
// # Mapping
//
// A Busway subject is a Watermill topic, and transport headers are
// Watermill metadata, one value per key. Every Busway message is a
// CloudEvent; in the default binary mode its attributes travel as ce-
// headers, so they survive a Watermill backend as ce- metadata. Through
// NewConn, a Watermill message's UUID is the event's ce-id header when
// there is one, else a new UUID, and a header with several values fails
// Publish with driver.ErrInvalidHeader (Watermill cannot carry it).
// Through the Watermill face, the UUID travels in the UUIDHeader header,
// and the first value of a multi-valued header becomes the metadata value.
//
// # Delivery semantics
//
// Through NewConn they are the Watermill backend's: its Ack and Nack are
// called for the bus's Ack and Nak, so a handler error makes the message
// come again where the Watermill backend redelivers nacked messages
// (gochannel does, at once and in a tight loop; Kafka and SQL seek back;
// AMQP requeues). driver.DelayNaker is emulated by waiting before Nack,
// which holds one reader goroutine. Watermill does not report delivery
// counts, so each subscription counts them itself, by message UUID: the
// first delivery of a UUID has Message.Attempt 1, each redelivery one
// more, and the count is forgotten once the message is acked. The bus
// therefore sees a nacked message's attempts go up, the bus.RetryBackoff
// policy gets the attempt that failed, and bus.MaxAttempts ends the
// retries (dead-letter or drop) as on the other backends. The counts are per subscription, per
// process and best-effort: they live in this process's memory only, so a
// redelivery that lands on another process (another member of a consumer
// group, or after a restart) or on another subscription starts again at
// 1, and so does one that comes after its count was evicted. Each
// subscription remembers at most Options.AttemptMemory UUIDs (10000 by
// default), forgetting the least recently delivered first; a negative
// AttemptMemory turns counting off, leaving Attempt 0, and a subscription
// with an attempt limit (SubscribeOptions.MaxAttempts, which the bus sets
// from bus.MaxAttempts, 5 by default) then fails with
// driver.ErrNotSupported: use bus.MaxAttempts(0). Where the count restarts, a message
// whose handler keeps failing gets more deliveries than MaxAttempts
// allows, never fewer. Two messages published with the same UUID (the
// same CloudEvent id) share a count while both are unacked. Each
// subscription reads its Watermill
// channel with SubscribeOptions.Concurrency goroutines, never a goroutine
// per message; many Watermill subscribers send the next message only after
// the previous one is acked, so more readers help only where the Watermill
// backend delivers in parallel. Consumer groups need
// Options.GroupSubscriber, because Watermill fixes a subscriber's group
// when the subscriber is constructed; without it a subscription with a
// Group fails with driver.ErrNotSupported. Topics match exactly, so
// subscription patterns with "*" or ">" fail with driver.ErrNotSupported,
// and so does request/reply. Subscribe returns when the Watermill
// subscriber's Subscribe returns, which for most implementations means
// subscribed; gochannel with Persistent subscribes in the background. A
// dead-letter subject (SubscribeOptions.DeadLetter) on a Conn without a
// publisher fails with driver.ErrNotSupported: nothing could send it.
// Drain cancels the context given to the Watermill Subscribe, lets the
// handlers in flight settle their messages, and returns when the readers
// have exited; a delayed nack (driver.DelayNaker) waiting then nacks at
// once. A second Drain waits for the first, bounded by its own context,
// and returns the first's result. When the Watermill subscriber closes a
// subscription's output channel by itself (it was closed, or failed), the
// subscription ends: it implements driver.Ender, its Err wraps
// driver.ErrClosed, and the bus reports it (bus.Subscription.Err; a
// Router returns it).
//
// Through the Watermill face they are the Busway backend's: at-least-once
// with redelivery of nacked messages on mem and JetStream, at-most-once on
// core NATS. The face delivers one message at a time per subscription
// unless SubscriberConfig.Concurrency says more, and settles the backend
// message only once the consumer acked or nacked it. The mem backend does
// not keep messages that nobody subscribed to (as NATS); SubscribeInitialize
// subscribes ahead of Subscribe for that reason.
//
// # Ownership
//
// NewConn does not own the Watermill publisher and subscriber unless
// Options.CloseUnderlying is set; it always owns the subscribers that
// Options.GroupSubscriber makes, and closes each when its subscription ends.
// bus.New owns the Conn: closing the Bus closes the Conn. The Watermill face
// never closes the driver.Conn it was given.
//
// # As
//
// Conn.As supports *message.Publisher and *message.Subscriber, and a
// pointer to any type the publisher or subscriber has or implements (for
// example **gochannel.GoChannel); reach them from a Bus with Bus.As. A
// message delivered through NewConn carries its Watermill message as
// driver.Message.Native, so a handler reaches it with bus.Message.As:
//
//	var wm *message.Message
//	if m.As(&wm) {
//		log.Println(wm.UUID)
//	}
package wmbus
