package bus

import "github.com/busway/busway/bus/driver"

// ConnectionEvent is a connection state change reported by the backend:
// its Kind, the Server (URL, credentials redacted), the Err that came with
// it and the Time.
type ConnectionEvent = driver.ConnEvent

// Kinds of ConnectionEvent.
const (
	ConnDisconnected = driver.ConnDisconnected // lost the server; reconnecting
	ConnReconnected  = driver.ConnReconnected  // connected again
	ConnLameDuck     = driver.ConnLameDuck     // the server is shutting down; moving elsewhere
	ConnClosed       = driver.ConnClosed       // the connection closed for good
	ConnError        = driver.ConnError        // asynchronous error (slow consumer, permissions)
)

// OnConnectionEvent sets a function called for each connection state
// change (disconnected, reconnected, lame duck, closed, asynchronous
// errors such as a slow consumer), besides the backend's log line. It runs
// on the backend's goroutine: return quickly. Backends without a
// connection (mem) never call it; see each backend for what it reports
// (NATS: on a connection the user passed in, only what
// nats.Conn.StatusChanged shows).
func OnConnectionEvent(fn func(ConnectionEvent)) Option {
	return func(c *config) { c.onConn = fn }
}

// wireConnEvents hands the callback to the backend.
func (b *Bus) wireConnEvents() {
	if b.cfg.onConn == nil {
		return
	}
	if src, ok := b.conn.(driver.ConnEventSource); ok {
		src.SetConnEventHandler(b.cfg.onConn)
	}
}
