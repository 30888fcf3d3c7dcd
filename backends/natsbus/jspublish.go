package natsbus

import (
	"context"
	"errors"
	"fmt"
	"slices"

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

// jsMsg builds the message and options for a JetStream publish: m.ID (the
// bus's dedup id of the event) as Nats-Msg-Id, so the server drops a second
// message with the same id inside the stream's duplicate window, and the
// expected stream.
func (c *Conn) jsMsg(st *streamInfo, m *driver.Message) (*nats.Msg, []jetstream.PublishOpt) {
	if m.Header == nil {
		m.Header = map[string][]string{}
	}
	stripJSHeaders(m.Header)
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(st.name)}
	if m.ID != "" {
		opts = append(opts, jetstream.WithMsgID(m.ID))
	}
	return &nats.Msg{Subject: m.Subject, Header: nats.Header(m.Header), Data: m.Data}, opts
}

// jsPublish publishes and waits for the server's store acknowledgement. A
// duplicate (same dedup id inside the window) is acknowledged by the
// server without storing it again, and is a success.
func (c *Conn) jsPublish(ctx context.Context, st *streamInfo, m *driver.Message) error {
	if c.isClosed() {
		return driver.ErrClosed
	}
	msg, opts := c.jsMsg(st, m)
	_, err := c.js.PublishMsg(ctx, msg, opts...)
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
	for _, m := range ms {
		st, err := c.routes.streamFor(ctx, m.Subject)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st == nil {
			core = true
			errs = append(errs, c.corePublish(m))
			continue
		}
		msg, opts := c.jsMsg(st, m)
		// nats.go may re-send the message after we stopped waiting (a
		// no-responders retry); Data stays the caller's, so send a copy.
		msg.Data = slices.Clone(m.Data)
		f, err := c.js.PublishMsgAsync(msg, opts...)
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
