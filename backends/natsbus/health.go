package natsbus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// healthTimeout bounds a health check whose context has no deadline.
const healthTimeout = 5 * time.Second

// Health implements driver.HealthChecker: nil when the connection is
// connected and, on JetStream, the server answers JetStream API calls and
// the configured stream exists. Each check is one round trip, bounded by
// ctx (and by the request timeout without a deadline).
func (c *Conn) Health(ctx context.Context) error {
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("natsbus: not connected to NATS (%s, last error: %v)", st, c.nc.LastError())
	}
	if c.js == nil {
		return nil
	}
	ctx, cancel := withDefaultTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := c.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("natsbus: JetStream unreachable: %w", err)
	}
	if c.stream != nil {
		if _, err := c.js.Stream(ctx, c.stream.name); err != nil {
			return fmt.Errorf("natsbus: stream %q: %w", c.stream.name, err)
		}
	}
	return nil
}

// Health implements driver.HealthChecker for a JetStream subscription:
// nil while its consumer exists on the server.
func (s *jsSub) Health(ctx context.Context) error {
	s.owner.mu.Lock()
	h, name := s.owner.handle, s.owner.name
	s.owner.mu.Unlock()
	if h == nil {
		return fmt.Errorf("natsbus: consumer %q not created", name)
	}
	ctx, cancel := withDefaultTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := h.Info(ctx); err != nil {
		return fmt.Errorf("natsbus: consumer %q: %w", name, err)
	}
	return nil
}
