package natsbus

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go"
)

// Config configures a connection. The zero value (with URL set) is a core
// NATS connection with nats.go's defaults; set JetStream for the jetstream
// backend.
type Config struct {
	// URL lists the servers, comma-separated: "nats://a:4222,nats://b:4222".
	// Credentials do not belong here: use Auth.
	URL string
	// Conn, when set, is used instead of dialing URL. The bus never closes
	// or drains it; its handlers and options are left as the caller set
	// them.
	Conn *nats.Conn
	// Auth holds credentials and TLS settings.
	Auth Auth

	// Name is the client connection name the server shows in monitoring;
	// default "busway".
	Name string
	// ConnectTimeout bounds each dial; default nats.go's (2s).
	ConnectTimeout time.Duration
	// ReconnectWait is the pause between reconnect attempts to one server;
	// default nats.go's (2s).
	ReconnectWait time.Duration
	// MaxReconnects bounds reconnect attempts; 0 means nats.go's default
	// (60), negative means forever.
	MaxReconnects int
	// ReconnectBufSize is how many bytes of publishes are buffered while
	// disconnected (they are sent after the reconnect); 0 means nats.go's
	// default (8 MiB), negative disables buffering (publishes fail while
	// disconnected).
	ReconnectBufSize int
	// DrainTimeout bounds the connection drain on Close; default 30s.
	DrainTimeout time.Duration
	// Logger receives connection events (disconnect, reconnect, errors)
	// and backend warnings; default slog.Default().
	Logger *slog.Logger

	// JetStream, when set, makes this a JetStream connection.
	JetStream *JetStreamConfig
}

// StartPosition says where a new consumer starts reading its stream.
type StartPosition int

// Start positions.
const (
	// StartNew delivers only messages stored after the consumer is
	// created (the default).
	StartNew StartPosition = iota
	// StartAll delivers the whole stream from its first message.
	StartAll
	// StartAtTime delivers from JetStreamConfig.StartTime on.
	StartAtTime
	// StartAtSequence delivers from stream sequence
	// JetStreamConfig.StartSequence on.
	StartAtSequence
)

// JetStreamConfig configures the jetstream backend: the stream it
// provisions and the consumers it creates.
type JetStreamConfig struct {
	// Stream is a stream to provision: created when missing, verified
	// when present. Optional: without a name, the connection uses the
	// streams that exist. Either way every stream of the account is
	// used: a subject is published to, and consumed from, the stream
	// that captures it.
	Stream StreamConfig
	// NoCreate makes Open only verify that Stream exists (and has the
	// configured settings) instead of creating it when missing.
	NoCreate bool
	// CoreSubjects are the patterns that go over core NATS on this
	// connection (request subjects and their responders; an explicitly
	// non-durable dead-letter subject). Any other subject that no stream
	// captures is refused with ErrNoStream at Publish and Subscribe,
	// because it would be lost when nobody listens. Requests may go to
	// any subject outside the streams, and replies (_INBOX.>) are always
	// core.
	CoreSubjects []string

	// AckWait is how long the server waits for an ack before it redelivers;
	// default 30s. Handlers running longer are kept alive with InProgress
	// heartbeats, so AckWait bounds how soon a crashed consumer's messages
	// come back, not how long a handler may run.
	AckWait time.Duration
	// MaxDeliver caps deliveries per message on the server. 0 (the
	// default) sets each consumer's cap to its subscriptions' MaxAttempts
	// + 1, unlimited when one has no limit: a backstop, since the bus
	// dead-letters at MaxAttempts, and the message the server stops
	// redelivering is dead-lettered from its max-deliveries advisory.
	// When set, it must be at least every subscription's MaxAttempts
	// (Subscribe fails with bus.ErrNotSupported otherwise).
	MaxDeliver int
	// MaxAckPending bounds unacknowledged messages per consumer; default
	// 1000.
	MaxAckPending int
	// Start is where a new consumer starts; an existing durable consumer
	// keeps its position.
	Start StartPosition
	// StartTime is the start for StartAtTime.
	StartTime time.Time
	// StartSequence is the start for StartAtSequence.
	StartSequence uint64
	// InactiveThreshold is how long the server keeps a consumer of a plain
	// (non-group) subscription after its client went away without
	// deleting it; default 5 minutes. Group consumers are durable and
	// never removed by the bus. A plain subscription whose consumer the
	// server removed (a partition longer than this) ends with
	// ErrConsumerDeleted.
	InactiveThreshold time.Duration
	// PullMaxMessages is how many messages each pull loop asks the server
	// for at a time (nats.go's default, 500). Pulled messages wait in a
	// client buffer and their AckWait runs while they wait (the InProgress
	// heartbeat covers only the message a handler is running), so keep
	// PullMaxMessages × handler time under AckWait: with the defaults, a
	// handler slower than about 60ms lets buffered messages be redelivered
	// and handled twice. Lower it (or raise AckWait) for slow handlers.
	// Very small values under heavy load can also hit a nats.go stall
	// (no pull outstanding until its missing-heartbeat reset after 30s,
	// nats-io/nats.go#1622); measured here with 100, not with 500.
	PullMaxMessages int
	// PublishAckTimeout bounds the wait for each store acknowledgement in
	// PublishBatch (a publish the account may not make never gets one);
	// default 30s.
	PublishAckTimeout time.Duration
	// PublishAsyncMaxPending bounds outstanding asynchronous publishes
	// during PublishBatch; default 4000.
	PublishAsyncMaxPending int
}

