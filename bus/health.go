package bus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/busway/busway/bus/driver"
)

// ErrNotReady is wrapped by Ready's error when the bus is open but not
// ready for traffic.
var ErrNotReady = errors.New("busway: not ready")

// Live reports whether the bus is alive: nil until it is closed, then
// ErrClosed. A liveness probe that fails makes an orchestrator restart the
// process, so it checks only what a restart would fix.
func (b *Bus) Live(ctx context.Context) error {
	if b.closing.Load() || b.isClosed() {
		return ErrClosed
	}
	return ctx.Err()
}

// Ready reports whether the bus is ready for traffic: it is open, the
// backend says it is healthy (NATS: connected; JetStream: reachable and
// its stream present; see driver.HealthChecker, a backend without it is
// ready while open), every subscription's backend side is healthy (for
// example its JetStream consumer exists), and no subscription ended on
// its own without being drained since. The error wraps ErrNotReady (or is
// ErrClosed) and says why.
func (b *Bus) Ready(ctx context.Context) error {
	if err := b.Live(ctx); err != nil {
		return err
	}
	if hc, ok := b.conn.(driver.HealthChecker); ok {
		if err := hc.Health(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrNotReady, err)
		}
	}
	var errs []error
	for _, s := range b.ended.Members() {
		errs = append(errs, fmt.Errorf("subscription %q (group %q) ended: %w", s.pattern, s.cfg.group, s.Err()))
	}
	for _, s := range b.subs.Members() {
		if hc, ok := s.ds.(driver.HealthChecker); ok {
			if err := hc.Health(ctx); err != nil {
				errs = append(errs, fmt.Errorf("subscription %q (group %q): %w", s.pattern, s.cfg.group, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return nil
}

// healthTimeout bounds a probe served by ReadyHandler or LiveHandler when
// the request has no earlier deadline.
const healthTimeout = 5 * time.Second

// ReadyHandler serves Ready over HTTP: 200 "ok", or 503 with the reason
// as text.
func (b *Bus) ReadyHandler() http.Handler { return healthHandler(b.Ready) }

// LiveHandler serves Live over HTTP: 200 "ok", or 503 with the reason as
// text.
func (b *Bus) LiveHandler() http.Handler { return healthHandler(b.Live) }

func healthHandler(check func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := check(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintln(w, err)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
}
