package bustest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
)

// OpenFunc opens a new Bus on the backend under test. Every call with the
// same t returns a new Bus (its own connection where the backend has
// connections) to the same broker, so that the suite can publish on one Bus
// and subscribe on another. The function registers the Bus's Close with
// t.Cleanup itself, and fails t when it cannot open.
//
// The suite calls it only with the *testing.T of a top-level subtest of Run
// (never of a nested one), so a backend that needs a private broker per
// subtest may key it on t.Name().
type OpenFunc func(t *testing.T) *bus.Bus

// Features describes what the backend under test offers. Set the flags
// honestly: a subtest for a feature the backend lacks is skipped with the
// reason, and claiming a feature the backend lacks makes the suite fail.
type Features struct {
	// Redelivery: the backend delivers a message again when it is handed
	// back, also to another member of its group once the first one
	// stopped (mem, JetStream; Watermill's gochannel, to the same
	// subscriber; not core NATS, which is at-most-once). The retry policy
	// (Redelivery, MaxAttemptsThenDeadLetter, BackoffDelays) is checked on
	// every backend regardless: where the backend does not redeliver, the
	// bus retries in process. Contracts that need a message to survive its
	// subscriber (HardStopHandsBack, DrainOnClose's later member) need it.
	Redelivery bool
	// RequestReply: Bus.Request works (driver.Requester).
	RequestReply bool
	// Groups: competing-consumer groups. Subscribers sharing a bus.Group
	// split the work, each message going to one member of each group (mem,
	// NATS queue groups, JetStream; not Watermill's gochannel, where every
	// subscriber gets every message). Without it, contracts that only use
	// a group incidentally subscribe plainly instead.
	Groups bool
	// Wildcards: subscription patterns may use the NATS wildcards "*" (one
	// token) and ">" (one or more trailing tokens) (mem, NATS; not
	// Watermill, whose topics match exactly). A "*" or ">" inside a longer
	// token is a literal character, and subject validation holds, either
	// way.
	Wildcards bool
	// MultiValueHeaders: a transport header (Message.Header) may carry
	// several values, which arrive in order (mem, NATS; not Watermill,
	// whose metadata holds one value per key). Without it, the suite sends
	// single-valued headers only.
	MultiValueHeaders bool
	// MaxPayload, when positive, is the backend's limit on headers plus
	// body in bytes: publishing MaxPayload+1 bytes of data must fail with
	// bus.ErrPayloadTooLarge and an error text naming the limit.
	MaxPayload int
	// Ordering: messages from one publisher reach a subscriber with
	// Concurrency 1 in publish order.
	Ordering bool
	// DrainDeliversQueued: messages the backend already queued for a
	// subscription when Close begins are still handled during the drain
	// (mem does; NATS drains pending messages). False where the transport
	// discards them at close (Watermill's gochannel): DrainOnClose then
	// checks only that the in-flight message is handled once and no
	// message twice.
	DrainDeliversQueued bool
	// OwnHeaders are transport headers the backend sets itself on every
	// publish (JetStream: Nats-Msg-Id, Nats-Expected-Stream). A
	// dead-letter copy gets its own values for them, so the suite does not
	// require the original's.
	OwnHeaders []string
	// RawConn, when not nil, returns a driver connection to the same broker
	// as OpenFunc with the same t, closed by a t.Cleanup it registers. The
	// suite uses it to publish bytes that are not a CloudEvent and to read
	// dead-lettered copies of them, which package bus cannot decode. Nil
	// skips MalformedToDeadLetter.
	RawConn func(t *testing.T) driver.Conn
	// AckWaitBus, when not nil, opens a Bus on the same broker as OpenFunc
	// (with the same t, closed by a t.Cleanup it registers) whose backend
	// redelivers a message left unacknowledged for ackWait (JetStream: the
	// consumer's AckWait). Keep ackWait short (a few hundred
	// milliseconds): InProgress runs a handler for three times ackWait.
	// Nil where the backend has no ack deadline (mem, core NATS,
	// Watermill): InProgress then checks only that Message.InProgress
	// returns nil or ErrNotSupported and that the message is handled once.
	AckWaitBus func(t *testing.T) (b *bus.Bus, ackWait time.Duration)
	// DeleteSubscription, when not nil, removes the backend's side of the
	// subscription of b on pattern in group ("" for a plain subscription),
	// as an operator or the server would (JetStream: delete its consumer
	// through the JetStream API), and returns once it is gone. Nil where
	// the backend has no such side (mem, core NATS, Watermill):
	// SubscriptionDisappears is skipped.
	DeleteSubscription func(t *testing.T, b *bus.Bus, pattern, group string)
	// Timeout bounds each wait for a message to arrive; 0 means 10s. Raise
	// it for a slow remote server. A passing run never waits this long.
	Timeout time.Duration
}

