// Package membus is Busway's in-process backend, for the URL scheme "mem"
// (see OpenURL). Messages never leave the process. It has the subject,
// queue-group and request/reply semantics of NATS, so that a unit test on
// membus means the same as production on NATS, plus at-least-once delivery
// with redelivery so that retry paths can be tested without a server.
//
// A Conn implements driver.Conn, driver.Requester and driver.Aser; its
// MaxPayload method reports its payload limit. Every delivered message that is not a request carries an
// Acker that implements driver.Acker, driver.DelayNaker, driver.Terminator
// and driver.Progresser.
//
// # Delivery semantics
//
// Subjects follow nats-server's rules (see subject.Validate,
// subject.ValidatePattern and subject.Match): "."-separated non-empty
// tokens; a "*" token matches one token, a final ">" token one or more;
// "*" and ">" inside a longer token are plain characters. Publishing to a
// wildcard subject is an error. Whitespace and control characters are
// rejected anywhere, and so are subjects and patterns over
// subject.MaxSubjectLen bytes and group names that break
// subject.ValidateGroup (driver.ErrInvalidSubject), as on NATS, where
// longer ones make the server close the connection.
//
// Publish validates the message like nats.go does: header names are
// printable ASCII without the separators "()/,:;<=>?@[\]{} (an error
// wrapping driver.ErrInvalidHeader otherwise); header values are trimmed of
// surrounding whitespace and have CR and LF replaced by spaces, as NATS
// delivers them; the NATS wire size of the headers plus the body must not
// exceed MaxPayload (driver.ErrPayloadTooLarge). Publish copies header and
// body once, before it returns, as NATS serialises a message when it is
// published: the publisher may reuse its header map and buffers at once
// (the Conn implements driver.PublishCopier). Every delivery gets its own
// header map built from the copy, as every NATS subscriber parses its own;
// the body copy is shared read-only by the receivers.
//
// Near the size limit mem agrees with core NATS byte for byte: the header
// block counts as nats.go writes it ("NATS/1.0\r\n", "Name: value\r\n"
// per value after trimming, a final "\r\n"; nothing without headers), so
// a message of exactly MaxPayload bytes passes and one more byte fails.
// JetStream is stricter: its backend adds Nats-Msg-Id (47 bytes) and
// Nats-Expected-Stream (24 bytes plus the stream name) to every publish,
// so a message within a few dozen bytes of the limit on mem can be too
// large there; and it refuses a header block over 65535 bytes (error
// 10097), where mem, like core NATS, only counts headers toward
// MaxPayload.
//
// Each plain subscription (empty Group) gets every matching message. Among
// the matching subscriptions with the same Group name, on any Conn of the
// broker, exactly one gets each message, round-robin from a random member
// (NATS picks a member at random). Publishing to a
// subject nobody subscribes to succeeds and delivers nothing, as in NATS.
// Messages from one publisher reach one subscriber in publish order when
// its Concurrency is 1; redelivery may reorder.
//
// Delivery is at-least-once within the process. A message is settled with
// Ack or Term (done), Nak (redelivered at once, ahead of queued messages)
// or NakWithDelay (redelivered after the delay). A handler that returns
// without settling naks the message. Each redelivery increments
// Message.Attempt, which is 1 on first delivery. A fan-out message is
// redelivered to the same subscription; a group message to a live member
// of the group, round-robin. Settling twice returns ErrAlreadySettled.
// InProgress does nothing: there is no ack deadline.
//
// The broker never silently drops a message it routed to a group, as a
// JetStream durable consumer keeps it in its stream. A group message that
// no live member matching its subject can take (its subscription stopped
// hard or drained with it queued or awaiting a delayed redelivery, or it
// was naked once no member was left) becomes an orphan: the broker keeps
// it in a FIFO per group name, of at most DefaultBuffer messages, and
// hands it to the next subscription that joins the group with a pattern
// matching its subject, in order and before any message published to it,
// with its Attempt (a delay it had left is not kept). When the FIFO is
// full its oldest message is dropped, and counted in the error (wrapping
// ErrDiscarded) of the Drain, Nak or NakWithDelay that caused it. Orphans
// live as long as the broker: Close of its last Conn discards those left
// and returns an error wrapping ErrDiscarded that counts them. A message
// published while a group has no member is still not routed to it, as in
// NATS; only messages already routed are kept.
//
// Fan-out messages of a subscription belong to nobody else. Once it has
// stopped, its queued messages and pending delayed redeliveries are
// discarded and counted, and a Nak or NakWithDelay of one of its messages
// returns an error wrapping driver.ErrClosed.
//
// Request publishes with a reply subject of nats.go's shape,
// "_INBOX.<id>.<n>" (one id per Conn), and returns the first message
// published to it, so wildcard subscriptions see replies exactly when they
// would on NATS ("_INBOX.>" and "*.*.*" do, "_INBOX.*" does not). Requests
// are at most once, as in core NATS: no Acker, no redelivery. With no
// matching subscription Request fails at once with driver.ErrNoResponders,
// whatever subscribes to the reply subject; so does a reply with no data
// and a "Status: 503" header, which nats.go reads as the server's
// no-responders notice (package bus refuses to publish such a header).
//
// Drain stops routing to a subscription at once and waits until what it has
// queued or in flight is done; a message naked meanwhile is redelivered to
// it (a group message goes to another live member when there is one). It
// does not wait for delayed redeliveries: a group message's goes to another
// live member, keeping what remains of its delay, or becomes an orphan; a
// fan-out message's is discarded, and Drain returns an error wrapping
// ErrDiscarded (not a context error) that counts it. When the drain context
// ends first, no queued message starts any more; queued and scheduled group
// messages go to another live member of the group with their attempt
// unchanged (or become orphans), and the subscription's fan-out messages
// are discarded; Drain's error wraps the context's error and, when messages
// were discarded, ErrDiscarded, saying how many, e.g. "context deadline
// exceeded; 3 queued and 1 awaiting redelivery discarded". Drain returns
// after every worker goroutine has exited: a handler still running delays
// it (membus passes handlers no context; package bus cancels its handlers'
// context when the drain context ends). Close drains every subscription
// still open.
//
// Handlers must not panic; package bus recovers panics above this layer.
//
// # URL
//
// OpenURL accepts "mem://" (a private broker) and "mem://NAME" (the broker
// shared by every Conn opened with that name), with query parameters
// buffer=N, full=block|error and max_payload=N; see Options. An unknown or
// repeated parameter, or a path, is an error.
//
// A named broker lives while at least one Conn on it is open; once the last
// one closes, the name starts fresh (its orphans are discarded, with an
// error from that Close). Two bus values opened with the same name in one
// test talk to each other; private brokers are isolated.
//
// # Buffers
//
// Each subscription has a FIFO queue of Buffer messages (default 65536,
// from the subscribing Conn's options) and Concurrency worker goroutines
// that pop from it; there is no goroutine per message. When a queue is
// full, the publishing Conn's Full policy applies; messages are never
// dropped silently:
//
//   - Block (default): Publish waits for room, until its context ends
//     (an error wrapping ctx.Err()), its Conn closes or the subscription is
//     drained (errors wrapping driver.ErrClosed). A full group member is
//     skipped when another member has room.
//   - Error: Publish fails at once with an error wrapping
//     driver.ErrBufferFull.
//
// A publish that fails on one subscription may already have queued the
// message to others; with Error, Publish still queues to every subscription
// with room and returns the first error. Redeliveries, and orphans handed
// to a joining group member, are never refused for lack of room, so a queue
// may briefly hold more than Buffer messages. A handler that publishes with
// Block to its own full subscription waits until the context it gave
// Publish ends, its Conn closes or the subscription is drained.
//
// # As
//
// Conn.As supports **Conn. Messages and Ackers support no As.
//
// # Waiting for idle (tests)
//
// Conn.WaitIdle returns once no subscription on the broker has a message
// queued, in a handler or awaiting a delayed redelivery, so a test can
// publish, wait, and assert on everything that followed without sleeping.
// Reach it from a bus with As:
//
//	var c *membus.Conn
//	if b.As(&c) { err = c.WaitIdle(ctx) }
package membus
