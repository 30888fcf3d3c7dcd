package wmbus

import (
	"bytes"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// UUIDHeader is the transport header that carries a Watermill message's
// UUID through a Busway backend. NewPublisher writes it; NewSubscriber reads
// it back into Message.UUID and leaves it out of Message.Metadata, so a
// message keeps its UUID and metadata across the trip.
const UUIDHeader = "Busway-Watermill-Uuid"

// eventIDHeader is the CloudEvents id attribute in binary mode.
const eventIDHeader = "ce-id"

// headerFromMetadata returns md as transport headers, one value per key.
// All values share one backing array.
func headerFromMetadata(md message.Metadata, extra int) map[string][]string {
	h := make(map[string][]string, len(md)+extra)
	vals := make([]string, 0, len(md))
	for k, v := range md {
		vals = append(vals, v)
		i := len(vals) - 1
		h[k] = vals[i : i+1 : i+1]
	}
	return h
}

// metadataFromHeader returns h as Watermill metadata. A header with no value
// is left out. With strict, a header with more than one value is an error
// wrapping driver.ErrInvalidHeader; without, its first value is kept.
// The key skip, when not empty, is left out.
func metadataFromHeader(h map[string][]string, strict bool, skip string) (message.Metadata, error) {
	md := make(message.Metadata, len(h))
	for k, vs := range h {
		switch {
		case len(vs) == 0 || k == skip:
			continue
		case len(vs) > 1 && strict:
			return nil, fmt.Errorf("%w: header %q has %d values, but Watermill metadata holds one value per key",
				driver.ErrInvalidHeader, k, len(vs))
		}
		md[k] = vs[0]
	}
	return md, nil
}

// firstValue returns the first value of header key, or "".
func firstValue(h map[string][]string, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// toWatermill turns a driver message published on the bus into a Watermill
// message for a Watermill publisher (the NewConn direction). Its UUID is
// the ce-id header when present, else a new UUID; every header becomes
// metadata, and a multi-valued header is an error.
func toWatermill(m *driver.Message) (*message.Message, error) {
	md, err := metadataFromHeader(m.Header, true, "")
	if err != nil {
		return nil, err
	}
	id := md[eventIDHeader]
	if id == "" {
		id = watermill.NewUUID()
	}
	msg := message.NewMessage(id, m.Data)
	msg.Metadata = md
	return msg, nil
}

// fromWatermill turns a Watermill message received from a Watermill
// subscriber into a driver message for the bus (the NewConn direction).
// Its Native is msg, for bus.Message.As.
func fromWatermill(topic string, msg *message.Message) *driver.Message {
	return &driver.Message{
		Subject: topic,
		Header:  headerFromMetadata(msg.Metadata, 0),
		Data:    msg.Payload,
		Native:  msg,
	}
}

// encodeFace turns a Watermill message given to a Publisher from
// NewPublisher into a driver message: metadata as headers, the UUID in
// UUIDHeader, the payload as body.
func encodeFace(topic string, msg *message.Message) *driver.Message {
	h := headerFromMetadata(msg.Metadata, 1)
	if msg.UUID != "" {
		h[UUIDHeader] = []string{msg.UUID}
	} else {
		delete(h, UUIDHeader)
	}
	return &driver.Message{Subject: topic, Header: h, Data: msg.Payload}
}

// decodeFace turns a delivered driver message into a Watermill message for
// a Subscriber from NewSubscriber. The UUID comes from UUIDHeader, else the
// ce-id header, else a new UUID. Headers become metadata (the first value
// of a multi-valued header). The payload is a copy: backends share the
// delivered body between subscribers.
func decodeFace(dm *driver.Message) *message.Message {
	id := firstValue(dm.Header, UUIDHeader)
	if id == "" {
		id = firstValue(dm.Header, eventIDHeader)
	}
	if id == "" {
		id = watermill.NewUUID()
	}
	md, _ := metadataFromHeader(dm.Header, false, UUIDHeader)
	msg := message.NewMessage(id, bytes.Clone(dm.Data))
	msg.Metadata = md
	return msg
}
