package driver

import (
	"context"
	"errors"
	"sync"
)

// DrainAll drains subs concurrently, each bounded by ctx, and returns their
// errors joined. Backends use it to close every subscription of a
// connection at once.
func DrainAll[S interface{ Drain(context.Context) error }](ctx context.Context, subs []S) error {
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() { errs[i] = s.Drain(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
