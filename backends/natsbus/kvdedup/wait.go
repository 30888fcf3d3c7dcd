package kvdedup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/busway/busway/middleware"
	"github.com/nats-io/nats.go/jetstream"
)

// wait watches key k, held by another copy, until it is done (handled),
// deleted (rev 0: claim again), or its lease expired and this store took
// it over (rev: the new lease's revision).
func (s *Store) wait(ctx context.Context, k string) (handled bool, rev uint64, err error) {
	w, err := s.kv.Watch(ctx, k)
	if err != nil {
		return false, 0, fmt.Errorf("kvdedup: watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var expiry *time.Timer
	var seen jetstream.KeyValueEntry
	defer func() {
		if expiry != nil {
			expiry.Stop()
		}
	}()
	for {
		var expired <-chan time.Time
		if expiry != nil {
			expired = expiry.C
		}
		select {
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				return false, 0, errors.New("kvdedup: watch ended")
			case e == nil: // the initial values are all delivered
				if seen == nil {
					return false, 0, nil // gone before the watch began
				}
				continue
			case e.Operation() != jetstream.KeyValuePut:
				return false, 0, nil
			case string(e.Value()) == done:
				return true, 0, nil
			}
			seen = e
			if expiry != nil {
				expiry.Stop()
			}
			expiry = time.NewTimer(time.Until(e.Created().Add(s.lease)))
		case <-expired:
			expiry = nil
			r, err := s.kv.Update(ctx, k, []byte(inProgress), seen.Revision())
			if err == nil {
				return false, r, nil
			}
			if !isWrongRevision(err) && !errors.Is(err, jetstream.ErrKeyExists) {
				return false, 0, fmt.Errorf("kvdedup: take over an expired lease: %w", err)
			}
			// another instance wrote it since: the watch reports what
		case <-ctx.Done():
			return false, 0, fmt.Errorf("%w: %w", middleware.ErrDedupInFlight, context.Cause(ctx))
		}
	}
}