// defaultTimeout is Features.Timeout's default.
const defaultTimeout = 10 * time.Second

// negativeWait is how long the suite watches for something that must NOT
// happen yet (Close or Router.Run returning while a handler still runs).
// Only negative assertions use it: a real failure is caught whenever it
// happens within the wait, and a slow machine makes the check weaker, never
// flaky. Positive waits use channels and sentinel messages.
const negativeWait = 100 * time.Millisecond

// Run runs the conformance suite against a backend: one parallel subtest
// per contract of package bus, each with subjects and group names of its
// own. open must be safe to call from parallel subtests.
func Run(t *testing.T, open OpenFunc, f Features) {
	t.Helper()
	if open == nil {
		t.Fatal("bustest: Run needs an OpenFunc")
	}
	if f.Timeout <= 0 {
		f.Timeout = defaultTimeout
	}
	for _, c := range contracts {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(newEnv(t, open, f))
		})
	}
}

// contracts lists the subtests Run starts, in order.
var contracts = []struct {
	name string
	run  func(e *env)
}{
	{"PublishSubscribe", testPublishSubscribe},
	{"FanOut", testFanOut},
	{"GroupExactlyOncePerGroup", testGroups},
	{"GroupOverlappingPatterns", testGroupOverlap},
	{"Wildcards", testWildcards},
	{"Redelivery", testRedelivery},
	{"BackoffDelays", testBackoffDelays},
	{"InProgress", testInProgress},
	{"MaxAttemptsThenDeadLetter", testMaxAttempts},
	{"PermanentNotRetried", testPermanent},
	{"PanicRecovery", testPanic},
	{"MalformedToDeadLetter", testMalformed},
	{"UndeadLetterableTerminated", testUndeadLetterable},
	{"DrainOnClose", testDrainOnClose},
	{"HardStopHandsBack", testHardStopHandBack},
	{"SecondDrain", testSecondDrain},
	{"SubscriptionDisappears", testSubscriptionDisappears},
	{"HandlerPublishesDuringClose", testHandlerPublishesDuringClose},
	{"RouterDrain", testRouterDrain},
	{"RequestReply", testRequestReply},
	{"InvalidSubjects", testInvalidSubjects},
	{"LongNames", testLongNames},
	{"ReservedHeaders", testReservedHeaders},
	{"OversizedPayload", testOversized},
	{"OrderingPerPublisher", testOrdering},
	{"CloudEventAttributes", testAttributes},
	{"ClosedBus", testClosedBus},
}

// env is what one contract subtest works with.
type env struct {
	t       *testing.T // the contract's subtest; buses are opened with it
	open    OpenFunc
	f       Features
	id      string // random, unique to this subtest
	timeout time.Duration
}

func newEnv(t *testing.T, open OpenFunc, f Features) *env {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &env{t: t, open: open, f: f, id: hex.EncodeToString(b[:]), timeout: f.Timeout}
}

// bus opens one more Bus to the subtest's broker.
func (e *env) bus() *bus.Bus {
	e.t.Helper()
	b := e.open(e.t)
	if b == nil {
		e.t.Fatal("bustest: OpenFunc returned a nil Bus")
	}
	return b
}

// subject returns a subject private to this subtest: "bustest.<id>." and
// the tokens. A server shared with other runs sees distinct subjects, and
// a JetStream stream over "bustest.>" captures all of them.
func (e *env) subject(tokens ...string) string {
	return "bustest." + e.id + "." + strings.Join(tokens, ".")
}

// requestSubject returns a subject for requests, private to this subtest.
// It is outside "bustest.>", so that a JetStream stream capturing the
// event subjects does not capture (and acknowledge) requests.
func (e *env) requestSubject(tokens ...string) string {
	return "bustestrpc." + e.id + "." + strings.Join(tokens, ".")
}

// group returns a group name private to this subtest (valid as a NATS
// queue group and a JetStream durable name: no dots).
func (e *env) group(name string) string {
	return "bustest_" + e.id + "_" + name
}

// groupOpts returns the options that subscribe as a member of the group
// name (see group) where the backend has groups, and none otherwise: for
// contracts that use a group only incidentally, so that they still test
// their subject, with a plain subscription, on a backend without groups.
func (e *env) groupOpts(name string) []bus.SubscribeOption {
	if !e.f.Groups {
		return nil
	}
	return []bus.SubscribeOption{bus.Group(e.group(name))}
}

// tiny is a redelivery backoff that keeps the suite fast.
var tiny = bus.RetryBackoff(bus.ConstantBackoff(time.Millisecond))
