package embedded

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrNotReady is returned when a server does not accept connections within
// Options.ReadyTimeout, or a cluster does not elect a JetStream leader
// within that or 30 seconds, whichever is longer.
var ErrNotReady = errors.New("embedded: server not ready")

// Options configures an embedded server. The zero value is a server on
// 127.0.0.1, on a random port, with JetStream on a temporary store
// directory.
type Options struct {
	// Name is the server name (required to be unique inside a cluster);
	// default: chosen by nats-server.
	Name string
	// Host to listen on; default 127.0.0.1.
	Host string
	// Port to listen on; 0 means a random free port. The default never
	// binds 4222, where a machine may already run a NATS server.
	Port int
	// StoreDir is the JetStream store directory; empty means a temporary
	// directory that Stop removes.
	StoreDir string
	// NoJetStream turns JetStream off.
	NoJetStream bool
	// SyncAlways makes the file store fsync every write before it is
	// acknowledged (nats-server's sync_interval: always). Slower; without
	// it an acknowledged write can be lost on power failure (it is still
	// kept across a process crash).
	SyncAlways bool
	// ReadyTimeout bounds how long Start waits for the server; default 10s.
	ReadyTimeout time.Duration
	// Configure, when set, is called with the nats-server options just
	// before the server is created: for authorization, TLS, limits and
	// anything else Options does not cover. It is called again on Restart
	// with a fresh value.
	Configure func(*server.Options)
}

// Server is a running embedded nats-server.
type Server struct {
	mu     sync.Mutex
	opts   Options
	ns     *server.Server
	tmpDir bool
}

// Start starts a server and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	s := &Server{opts: opts}
	if !opts.NoJetStream && opts.StoreDir == "" {
		dir, err := tempStore(serverTempPrefix)
		if err != nil {
			return nil, fmt.Errorf("embedded: store directory: %w", err)
		}
		s.opts.StoreDir, s.tmpDir = dir, true
	}
	if err := s.start(); err != nil {
		s.removeTemp()
		return nil, err
	}
	return s, nil
}

// serverOptions builds a fresh nats-server options value: NewServer keeps
// and mutates the one it is given, so a restart must not reuse it.
func (s *Server) serverOptions() *server.Options {
	o := &server.Options{
		ServerName: s.opts.Name,
		Host:       s.opts.Host,
		Port:       s.opts.Port,
		JetStream:  !s.opts.NoJetStream,
		StoreDir:   s.opts.StoreDir,
		SyncAlways: s.opts.SyncAlways,
		NoLog:      true,
		NoSigs:     true,
	}
	if o.Port == 0 {
		o.Port = server.RANDOM_PORT
	}
	if s.opts.Configure != nil {
		s.opts.Configure(o)
	}
	return o
}

func (s *Server) start() error {
	ns, err := server.NewServer(s.serverOptions())
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	fatal := fatalLogger(make(chan string, 1))
	ns.SetLoggerV2(fatal, false, false, false)
	go ns.Start()
	if err := waitReady(ns, fatal, s.opts.ReadyTimeout); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return err
	}
	if addr, ok := ns.Addr().(*net.TCPAddr); ok && s.opts.Port == 0 {
		s.opts.Port = addr.Port // a restart comes back on the same port
	}
	s.ns = ns
	return nil
}

// waitReady waits until ns accepts connections, failing at once with the
// cause when the server reports a fatal error (a port in use, a store
// directory it cannot write), or after timeout.
func waitReady(ns *server.Server, fatal fatalLogger, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-fatal:
			return fmt.Errorf("%w: %s", ErrNotReady, msg)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: no client connections within %s", ErrNotReady, timeout)
		}
	}
	return nil
}

// fatalLogger is the embedded server's logger: silent, except that it
// hands the first fatal error to waitReady. (nats-server only logs fatal
// start-up errors, and its own logger would exit the process.)
type fatalLogger chan string

func (l fatalLogger) Fatalf(format string, v ...any) {
	select {
	case l <- fmt.Sprintf(format, v...):
	default:
	}
}

func (fatalLogger) Noticef(string, ...any) {}
func (fatalLogger) Warnf(string, ...any)   {}
func (fatalLogger) Errorf(string, ...any)  {}
func (fatalLogger) Debugf(string, ...any)  {}
func (fatalLogger) Tracef(string, ...any)  {}

// URL is the client URL, nats://host:port.
func (s *Server) URL() string { return "nats://" + s.Addr() }

// Addr is the client address, host:port, for building nats:// and
// jetstream:// URLs.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
}

// StoreDir is the JetStream store directory.
func (s *Server) StoreDir() string { return s.opts.StoreDir }

// NATS returns the running nats-server, for what this package does not
// wrap (monitoring, JetStream state, in-process connections). It changes
// on Restart.
func (s *Server) NATS() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ns
}

// Shutdown stops the server and waits until it has stopped, keeping its
// store directory, so that Restart can bring it back. It is a no-op when
// the server is already down.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
}

// Restart starts the server again (after Shutdown, or stops it first) on
// the same address and store directory.
func (s *Server) Restart() error {
	s.Shutdown()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.start()
}

// Stop shuts the server down and removes its store directory when Start
// created it. It is safe to call more than once.
func (s *Server) Stop() {
	s.Shutdown()
	s.removeTemp()
}

func (s *Server) removeTemp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tmpDir {
		_ = os.RemoveAll(s.opts.StoreDir)
		s.tmpDir = false
	}
}
