package bus_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message that fails for good but is too large to carry the dead-letter
// headers is terminated and logged, not redelivered forever.
func TestTooLargeToDeadLetterIsTerminated(t *testing.T) {
	ctx := context.Background()
	logs := &syncbuf.Buffer{}
	b, err := bus.Open(ctx, "mem://?max_payload=800", bus.Logger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(ctx) })

	var mu sync.Mutex
	var seen []string
	sentinel := make(chan struct{})
	_, err = b.Subscribe(ctx, "big.work", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		mu.Lock()
		seen = append(seen, m.Event.Type)
		mu.Unlock()
		if m.Event.Type == "sentinel.v1" {
			close(sentinel)
			return nil
		}
		return bus.Permanent(errors.New("cannot process"))
	}), bus.DeadLetter("big.dead"), bus.RetryBackoff(nil))
	require.NoError(t, err)

	// Fill the message to just under the limit with its own headers.
	big := bus.NewMessage("big.work", "big.v1", nil)
	for size := 700; ; size-- {
		big.Event.Data = bytes.Repeat([]byte("x"), size)
		big.Event.ID = ""
		if err = b.Publish(ctx, big); err == nil {
			break
		}
		require.ErrorIs(t, err, bus.ErrPayloadTooLarge)
	}
	require.NoError(t, b.Publish(ctx, bus.NewMessage("big.work", "sentinel.v1", nil)))
	<-sentinel
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"big.v1", "sentinel.v1"}, seen, "handled once, never redelivered")
	assert.Contains(t, logs.String(), "dead-letter publish failed")
	assert.Contains(t, logs.String(), "payload too large")
	assert.Contains(t, logs.String(), "terminated")
}

// A responder whose reply cannot be sent still answers with its error, so
// the requester does not wait for its deadline.
func TestFailedRespondStillAnswers(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, "mem://?max_payload=2000")
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(ctx) })
	_, err = b.Subscribe(ctx, "svc.big", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		return m.Respond(ctx, bus.NewMessage("", "reply.v1", make([]byte, 4000)))
	}))
	require.NoError(t, err)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = b.Request(rctx, bus.NewMessage("svc.big", "req.v1", nil))
	var remote *bus.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Contains(t, remote.Reason, "too large")
	assert.NoError(t, rctx.Err(), "answered before the deadline")
}

func TestRequestTimeoutWrapsErrTimeout(t *testing.T) {
	b := openMem(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	_, err := b.Subscribe(context.Background(), "svc.slow", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		close(arrived)
		<-release // never answers in time
		return nil
	}))
	require.NoError(t, err)
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Request(ctx, bus.NewMessage("svc.slow", "req.v1", nil))
		errc <- err
	}()
	<-arrived
	cancel()
	err = <-errc
	assert.ErrorIs(t, err, bus.ErrTimeout)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestDeadLetterSubjectInsideOwnPatternRefused: a subscription whose
// pattern matches its own dead-letter subject would receive each dead
// letter back; a malformed message then looped (12,734 copies in 300 ms
// on mem). Refused at Subscribe.
func TestDeadLetterSubjectInsideOwnPatternRefused(t *testing.T) {
	b, err := bus.Open(t.Context(), "mem://", quiet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	h := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	for _, p := range []string{">", "dl.*", "dl.x"} {
		_, err := b.Subscribe(t.Context(), p, h, bus.DeadLetter("dl.x"))
		require.ErrorIs(t, err, bus.ErrInvalidSubject, p)
		assert.ErrorContains(t, err, "would come back", p)
	}
	_, err = b.Subscribe(t.Context(), "work.>", h, bus.DeadLetter("dl.x"))
	assert.NoError(t, err)
}
