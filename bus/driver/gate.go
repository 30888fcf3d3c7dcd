package driver

import "sync"

// Gate counts the handler calls a subscription is running and, once
// closed, lets no new one start: a client library may still call back
// after an unsubscribe or stop, and no handler may start after Drain
// returned. The zero value is an open gate.
type Gate struct {
	mu     sync.Mutex // orders Enter against Close
	closed bool
	wg     sync.WaitGroup
}

// Enter counts a handler call in, or reports false once the gate is
// closed; after true the caller must call Leave.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// Leave counts a handler call out.
func (g *Gate) Leave() { g.wg.Done() }

// CloseAndWait lets no new handler call in and waits for the running ones.
func (g *Gate) CloseAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
