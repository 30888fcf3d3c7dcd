package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The server announces a message it stopped redelivering (MaxDeliver
// reached) on maxDeliveriesPrefix.<stream>.<consumer>. The processes of a
// group listen in one queue group, so that one of them handles each.
const (
	maxDeliveriesPrefix = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."
	advisoryQueue       = "busway_max_deliveries"
)

// maxDeliveriesAdvisory is the part of the server's advisory the bus
// reads (io.nats.jetstream.advisory.v1.max_deliver).
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// listenAdvisories subscribes to the consumer's max-deliveries
// advisories. o.mu is held.
func (o *jsConsumer) listenAdvisories() {
	subj := maxDeliveriesPrefix + o.stream.name + "." + o.name
	var err error
	if o.shared() {
		o.adv, err = o.conn.nc.QueueSubscribe(subj, advisoryQueue, o.onAdvisory)
	} else {
		o.adv, err = o.conn.nc.Subscribe(subj, o.onAdvisory)
	}
	if err != nil {
		o.conn.log.Error("natsbus: cannot listen for max-deliveries advisories; messages the server stops redelivering will stay in the stream unsettled",
			"stream", o.stream.name, "consumer", o.name, "subject", subj, "error", err)
	}
}

// onAdvisory fetches the message the server gave up on and delivers it
// to a member as Exhausted: the bus dead-letters it (or logs it) without
// running a handler. This is how messages that never reached the bus end:
// handed back at every shutdown, or taken by nats.go for a status message
// (an empty body with a Status header, which anyone can publish into the
// stream) and left unacked.
func (o *jsConsumer) onAdvisory(m *nats.Msg) {
	var a maxDeliveriesAdvisory
	if err := json.Unmarshal(m.Data, &a); err != nil || a.StreamSeq == 0 {
		o.conn.log.Warn("natsbus: unreadable max-deliveries advisory", "subject", m.Subject, "error", err)
		return
	}
	log := o.conn.log.With("stream", o.stream.name, "consumer", o.name, "stream_seq", a.StreamSeq, "deliveries", a.Deliveries)
	ctx, cancel := context.WithTimeout(context.Background(), apiAttempt)
	defer cancel()
	raw, err := o.stream.handle.GetMsg(ctx, a.StreamSeq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		log.Error("natsbus: the server stopped redelivering a message, and it left the stream (limits) before it could be dead-lettered")
		return
	case err != nil:
		log.Error("natsbus: the server stopped redelivering a message; fetching it to dead-letter it failed, it stays in the stream unsettled", "error", err)
		return
	}
	s := o.routeAny(raw.Subject)
	if s == nil {
		log.Error("natsbus: the server stopped redelivering a message, and no subscription is left to dead-letter it; it stays in the stream unsettled", "subject", raw.Subject)
		return
	}
	defer s.gate.Leave()
	o.track.settled(a.StreamSeq)
	if raw.Header == nil {
		raw.Header = nats.Header{}
	}
	// No Acker to ask (driver.Originer): say where it is stored here.
	raw.Header[bus.DeadLetterStreamHeader] = []string{a.Stream}
	raw.Header[bus.DeadLetterSequenceHeader] = []string{strconv.FormatUint(a.StreamSeq, 10)}
	s.h(&driver.Message{Subject: raw.Subject, Header: raw.Header, Data: raw.Data,
		Attempt: int(a.Deliveries), Exhausted: true, Native: raw})
}

// routeAny is route for an advisory: a member matching subj, else any
// live member (its dead-letter subject takes the message).
func (o *jsConsumer) routeAny(subj string) *jsSub {
	if s := o.route(subj, nil); s != nil {
		return s
	}
	for _, m := range *o.view.Load() {
		if m.gate.Enter() {
			return m
		}
	}
	return nil
}
