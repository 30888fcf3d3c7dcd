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
// Core subscriptions are queue subscriptions: in the group's queue group,
// or, for a plain subscription, in a private one ("_busway_<nuid>"). The
// server sends a request's no-responders notice to the first plain
// subscription of the requesting connection that matches the reply
// subject, so a plain wildcard subscription ("_INBOX.>", "*.*.*") on the
// requesting bus would swallow it and leave the request waiting for its
// deadline; with none, the notice always reaches the request.
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
// # Streams, and subjects outside them
//
// A jetstream:// connection uses every stream of the account: a publish
// goes to the stream that captures its subject (the server allows one),
// and a subscription to a pattern inside a stream's subjects is a consumer
// of that stream. stream=NAME (with subjects=) names a stream to create
// when missing and verify when present; it is optional. The connection
// lists the streams at Open and again (at most once a second) when a
// subject finds none, so a stream created later is found.
//
// A subject no stream captures is an error (ErrNoStream) at Publish,
// PublishBatch and Subscribe, unless it is declared core with
// core=rpc.>,pricing.* (JetStreamConfig.CoreSubjects): on a JetStream bus
// a message to such a subject would go out as core NATS and be lost when
// nobody listens, so a typo fails instead of vanishing. Declared core
// subjects use core NATS on the same connection: that is how
// request/reply works on a JetStream bus (a request to a stream subject
// would be answered by JetStream's own store acknowledgement, so it is
// refused with bus.ErrNotSupported). Requests may go to any subject
// outside the streams, and replies (_INBOX.>) are always core. A
// subscription pattern partly inside a stream (say ">" beside a stream
// of "orders.>") is refused with bus.ErrInvalidSubject.
//
// The same goes for dead-letter subjects: put them inside a stream (say
// subjects=orders.>,dead.orders) so that a dead-letter copy is stored
// before its original is acked. A dead-letter subject outside every
// stream is refused at Subscribe unless declared core, which accepts
// that dead letters are at-most-once (lost if nobody subscribes at that
// moment, while the original is acked all the same).
//
// # Limits
//
// Subjects and patterns are at most subject.MaxSubjectLen bytes and group
// names at most subject.MaxGroupLen (bus.ErrInvalidSubject otherwise,
// from package bus and from this driver): a control line over the
// server's max_control_line (4096 bytes by default) is not refused by
// nats.go but makes the server close the connection. Headers NATS
// interprets (Status, Description, Nats-*) are refused by package bus as
// user headers (bus.IsReservedHeader).
//
// A message's size is its header block (as nats.go writes it) plus its
// body, against the server's max_payload (1 MiB by default;
// bus.ErrPayloadTooLarge with nats.ErrMaxPayload beyond it): the same
// count as mem's. On JetStream every publish also carries the backend's
// Nats-Msg-Id (47 bytes) and Nats-Expected-Stream (24 bytes plus the
// stream name) headers, which count too, and the server refuses a header
// block over 65535 bytes (*jetstream.APIError, error code 10097).
//
// # Consumers
//
// A group has one durable consumer per stream, named ConsumerName(group)
// (the group, "-", and a hash of the group) and described
// `busway group "G"`. Its filter subjects are the union of the patterns
// the group subscribes to, reduced (a pattern contained in another is
// dropped): a message is delivered once per group whatever patterns match
// it, as on mem and core NATS. Subscriptions of one group in one process
// (a Router with two routes in group "billing") share the consumer; each
// runs its own Concurrency pull loops on it, and a message a loop receives
// goes to the subscription of the process whose pattern matches its
// subject. Reopening a group resumes where it left off; AckWait,
// MaxDeliver and MaxAckPending are updated to the configured values.
//
// Patterns only ever widen the filter, in place: when a subscription adds
// a pattern, the consumer keeps its position, and the messages of the
// added pattern stored since the process started (as a redeploy finds
// them: published while no instance ran) are delivered too (the consumer
// is recreated at the first of them once everything before it is
// settled, or at its ack floor + 1; messages in flight at that moment may
// be delivered again). The bus never narrows a filter by itself: an old
// instance restarting must not drop a pattern a newer one added. To narrow
// it, an operator edits the consumer (nats consumer edit) or deletes it
// (it is recreated on the next subscribe, starting as configured). A
// message of a pattern no subscription of the receiving process matches
// (another instance widened the group; this one drained that route) is
// handed back after 1s and logged at Warn, once a minute per subject; its
// deliveries count, and the MaxDeliver backstop ends it if nobody takes
// it. Two patterns of one group that overlap without one containing the
// other (a.*.c and a.b.*) are refused at Subscribe with
// bus.ErrNotSupported naming both: the server refuses overlapping filter
// subjects. Servers before 2.10 have no consumers with several filter
// subjects: there a group whose reduced union is one pattern works, and
// one that needs several is refused with bus.ErrNotSupported naming the
// server version and the subjects (and a widened single filter is applied
// by recreating the consumer, since 2.9 keeps delivering on the old one).
// Two processes that widen one group with different patterns at the same
// moment can overwrite each other's update (the API has no compare and
// set); restarting either repairs it.
//
// Consumers made by earlier versions (one per group and subject, named
// "<group>-<hash of group and subject>", described `busway group "G" on
// "S"`) are not used any more: when a group's consumer does not exist yet
// and such consumers of the group are in the stream, the new one starts
// after the lowest of their ack floors, and an Info log names them.
// Delete them once no old instance runs.
//
// A plain (non-group) subscription gets its own ephemeral consumer,
// described `busway subscription on "P"`, that Drain deletes; if the
// process dies first, the server removes it after InactiveThreshold.
//
// # When a consumer disappears
//
// Subscriptions implement driver.Ender (bus.Subscription.Done and Err).
// When a consumer is deleted under a running subscription (by an operator,
// by InactiveThreshold after a partition, with its stream), a group's
// consumer is recreated with the group's filter, starting at the lowest
// stream sequence this process had delivered and not yet acked or
// terminated (handed-back messages included), or after the last it
// delivered: messages published meanwhile are not lost, messages in flight
// may come again; a Warn log says so. If the stream was recreated, the new
// consumer starts at the stream's beginning. When the consumer cannot be
// recreated (the stream is gone, no permission) the subscription ends:
// Done closes, Err wraps ErrConsumerDeleted and the cause, and it is
// logged at Error. A plain subscription's consumer is never recreated (its
// position is gone): the subscription ends the same way. When the
// connection closes for good (reconnect attempts exhausted, or a
// connection the user passed in was closed), every subscription, core and
// JetStream, ends with an error wrapping bus.ErrClosed and
// nats.ErrConnectionClosed.
//
// # Every message ends
//
// The server's delivery count is the attempt (Message.Attempt): a delivery
// that never reached a handler counts too (pulled into a process that was
// killed, handed back at a shutdown, handed back because no subscription
// of the process matched). Each consumer gets a server-side backstop,
// MaxDeliver = MaxAttempts + 1 (the largest over the group's subscriptions
// in the process, unlimited when one has no limit; or the configured
// max_deliver, which must not be below any subscription's MaxAttempts:
// Subscribe fails with bus.ErrNotSupported naming both numbers). The extra
// delivery leaves room for one hand-back on the last attempt. When the
// server stops redelivering a message, the bus hears it from the
// consumer's max-deliveries advisory
// ($JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>; the
// connection needs permission to subscribe to it), fetches the message by
// stream sequence and hands it to the subscription as an Exhausted
// delivery: the bus dead-letters it (or logs it) without running the
// handler. That also ends messages nats.go never hands over: an empty
// body with a Status header, which anyone can publish into a stream, is
// taken for a status message and left unacked. The processes of a group
// share the advisory in a queue group, so one of them handles each. A
// message that left the stream (limits) before it could be fetched is
// logged at Error with its sequence; an advisory sent while no process of
// the group runs is lost (core NATS), and its message stays unsettled.
//
// Publish errors the bus must not retry map to sentinels: a header block
// over JetStream's 64 KiB limit (API error 10097) and a message over
// max_msg_size are bus.ErrPayloadTooLarge; a header name nats.go refuses
// to send is bus.ErrInvalidHeader.
//
// # Shutdown
//
// Close refuses new subscriptions at once, drains the rest, and keeps
// publishing working until they have drained (handlers finishing during
// Close can publish). It returns by ctx's deadline, also with the server
// unreachable: every call on its path (consumer deletion, flush, waiting
// for publish acks) is bounded by ctx, or by DrainTimeout without a
// deadline. At a hard stop (ctx ends during a drain) the handlers' context
// is cancelled, and what is handed back goes back spread over time, not at
// once: the messages the bus hands back, and those nats.go still hands
// over from its pull buffer (without running a handler), are Nak'd with a
// random delay below min(AckWait, 5s). A plain subscription's consumer is
// then deleted without waiting for the answer.
//
// Settings applied by default, and why:
//
//	AckPolicy       explicit: each message is acked by the bus after the
//	                handler; never before, never in bulk
//	AckWait         30s: how soon a crashed consumer's messages come back;
//	                long handlers are covered by InProgress heartbeats
//	MaxDeliver      MaxAttempts + 1: the bus counts attempts and
//	                dead-letters at MaxAttempts; the server's cap is a
//	                backstop whose advisory the bus turns into a
//	                dead letter (see "Every message ends")
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
//	stream=NAME             a stream to create or verify (optional)
//	subjects=a.>,b.*        its subjects (required to create it)
//	core=rpc.>,pricing.*    patterns that are core NATS (see above)
//	storage=file|memory     (file)
//	replicas=N              (1)
//	retention=limits|interest|workqueue (limits)
//	max_age=D max_bytes=N max_msgs=N    limits (unlimited)
//	duplicates=D            dedup window (2m)
//	create=BOOL             create the stream when missing (true)
//	ack_wait=D              (30s)
//	max_deliver=N           cap on deliveries, at least MaxAttempts
//	                        (MaxAttempts + 1)
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
//	*jetstream.Stream      the stream named by stream= (jetstream:// only)
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
//   - From a subscription's Err: ErrConsumerDeleted (with the API error,
//     such as jetstream.ErrStreamNotFound), or bus.ErrClosed with
//     nats.ErrConnectionClosed.
package natsbus
