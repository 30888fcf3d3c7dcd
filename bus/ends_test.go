package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message whose dead-letter copy can never be stored (the backend
// refuses it for a reason redelivery cannot change) is terminated and
// logged with the reason, not handed back forever.
func TestDeadLetterRefusedForGoodIsTerminated(t *testing.T) {
	for _, refusal := range []error{driver.ErrInvalidHeader, driver.ErrPayloadTooLarge, driver.ErrInvalidSubject, driver.ErrNotSupported} {
		t.Run(refusal.Error(), func(t *testing.T) {
			c := &testConn{failPub: func(m *driver.Message) error {
				if m.Subject == "jobs.dead" {
					return fmt.Errorf("test: dead-letter publish: %w", refusal)
				}
				return nil
			}}
			b, logs := openTest(t, c)
			var calls atomic.Int32
			sentinel := make(chan struct{})
			_, err := b.Subscribe(t.Context(), "jobs.run", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
				if m.Event.Type == "sentinel.v1" {
					close(sentinel)
					return nil
				}
				calls.Add(1)
				return errors.New("cannot process")
			}), bus.DeadLetter("jobs.dead"), bus.MaxAttempts(2), bus.RetryBackoff(nil))
			require.NoError(t, err)
			job := bus.NewMessage("jobs.run", "job.v1", nil)
			require.NoError(t, b.Publish(t.Context(), job))
			require.Eventually(t, func() bool { return calls.Load() >= 2 }, 5*time.Second, time.Millisecond)
			require.NoError(t, b.Publish(t.Context(), bus.NewMessage("jobs.run", "sentinel.v1", nil)))
			recv(t, sentinel, "the sentinel")
			assert.Equal(t, int32(2), calls.Load(), "MaxAttempts deliveries, then terminated, never handed back again")
			assert.Equal(t, 1, countLines(logs.String(), "level=ERROR", "terminated", job.Event.ID, "jobs.run", refusal.Error()),
				"one Error line with the reason, subject and event id: %s", logs)
		})
	}
}

// A delivery the backend gave up on (driver.Message.Exhausted) runs no
// handler: it is dead-lettered with the reason, or logged at Error when
// the subscription has no dead-letter subject.
func TestExhaustedDeliveryIsDeadLettered(t *testing.T) {
	c := &testConn{}
	b, logs := openTest(t, c)
	dead := make(chan *bus.Message, 1)
	_, err := b.Subscribe(t.Context(), "jobs.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	var calls atomic.Int32
	count := bus.HandlerFunc(func(context.Context, *bus.Message) error { calls.Add(1); return nil })
	_, err = b.Subscribe(t.Context(), "jobs.run", count, bus.DeadLetter("jobs.dead"))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), "jobs.other", count)
	require.NoError(t, err)

	raw := encodeRaw(t, bus.NewMessage("jobs.run", "job.v1", []byte("payload")))
	c.sub(t, 1).h(&driver.Message{Subject: raw.Subject, Header: raw.Header, Data: raw.Data, Attempt: 6, Exhausted: true})
	d := recv(t, dead, "the dead letter")
	assert.Equal(t, "payload", string(d.Event.Data), "original bytes")
	assert.Equal(t, "6", d.Header.Get(bus.DeadLetterAttemptsHeader))
	assert.Equal(t, "false", d.Header.Get(bus.DeadLetterPermanentHeader))
	assert.Contains(t, d.Header.Get(bus.DeadLetterReasonHeader), "stopped redelivering after 6 deliveries")

	other := encodeRaw(t, bus.NewMessage("jobs.other", "job.v1", nil))
	c.sub(t, 2).h(&driver.Message{Subject: other.Subject, Header: other.Header, Data: other.Data, Attempt: 6, Exhausted: true})
	assert.Zero(t, calls.Load(), "no handler runs for an exhausted delivery")
	assert.Equal(t, 1, countLines(logs.String(), "level=ERROR", "jobs.other", "stopped redelivering"), "%s", logs)
}

// encodeRaw returns the driver message Publish would send for m.
func encodeRaw(t *testing.T, m *bus.Message) *driver.Message {
	t.Helper()
	got := make(chan *driver.Message, 1)
	c := &testConn{failPub: func(dm *driver.Message) error {
		got <- dm
		return errors.New("test: captured")
	}}
	capture, _ := openTest(t, c)
	_ = capture.Publish(t.Context(), m)
	return recv(t, got, "the encoded message")
}