// StreamConfig is the stream the backend creates, or verifies when it
// exists. Only the fields set are checked against an existing stream.
type StreamConfig struct {
	// Name of the stream; required.
	Name string
	// Subjects the stream captures; required to create it. Subscriptions
	// to subjects inside them are consumers of the stream; subscriptions
	// outside them (request subjects, for example) are core NATS.
	Subjects []string
	// Storage: "file" (the default when creating) or "memory".
	Storage string
	// Replicas: 1 (default) or 3 or 5 in a cluster.
	Replicas int
	// Retention: "limits" (the default when creating), "interest" or
	// "workqueue".
	Retention string
	// MaxAge: how long messages are kept; 0 means forever.
	MaxAge time.Duration
	// MaxBytes and MaxMsgs bound the stream; 0 means unlimited.
	MaxBytes int64
	MaxMsgs  int64
	// Duplicates is the window in which the server drops a message whose
	// Nats-Msg-Id (the event id) it has already stored; default 2 minutes.
	Duplicates time.Duration
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "busway"
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if js := c.JetStream; js != nil {
		d := *js
		if d.AckWait <= 0 {
			d.AckWait = 30 * time.Second
		}
		if d.MaxAckPending <= 0 {
			d.MaxAckPending = 1000
		}
		if d.InactiveThreshold <= 0 {
			d.InactiveThreshold = 5 * time.Minute
		}
		if d.PullMaxMessages <= 0 {
			d.PullMaxMessages = 500
		}
		if d.PublishAckTimeout <= 0 {
			d.PublishAckTimeout = 30 * time.Second
		}
		if d.PublishAsyncMaxPending <= 0 {
			d.PublishAsyncMaxPending = 4000
		}
		c.JetStream = &d
	}
	return c
}

func (c Config) validate() error {
	if c.Conn == nil && strings.TrimSpace(c.URL) == "" {
		return fmt.Errorf("natsbus: no server URL and no Conn")
	}
	for p := range strings.SplitSeq(c.URL, ",") {
		if strings.Contains(p, "@") {
			return ErrCredentialsInURL
		}
	}
	if js := c.JetStream; js != nil {
		if js.Stream.Name == "" && len(js.Stream.Subjects) > 0 {
			return fmt.Errorf("natsbus: stream subjects given without a stream name (stream=NAME)")
		}
		for _, p := range js.CoreSubjects {
			if err := subject.ValidatePattern(p); err != nil {
				return fmt.Errorf("natsbus: core subject: %w", err)
			}
		}
		if js.Stream.Name != "" && strings.ContainsAny(js.Stream.Name, ".*> \t\r\n/\\") {
			return fmt.Errorf("natsbus: invalid stream name %q: no '.', '*', '>', '/', '\\' or whitespace", js.Stream.Name)
		}
		if err := js.Stream.checkEnums(); err != nil {
			return err
		}
		if js.Start == StartAtTime && js.StartTime.IsZero() {
			return fmt.Errorf("natsbus: start at time needs StartTime")
		}
		if js.Start == StartAtSequence && js.StartSequence == 0 {
			return fmt.Errorf("natsbus: start at sequence needs StartSequence > 0")
		}
	}
	return nil
}

// String describes c without credentials.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "natsbus.Config{URL:%s", redactServers(c.URL))
	if c.Conn != nil {
		b.WriteString(" Conn:user-supplied")
	}
	fmt.Fprintf(&b, " Auth:%v", c.Auth)
	if c.JetStream != nil {
		fmt.Fprintf(&b, " JetStream:stream=%s", c.JetStream.Stream.Name)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so %#v does not print credentials.
func (c Config) GoString() string { return c.String() }

// LogValue is String, so slog does not print credentials.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
