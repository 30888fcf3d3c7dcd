package natsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream publish headers the backend sets itself. They are removed from
// what the bus hands over (a dead-letter copy carries the original's), so
// a stale value can neither deduplicate nor misroute a copy.
var jsHeaders = []string{
	jetstream.MsgIDHeader,
	jetstream.ExpectedStreamHeader,
	jetstream.ExpectedLastSeqHeader,
	jetstream.ExpectedLastSubjSeqHeader,
	jetstream.ExpectedLastSubjSeqSubjHeader,
	jetstream.ExpectedLastMsgIDHeader,
}

func stripJSHeaders(h map[string][]string) {
	for _, k := range jsHeaders {
		delete(h, k)
	}
}

// jsMsg fills msg for a JetStream publish of m: m.ID (the bus's dedup id
// of the event) as Nats-Msg-Id, so the server drops a second message with
// the same id inside the stream's duplicate window, and the expected
// stream, their values stored in vals. The headers are set here rather
// than with nats.go's publish options, which cost four allocations per
// message (the options, their closures and slice) for the same headers.
func (c *Conn) jsMsg(st *streamInfo, m *driver.Message, msg *nats.Msg, vals *[2]string) {
	if m.Header == nil {
		m.Header = make(map[string][]string, 2)
	}
	stripJSHeaders(m.Header)
	vals[0], vals[1] = st.name, m.ID
	m.Header[jetstream.ExpectedStreamHeader] = vals[0:1:1]
	if m.ID != "" {
		m.Header[jetstream.MsgIDHeader] = vals[1:2:2]
	}
	*msg = nats.Msg{Subject: m.Subject, Header: nats.Header(m.Header), Data: m.Data}
}

// jsPublish publishes and waits for the server's store acknowledgement. A
// duplicate (same dedup id inside the window) is acknowledged by the
// server without storing it again, and is a success.
func (c *Conn) jsPublish(ctx context.Context, st *streamInfo, m *driver.Message) error {
	if c.isClosed() {
		return driver.ErrClosed
	}
	var msg nats.Msg
	var vals [2]string
	c.jsMsg(st, m, &msg, &vals)
	_, err := c.js.PublishMsg(ctx, &msg)
	return c.mapJSErr(err, st, m)
}

// jsPublishBatch publishes asynchronously and waits for every ack.
func (c *Conn) jsPublishBatch(ctx context.Context, ms []*driver.Message) error {
	if c.isClosed() {
		return driver.ErrClosed
	}
	type pending struct {
		m  *driver.Message
		st *streamInfo
		f  jetstream.PubAckFuture
	}
	futures := make([]pending, 0, len(ms))
	var errs []error
	core := false
	// nats.go keeps each message until its ack, and may re-send it after
	// we stopped waiting (a no-responders retry); Data stays the
	// caller's, so send copies. One allocation each, for the batch, of the
	// messages, their header values and the copies.
	msgs, vals := make([]nats.Msg, len(ms)), make([][2]string, len(ms))
	data := make([]byte, 0, batchBytes(ms))
	var prev string // the previous message's subject, whose stream is st
	var st *streamInfo
	var stErr error
	for i, m := range ms {
		if i == 0 || m.Subject != prev {
			st, stErr = c.routes.streamFor(ctx, m.Subject)
			prev = m.Subject
		}
		if stErr != nil {
			errs = append(errs, stErr)
			continue
		}
		if st == nil {
			core = true
			errs = append(errs, c.corePublish(m))
			continue
		}
		msg := &msgs[i]
		c.jsMsg(st, m, msg, &vals[i])
		data = append(data, m.Data...)
		msg.Data = data[len(data)-len(m.Data) : len(data) : len(data)]
		f, err := c.js.PublishMsgAsync(msg)
		if err != nil {
			errs = append(errs, c.mapJSErr(err, st, m))
			continue
		}
		futures = append(futures, pending{m, st, f})
	}
	for _, p := range futures {
		select {
		case <-p.f.Ok():
		case err := <-p.f.Err():
			errs = append(errs, c.mapJSErr(err, p.st, p.m))
		case <-ctx.Done():
			return errors.Join(append(errs, fmt.Errorf("natsbus: batch: waiting for acks: %w", ctx.Err()))...)
		}
	}
	if core {
		errs = append(errs, c.flush(ctx))
	}
	return errors.Join(errs...)
}

// batchBytes is the size of every message's data.
func batchBytes(ms []*driver.Message) int {
	n := 0
	for _, m := range ms {
		n += len(m.Data)
	}
	return n
}

// errHeadersTooLarge is the JetStream API error for a header block over
// the store's limit (64 KiB): "header size exceeds maximum allowed of 64k".
const errHeadersTooLarge jetstream.ErrorCode = 10097

// isAPIError reports whether err is the JetStream API error code.
func isAPIError(err error, code jetstream.ErrorCode) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == code
}

// waitAsyncPublishes waits (bounded by ctx) for outstanding asynchronous
// publishes, before the connection closes.
func (c *Conn) waitAsyncPublishes(ctx context.Context) {
	select {
	case <-c.js.PublishAsyncComplete():
	case <-ctx.Done():
	}
}

// mapJSErr maps JetStream publish errors to the bus's sentinels.
func (c *Conn) mapJSErr(err error, st *streamInfo, m *driver.Message) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return fmt.Errorf("natsbus: publish to %q: no response from stream %q (is it available? for a cluster: does it have a leader?): %w",
			m.Subject, st.name, err)
	case errors.Is(err, jetstream.ErrTooManyStalledMsgs):
		return fmt.Errorf("%w: too many publishes waiting for their acks (async_max_pending): %w", driver.ErrBufferFull, err)
	case isAPIError(err, jetstream.JSErrCodeStreamMessageExceedsMaximum):
		return fmt.Errorf("%w: %d bytes on %q exceed stream %q's max_msg_size: %w",
			driver.ErrPayloadTooLarge, len(m.Data)+headerSize(m.Header), m.Subject, st.name, err)
	case isAPIError(err, errHeadersTooLarge):
		return fmt.Errorf("%w: %d bytes of headers on %q exceed JetStream's 64 KiB header limit: %w",
			driver.ErrPayloadTooLarge, headerSize(m.Header), m.Subject, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, nats.ErrDisconnected):
		return fmt.Errorf("%w: publish to %q: no store acknowledgement (the message may or may not be stored; publishing it again is safe, duplicates are dropped by event source and id): %w",
			driver.ErrTimeout, m.Subject, err)
	}
	return c.mapErr(err, m)
}
