package natsbus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ConsumerName is the durable consumer name the backend uses for a group
// subscribed to subject: the group with characters a consumer name cannot
// hold replaced by "_", a "-", and 8 hex digits hashing group and subject
// (so two groups, or one group on two subjects, never share a consumer).
// Operators can use it to find a group's consumer ("nats consumer info").
func ConsumerName(group, subject string) string {
	h := fnv.New32a()
	h.Write([]byte(group))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	clean := strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == '/' || r == '\\' || r > '~' {
			return '_'
		}
		return r
	}, group)
	return fmt.Sprintf("%s-%08x", clean, h.Sum32())
}

// consumerConfig is the consumer a subscription creates (or updates).
func (c *Conn) consumerConfig(o driver.SubscribeOptions) jetstream.ConsumerConfig {
	jc := c.cfg.JetStream
	cc := jetstream.ConsumerConfig{
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       jc.AckWait,
		MaxDeliver:    jc.MaxDeliver,
		MaxAckPending: jc.MaxAckPending,
	}
	if cc.MaxDeliver <= 0 {
		cc.MaxDeliver = -1
	}
	if literalWildcard(o.Subject) {
		// nats.go's check on FilterSubject rejects a '>' that is not a
		// whole token; the server takes the plural form (2.10+).
		cc.FilterSubjects = []string{o.Subject}
	} else {
		cc.FilterSubject = o.Subject
	}
	switch jc.Start {
	case StartNew:
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	case StartAll:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	case StartAtSequence:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, jc.StartSequence
	case StartAtTime:
		t := jc.StartTime
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	if o.Group != "" {
		cc.Durable = ConsumerName(o.Group, o.Subject)
		cc.Description = fmt.Sprintf("busway group %q on %q", o.Group, o.Subject)
	} else {
		cc.InactiveThreshold = jc.InactiveThreshold
		cc.Description = fmt.Sprintf("busway subscription on %q", o.Subject)
	}
	return cc
}

// literalWildcard reports whether subject has a '*' or '>' inside a longer
// token (a literal character there, not a wildcard).
func literalWildcard(subject string) bool {
	for t := range strings.SplitSeq(subject, ".") {
		if len(t) > 1 && strings.ContainsAny(t, "*>") {
			return true
		}
	}
	return false
}

// consumer creates the subscription's consumer. An existing durable keeps
// its position: only its mutable settings are updated.
func (c *Conn) consumer(ctx context.Context, o driver.SubscribeOptions) (jetstream.Consumer, error) {
	if literalWildcard(o.Subject) && !c.serverAtLeast(2, 10, 0) {
		// 2.9 ignores FilterSubjects: it would make a consumer of the whole
		// stream, and leave it there.
		return nil, fmt.Errorf("%w: a JetStream subscription to %q (a '*' or '>' inside a token) needs nats-server 2.10+ (connected to %s)",
			driver.ErrNotSupported, o.Subject, c.nc.ConnectedServerVersion())
	}
	cc := c.consumerConfig(o)
	if cc.Durable == "" {
		// Named here, so that a retry after an unanswered create finds
		// the same consumer instead of making a second one.
		cc.Name = nuid.Next()
		return apiRetry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
			return c.js.CreateConsumer(ctx, c.stream.name, cc)
		})
	}
	return apiRetry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		if have, err := c.js.Consumer(ctx, c.stream.name, cc.Durable); err == nil {
			cc := cc
			old := have.CachedInfo().Config
			cc.DeliverPolicy, cc.OptStartSeq, cc.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
			return c.js.UpdateConsumer(ctx, c.stream.name, cc)
		} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
		return c.js.CreateOrUpdateConsumer(ctx, c.stream.name, cc)
	})
}

// pullExpiry is how long each pull request lives; nats.go's idle
// heartbeat is half of it, and a loop that misses two heartbeats pulls
// again.
const pullExpiry = 5 * time.Second

// jsSubscribe consumes the stream: a durable consumer per group, an
// ephemeral one (deleted on Drain, and by the server InactiveThreshold
// after a crash) per plain subscription. Concurrency N is N pull loops on
// the consumer. Each message is acked only after the bus settled it.
func (c *Conn) jsSubscribe(ctx context.Context, o driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	if c.isClosed() {
		return nil, driver.ErrClosed
	}
	cons, err := c.consumer(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("natsbus: consumer for %q in stream %q: %w", o.Subject, c.stream.name, err)
	}
	n := max(o.Concurrency, 1)
	s := &jsSub{conn: c, cons: cons, subject: o.Subject, durable: o.Group != "", slots: make([]slot, n)}
	s.heartbeat = make(chan struct{})
	s.hbDone.Add(1)
	go s.keepAlive(c.cfg.JetStream.AckWait)
	for i := range n {
		cc, err := cons.Consume(s.handler(&s.slots[i], h),
			jetstream.PullMaxMessages(c.cfg.JetStream.PullMaxMessages),
			// Pull requests expire (and idle heartbeats come) often, so a
			// loop whose pull was lost (a consumer leader change, nats.go's
			// missing-heartbeat stall) pulls again within seconds, not 30.
			jetstream.PullExpiry(pullExpiry),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				c.log.Warn("natsbus: consume", "stream", c.stream.name, "subject", o.Subject, "error", err)
			}))
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("natsbus: consume %q: %w", o.Subject, err)
		}
		s.consumes = append(s.consumes, cc)
	}
	if err := c.subs.Add(s, nil); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// jsSub is a JetStream subscription.
