package natsbus

import "sync"

// inflight counts the handlers a subscription is running and, once
// closed, lets no new one start: nats.go may still call back after an
// unsubscribe or Stop, and no handler may start after Drain returned.
type inflight struct {
	mu     sync.Mutex // orders enter against close
	closed bool
	wg     sync.WaitGroup
}

// enter counts a handler in, or reports false once closed.
func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.wg.Add(1)
	return true
}

// done counts a handler out.
func (f *inflight) done() { f.wg.Done() }

// closeAndWait lets no new handler in and waits for the running ones.
func (f *inflight) closeAndWait() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
}
