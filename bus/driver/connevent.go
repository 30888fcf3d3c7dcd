package driver

import "time"

// ConnEventKind is the kind of a connection state change.
type ConnEventKind string

// Connection state changes a backend reports.
const (
	ConnDisconnected ConnEventKind = "disconnected"
	ConnReconnected  ConnEventKind = "reconnected"
	ConnLameDuck     ConnEventKind = "lame_duck"
	ConnClosed       ConnEventKind = "closed"
	ConnError        ConnEventKind = "error" // an asynchronous error: slow consumer, permissions
)

// ConnEvent is one connection state change. Server is the server URL with
// any credentials redacted; Err is the error that came with it, if any.
type ConnEvent struct {
	Kind   ConnEventKind
	Server string
	Err    error
	Time   time.Time
}

// ConnEventSource is implemented by a Conn that reports connection state
// changes: it calls fn (from its own goroutines, not concurrently with
// itself for one event) for each change after SetConnEventHandler.
type ConnEventSource interface {
	SetConnEventHandler(fn func(ConnEvent))
}
