package driver

import "context"

// HealthChecker is implemented by a Conn, or a Subscription, that can say
// whether it is ready for traffic: Health returns nil when it is, else an
// error saying why (not connected, JetStream unreachable, stream or
// consumer missing). It must return by ctx's deadline. A Conn without it
// is ready while open.
type HealthChecker interface {
	Health(ctx context.Context) error
}
