package natsbus

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ackPrefix starts the reply subject of every JetStream delivery.
const ackPrefix = "$JS.ACK."

// deliveryInfo returns a delivered message's delivery count and stream
// sequence. They are read from its reply subject, whose layout is the
// JetStream wire format (ADR-15, nats.go's parser.GetMetadataFields):
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>
//	$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>[.<token>]
//
// reading just the two numbers, without the allocation and the parsing of
// every field that msg.Metadata costs. A reply of any other shape goes
// to msg.Metadata; ok is false when that fails too.
func deliveryInfo(msg jetstream.Msg) (delivered int, seq uint64, ok bool) {
	if d, s, ok := parseAckReply(msg.Reply()); ok {
		return int(d), s, true
	}
	meta, err := msg.Metadata()
	if err != nil {
		return 0, 0, false
	}
	return int(meta.NumDelivered), meta.Sequence.Stream, true
}

// parseAckReply reads the delivery count and stream sequence of a
// JetStream ack reply subject (see deliveryInfo).
func parseAckReply(reply string) (delivered, seq uint64, ok bool) {
	rest, found := strings.CutPrefix(reply, ackPrefix)
	if !found {
		return 0, 0, false
	}
	// Tokens after the prefix: 7 in the old layout, 9 or more in the new.
	var skip int
	switch n := strings.Count(rest, ".") + 1; {
	case n == 7:
		skip = 2 // stream, consumer
	case n >= 9:
		skip = 4 // domain, account hash, stream, consumer
	default:
		return 0, 0, false
	}
	for range skip {
		_, rest, _ = strings.Cut(rest, ".")
	}
	d, rest, _ := strings.Cut(rest, ".")
	s, _, _ := strings.Cut(rest, ".")
	delivered, err1 := strconv.ParseUint(d, 10, 64)
	seq, err2 := strconv.ParseUint(s, 10, 64)
	return delivered, seq, err1 == nil && err2 == nil
}