type jsSub struct {
	conn      *Conn
	cons      jetstream.Consumer
	subject   string
	durable   bool
	consumes  []jetstream.ConsumeContext
	slots     []slot        // one per pull loop: the message its handler runs
	heartbeat chan struct{} // closed to stop keepAlive
	hbDone    sync.WaitGroup
	gate      driver.Gate // handlers running
	drain     driver.Once
}

// slot holds the message a pull loop's handler is running, for the
// InProgress heartbeat. Each loop runs one handler at a time.
type slot struct {
	cur atomic.Pointer[delivery]
}

// delivery is one delivered message: the driver message and its acker in
// one allocation.
type delivery struct {
	dm  driver.Message
	msg jetstream.Msg
	sub *jsSub
	// mu orders the heartbeat's InProgress against settlement, so that no
	// InProgress follows the ack or nak (which would reset the server's
	// redelivery timer of a NakWithDelay).
	mu      sync.Mutex
	settled bool
}

func (s *jsSub) handler(sl *slot, h driver.Handler) jetstream.MessageHandler {
	return func(msg jetstream.Msg) {
		if !s.gate.Enter() {
			return // after a hard stop: left unacked, redelivered after AckWait
		}
		defer s.gate.Leave()
		d := &delivery{msg: msg, sub: s}
		attempt := 0
		if meta, err := msg.Metadata(); err == nil {
			attempt = int(meta.NumDelivered)
		}
		d.dm = driver.Message{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Attempt: attempt, Acker: d, Native: msg}
		sl.cur.Store(d)
		h(&d.dm)
		sl.cur.Store(nil)
	}
}

// keepAlive sends InProgress, every third of AckWait, for every message a
// handler is running, so the server does not redeliver a message while its
// handler is still working on it.
func (s *jsSub) keepAlive(ackWait time.Duration) {
	defer s.hbDone.Done()
	every := max(ackWait/3, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.heartbeat:
			return
		case <-t.C:
			// Every message a handler runs, however recently it started:
			// its AckWait began at delivery, and it may have waited in
			// the pull buffer before the handler took it.
			for i := range s.slots {
				if d := s.slots[i].cur.Load(); d != nil {
					_ = d.InProgress(context.Background())
				}
			}
		}
	}
}

// Drain stops pulling, lets the handlers finish the messages already
// pulled, and deletes a plain subscription's consumer. When ctx ends
// first, the pulled but unhandled messages are dropped on the client (the
// server redelivers them after AckWait) and the handlers still running
// (whose context the bus has cancelled) are waited for. A second Drain
// waits for the first, bounded by its own ctx.
func (s *jsSub) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "drain of "+s.subject, s.doDrain)
}

func (s *jsSub) doDrain(ctx context.Context) error {
	defer s.conn.subs.Remove(s)
	for _, cc := range s.consumes {
		cc.Drain()
	}
	var err error
	if !s.closedBefore(ctx) {
		err = fmt.Errorf("natsbus: drain %q: %w", s.subject, ctx.Err())
		for _, cc := range s.consumes {
			cc.Stop()
		}
		for _, cc := range s.consumes {
			<-cc.Closed()
		}
	}
	s.gate.CloseAndWait() // Closed can come before a running handler returned
	s.stop()
	return err
}

// closedBefore waits until every pull loop has closed, and reports false
// if ctx ended first.
func (s *jsSub) closedBefore(ctx context.Context) bool {
	for _, cc := range s.consumes {
		select {
		case <-cc.Closed():
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// stop ends the heartbeat and, for a plain subscription, deletes its
// consumer.
func (s *jsSub) stop() {
	for _, cc := range s.consumes {
		cc.Stop()
	}
	close(s.heartbeat)
	s.hbDone.Wait()
	if !s.durable {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		name := s.cons.CachedInfo().Name
		if err := s.conn.js.DeleteConsumer(ctx, s.conn.stream.name, name); err != nil {
			s.conn.log.Debug("natsbus: delete consumer (the server removes it after inactive_threshold)", "consumer", name, "error", err)
		}
	}
}

// settle sends an ack, nak or term once; later ones are ignored, as the
// server would ignore them.
func (d *delivery) settle(send func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	d.settled = true
	return send()
}

// Ack implements driver.Acker.
func (d *delivery) Ack(context.Context) error { return d.settle(d.msg.Ack) }

// Nak implements driver.Acker: redelivery at once.
func (d *delivery) Nak(context.Context) error { return d.settle(d.msg.Nak) }

// NakWithDelay implements driver.DelayNaker.
func (d *delivery) NakWithDelay(_ context.Context, delay time.Duration) error {
	return d.settle(func() error { return d.msg.NakWithDelay(delay) })
}

// Term implements driver.Terminator: no more deliveries, with the reason
// recorded in the server's advisory. Servers before 2.10.4 ignore a Term
// with a reason (the message would come back every AckWait): they get a
// plain Term.
func (d *delivery) Term(_ context.Context, reason string) error {
	if !d.sub.conn.serverAtLeast(2, 10, 4) {
		return d.settle(d.msg.Term)
	}
	return d.settle(func() error { return d.msg.TermWithReason(reason) })
}

// InProgress implements driver.Progresser; after settlement it does
// nothing.
func (d *delivery) InProgress(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	return d.msg.InProgress()
}
