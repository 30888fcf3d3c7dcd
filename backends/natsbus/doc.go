// Package natsbus is Busway's NATS backend: core NATS ("nats://") and
// JetStream ("jetstream://"), written on nats.go and its jetstream package
// (not on watermill-nats, whose JetStream modes ack before the handler ran;
// see the project's docs).
//
//	import _ "github.com/busway/busway/backends/natsbus"
//
//	b, err := bus.Open(ctx, "nats://nats-1:4222,nats-2:4222")
//	b, err := bus.Open(ctx, "jetstream://nats-1:4222?stream=ORDERS&subjects=orders.>&replicas=3")
//
// or from Go: bus.New(natsbus.Open(ctx, natsbus.Config{...})). A
// *nats.Conn the application already has is used through Config.Conn and
// never closed.
//
// # Delivery semantics
//
// Core NATS is at-most-once. A message reaches the subscriptions that exist
// when it is published, once; nothing is stored, nothing is redelivered: a
// handler error is final (the bus dead-letters the message when a
// dead-letter subject is set, and logs it otherwise), and a message in a
// client buffer when the process dies is lost. Publish returns once the
// message is in the connection's buffer; PublishBatch returns after a
// flush round trip. While disconnected, publishes wait in nats.go's
// reconnect buffer (8 MiB by default, reconnect_buffer) and go out after
// the reconnect. Queue groups give competing consumers; request/reply is
// native (the reply goes to the requester's inbox).
//
// JetStream is at-least-once with deduplication. Publish returns when the
// stream has stored the message (on a quorum of replicas); the event's
// dedup id (driver.DedupID of its source and id) is sent as Nats-Msg-Id, so a
// retried publish of the same event inside the stream's duplicate window is
// stored once. Each group is a durable pull
// consumer; each message is acked only after its handler returned nil (or
// after a copy was published to the dead-letter subject); a failed handler
// gets NakWithDelay with the subscription's backoff; a message the bus
// gives up on without a dead-letter subject is terminated with the reason.
// Messages pulled but not yet acked when a process dies come back after
// AckWait. A handler that runs long is kept alive with InProgress every
// AckWait/3, so it is not redelivered while still running.
//
// # Subjects inside and outside the stream
//
// A jetstream:// connection is bound to one stream. Publishing to a subject
// the stream captures is a JetStream publish; subscribing to a pattern
// inside the stream's subjects creates a consumer. Subjects outside the
// stream use core NATS on the same connection: that is how request/reply
// works on a JetStream bus (a request to a stream subject would be answered
// by JetStream's own store acknowledgement, so it is refused with
// bus.ErrNotSupported). A subscription pattern partly inside the stream
// (say ">" on a stream of "orders.>") is refused with bus.ErrInvalidSubject.
//
// The same goes for dead-letter subjects: put them inside the stream (say
// subjects=orders.>,dead.orders) so that a dead-letter copy is stored
// before its original is acked. A dead-letter subject outside the stream
// is a core NATS publish: at-most-once, lost if nobody subscribes to it at
// that moment, while the original is acked all the same.
//
// # Consumers
//
// A group subscription's consumer is durable and named
// ConsumerName(group, subject): the group, "-", and a hash of group and
// subject. Reopening the same group on the same subject resumes where the
// group left off (its start position and sequence are kept; AckWait,
// MaxDeliver and MaxAckPending are updated to the configured values). A
// plain (non-group) subscription gets an ephemeral consumer that Drain
// deletes; if the process dies first, the server removes it after
// InactiveThreshold. Concurrency N runs N pull loops on the consumer.
//
// Settings applied by default, and why:
//
//	AckPolicy       explicit: each message is acked by the bus after the
//	                handler; never before, never in bulk
//	AckWait         30s: how soon a crashed consumer's messages come back;
//	                long handlers are covered by InProgress heartbeats
//	MaxDeliver      unlimited: the bus counts attempts (Message.Attempt is
//	                the server's delivery count) and dead-letters at
//	                MaxAttempts; a server-side cap would drop the message
//	                from delivery without a dead-letter copy
//	MaxAckPending   1000 (the server's default): bounds messages in flight
//	DeliverPolicy   new: a new group starts with messages published after
//	                it was created (start=all|seq:N|time:T for replays)
//	Nats-Msg-Id     driver.DedupID(source, id), a hash of the event's source
//	                and id (the pair CloudEvents defines as unique);
//	                dead-letter copies get their own, from the original's
//	                and the failing group, so a copy is never dropped as a
//	                duplicate of its original or of another group's copy,
//	                and a second copy of the same failure is
//	Expected stream every publish carries Nats-Expected-Stream, so a
//	                subject captured by another stream fails loudly
//	Pulls           500 messages per pull (nats.go's default; see
//	                JetStreamConfig.PullMaxMessages for slow handlers),
//	                expiring after 5s, so a pull lost in a consumer leader
//	                change is re-issued within seconds
//	API calls       stream and consumer lookups and creation are retried
//	                while the JetStream API does not answer (30s in all)
//
// Streams are created when missing (storage file, replicas 1, retention
// limits, duplicate window 2 minutes: the server's defaults) and verified
// when present: a difference in any configured setting fails Open with
// ErrStreamConflict naming it; nothing is changed on the server. For
// streams that must survive power loss, run the servers with
// sync_interval: always and use replicas=3 (see the README).
//
// # URL parameters
//
// Both schemes (host may be a comma-separated list of servers):
//
//	name=S                  connection name shown by the server (busway)
//	connect_timeout=D       dial timeout (2s)
//	reconnect_wait=D        pause between reconnect attempts (2s)
//	max_reconnects=N        reconnect attempts, -1 forever (60)
//	reconnect_buffer=BYTES  publishes buffered while disconnected (8 MiB)
//	drain_timeout=D         bound on flushing at Close (30s)
//	tls_first=BOOL          TLS handshake before the NATS protocol
//
// jetstream:// only:
//
//	stream=NAME             the stream (required)
//	subjects=a.>,b.*        its subjects (required to create it)
//	storage=file|memory     (file)
//	replicas=N              (1)
//	retention=limits|interest|workqueue (limits)
//	max_age=D max_bytes=N max_msgs=N    limits (unlimited)
//	duplicates=D            dedup window (2m)
//	create=BOOL             create the stream when missing (true)
//	ack_wait=D              (30s)
//	max_deliver=N           (unlimited)
//	max_ack_pending=N       (1000)
//	inactive_threshold=D    ephemeral consumer cleanup after a crash (5m)
//	pull_max_messages=N     messages per pull request (500); keep
//	                        N × handler time under ack_wait (see
//	                        JetStreamConfig.PullMaxMessages)
//	publish_ack_timeout=D   bound on each ack wait in a batch (30s)
//	async_max_pending=N     outstanding async publishes in a batch (4000)
//	start=new|all|seq:N|time:RFC3339    where new consumers start (new)
//
// Unknown parameters are an error, and so is a JetStream parameter on a
// nats:// URL. Durations use Go syntax (500ms, 2m).
//
// # Credentials
//
// Credentials and TLS come from Config.Auth or, for URLs, from the
// environment (AuthFromEnv: NATS_USER, NATS_PASSWORD, NATS_TOKEN,
// NATS_NKEY, NATS_CREDS, NATS_CA, NATS_CERT, NATS_KEY, NATS_TLS_FIRST);
// a URL carrying a user, password or token is refused
// (ErrCredentialsInURL). Secrets print, log and marshal as REDACTED, and
// errors never echo them.
//
// # As
//
// Bus.As reaches the connection's native types (a pointer to the type to
// set; As reports whether it did):
//
//	**nats.Conn            the connection, core or JetStream
//	*jetstream.JetStream   the JetStream context (jetstream:// only)
//	*jetstream.Stream      the bus's stream (jetstream:// only)
//
// Message.As reaches, in a handler, the native message a delivery came as:
//
//	**nats.Msg             a core NATS delivery (on a jetstream:// bus,
//	                       one on a subject outside the stream)
//	*jetstream.Msg         a JetStream delivery: Metadata() gives the
//	                       stream and consumer sequences, the delivery
//	                       count, the pending count and the server's
//	                       timestamp
//
//	var jm jetstream.Msg
//	if m.As(&jm) {
//		meta, err := jm.Metadata()
//		...
//	}
//
// The bus settles a JetStream delivery itself after the handler returns:
// do not Ack, Nak or Term the native message (use Message.InProgress to
// extend a long handler's time).
//
// Errors keep nats.go's in their chain, beside the bus's sentinels, for
// errors.As and errors.Is:
//
//   - *jetstream.APIError: a JetStream API refusal, from Open (creating or
//     looking up the stream; say, subjects that overlap another stream's,
//     error code 10065) and from Publish (say, a message over the stream's
//     max_msg_size, jetstream.JSErrCodeStreamMessageExceedsMaximum, which
//     is also bus.ErrPayloadTooLarge).
//   - nats.ErrMaxPayload: a core publish over the server's max_payload
//     (also bus.ErrPayloadTooLarge).
//   - nats.ErrConnectionClosed (with bus.ErrClosed),
//     nats.ErrReconnectBufExceeded and jetstream.ErrTooManyStalledMsgs
//     (with bus.ErrBufferFull), nats.ErrTimeout, context.DeadlineExceeded
//     and jetstream.ErrAsyncPublishTimeout (with bus.ErrTimeout).
//   - From Open: nats.ErrAuthorization and the other connect errors,
//     jetstream.ErrJetStreamNotEnabled, and this package's
//     ErrStreamConflict, ErrStreamNotFound and ErrCredentialsInURL.
package natsbus
