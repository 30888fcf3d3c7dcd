package natsbus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream API calls (stream and consumer lookups and creation) are
// retried when the API does not answer: under load a request can go
// unanswered, and during a cluster's leader election nothing answers for a
// moment. Each attempt gets apiAttempt; the whole call ends with ctx, or
// after apiTotal when ctx has no deadline.
const (
	apiAttempt = 5 * time.Second
	apiTotal   = 30 * time.Second
	apiPause   = 100 * time.Millisecond
)

// apiRetry runs call until it returns something other than "no answer".
// call must be idempotent.
func apiRetry[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := withDefaultTimeout(ctx, apiTotal)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, apiAttempt)
		v, err := call(actx)
		acancel()
		if err == nil || !noAnswer(err) || ctx.Err() != nil {
			return v, err
		}
		t := time.NewTimer(apiPause)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
	}
}

// errNoPeers is the JetStream API error for "no suitable peers for
// placement": a replicated stream asked for while a peer is (still or
// momentarily) offline, as right after a cluster starts or during a
// rolling restart.
const errNoPeers jetstream.ErrorCode = 10005

// noAnswer reports whether err means the JetStream API did not answer
// (as opposed to answering with an error), or answered that it cannot
// place the stream yet; both pass.
func noAnswer(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.As(err, &apiErr) && apiErr.ErrorCode == errNoPeers
}
