package bustest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// suiteBackoff is the delay BackoffDelays asks for.
const suiteBackoff = 200 * time.Millisecond

// testBackoffDelays: the retry policy holds on every backend, whether it
// redelivers (the backend delays the redelivery) or not (the bus retries
// in process): after a failed attempt the next comes no earlier than the
// backoff, with Attempt 2. Only the lower bound is checked.
func testBackoffDelays(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj := e.subject("slow", "retry")
	var mu sync.Mutex
	var failedAt time.Time
	second := make(chan time.Duration, 1)
	h := bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.Attempt() == 1 {
			failedAt = time.Now()
			return errors.New("bustest: transient failure")
		}
		select {
		case second <- time.Since(failedAt):
		default: // a later attempt: the test already failed or passed
		}
		return nil
	})
	_, err := sub.Subscribe(t.Context(), subj, h, bus.RetryBackoff(bus.ConstantBackoff(suiteBackoff)))
	require.NoError(t, err)
	e.publish(t, pub, numbered(subj, 1))
	waited := recv(t, e.timeout, second, "the attempt after the backoff")
	assert.GreaterOrEqual(t, waited, suiteBackoff, "the next attempt came before the backoff")
}

// testInProgress: a handler that calls Message.InProgress is not
// redelivered while it works. Where the backend has an ack deadline
// (Features.AckWaitBus) the handler works for three times that deadline,
// calling InProgress every third of it, and every call returns nil;
// elsewhere InProgress returns nil or ErrNotSupported. Either way the
// message is handled once.
func testInProgress(e *env) {
	t := e.t
	sub, ackWait := e.bus(), time.Duration(0)
	if e.f.AckWaitBus != nil {
		sub, ackWait = e.f.AckWaitBus(t)
	}
	pub := e.bus()
	subj := e.subject("long")
	c := newCollector()
	progress := make(chan error, 64)
	h := bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		c.add("", m)
		if !isSentinel(m) && m.Attempt() == 1 {
			workWithProgress(ctx, m, ackWait, progress)
		}
		return nil
	})
	_, err := sub.Subscribe(t.Context(), subj, h)
	require.NoError(t, err)
	m := e.publish(t, pub, numbered(subj, 1))
	first := recv(t, e.timeout+3*ackWait, progress, "the handler's first InProgress")
	if ackWait == 0 && errors.Is(first, bus.ErrNotSupported) {
		first = nil // the backend has no ack deadline to push back
	}
	require.NoError(t, first, "InProgress")
	ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	assert.Equal(t, []string{m.Event.ID}, ids(ms), "handled once, not redelivered while in progress")
	close(progress)
	for err := range progress {
		assert.NoError(t, err, "InProgress while working past the ack wait")
	}
}

// workWithProgress calls m.InProgress once, and then, for three times
// ackWait, every third of ackWait, sending each result to progress.
func workWithProgress(ctx context.Context, m *bus.Message, ackWait time.Duration, progress chan<- error) {
	progress <- m.InProgress(ctx)
	if ackWait <= 0 {
		return
	}
	tick := time.NewTicker(ackWait / 3)
	defer tick.Stop()
	deadline := time.After(3 * ackWait)
	for {
		select {
		case <-tick.C:
			progress <- m.InProgress(ctx)
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

// testUndeadLetterable: a message whose dead-letter copy the backend can
// never take (it is so close to Features.MaxPayload that the failure
// headers push the copy over) is terminated: handled once, not
// dead-lettered, not redelivered, and the subscription goes on with the
// next message. The bus logs it at Error.
func testUndeadLetterable(e *env) {
	t := e.t
	if e.f.MaxPayload <= 0 {
		t.Skip("the backend has no size limit (Features.MaxPayload is 0), so every dead-letter copy fits")
	}
	sub, pub := e.bus(), e.bus()
	subj, dlq := e.subject("huge"), e.subject("huge", "dlq")
	dl := Recorder(t, sub, dlq)
	c := newCollector()
	h := scripted(c, func(*bus.Message) error { return bus.Permanent(errors.New("bustest: cannot process")) })
	_, err := sub.Subscribe(t.Context(), subj, h, bus.DeadLetter(dlq), tiny)
	require.NoError(t, err)
	big := publishNearLimit(t, pub, subj, e.f.MaxPayload)
	ms, _ := e.settled(t, c, e.publish(t, pub, sentinel(subj)).Event.ID, 1)
	assert.Equal(t, []string{big.Event.ID}, ids(ms), "handled once, then terminated")
	dls, _ := e.settled(t, dl.col, e.publish(t, pub, sentinel(dlq)).Event.ID, 0)
	assert.Empty(t, dls, "no dead-letter copy could fit")
}

// publishNearLimit publishes to subject a message within 64 bytes of the
// largest one the backend takes under limit (far closer than the
// dead-letter headers' size), and returns it. It finds the size by a
// binary search on probes published to subject+".probe", which nobody
// subscribes to.
func publishNearLimit(t *testing.T, p bus.Publisher, subject string, limit int) *bus.Message {
	t.Helper()
	fits := func(subj string, size int) (*bus.Message, bool) {
		m := bus.NewMessage(subj, testType, bytes.Repeat([]byte("x"), size))
		err := p.Publish(t.Context(), m)
		if err != nil {
			require.ErrorIs(t, err, bus.ErrPayloadTooLarge, "publish of %d bytes of data", size)
		}
		return m, err == nil
	}
	lo, hi := 0, limit // lo fits, hi does not
	for hi-lo > 16 {
		mid := (lo + hi) / 2
		if _, ok := fits(subject+".probe", mid); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	for size := lo; size > lo-64; size -= 8 { // event ids and times vary by a few bytes
		if m, ok := fits(subject, size); ok {
			return m
		}
	}
	t.Fatalf("no message of about %d bytes of data could be published under %d", lo, limit)
	return nil
}
