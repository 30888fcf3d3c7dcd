package natsbus_test

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/require"
)

// Test infrastructure of core_test.go: a log buffer and a TCP gate.

// coreTestLog is a slog destination that tests can read while the
// connection's callbacks write to it.
type coreTestLog struct{ syncbuf.Buffer }

func (l *coreTestLog) has(s string) bool { return strings.Contains(l.String(), s) }

func (l *coreTestLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// coreTestGate is a TCP forwarder to a server whose gate can be closed:
// while it is, new client connections are accepted but not forwarded.
type coreTestGate struct {
	ln     net.Listener
	target string
	done   chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	open  chan struct{} // closed while the gate is open
	conns map[net.Conn]struct{}
}

func coreTestStartGate(t *testing.T, target string) *coreTestGate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := &coreTestGate{ln: ln, target: target, done: make(chan struct{}), open: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(g.open)
	g.wg.Go(g.accept)
	t.Cleanup(g.stop)
	return g
}

func (g *coreTestGate) addr() string { return g.ln.Addr().String() }

// hold makes new connections wait; release lets them through.
func (g *coreTestGate) hold() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *coreTestGate) release() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

func (g *coreTestGate) track(c net.Conn, add bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if add {
		g.conns[c] = struct{}{}
	} else {
		delete(g.conns, c)
	}
}

func (g *coreTestGate) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.track(c, true)
		g.wg.Go(func() { g.forward(c) })
	}
}

func (g *coreTestGate) forward(c net.Conn) {
	defer func() { _ = c.Close(); g.track(c, false) }()
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	case <-g.done:
		return
	}
	up, err := net.Dial("tcp", g.target)
	if err != nil {
		return
	}
	g.track(up, true)
	defer func() { _ = up.Close(); g.track(up, false) }()
	g.wg.Go(func() { _, _ = io.Copy(up, c); _ = up.Close(); _ = c.Close() })
	_, _ = io.Copy(c, up)
}

// stop closes the listener and every connection and waits for the
// forwarding goroutines.
func (g *coreTestGate) stop() {
	close(g.done)
	_ = g.ln.Close()
	g.mu.Lock()
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
