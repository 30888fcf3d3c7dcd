package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
)

func init() {
	bus.Register("embedded", openURL)
	bus.RegisterDefault("embedded")
}

// shared holds the named servers of "embedded://NAME" URLs, with how many
// open connections use each.
var shared = struct {
	sync.Mutex
	servers map[string]*sharedServer
}{servers: map[string]*sharedServer{}}

type sharedServer struct {
	srv  *Server
	opts Options
	refs int
}

// openURL opens "embedded://?..." and "embedded://NAME?..." (and the empty
// URL): the server, then the jetstream backend when a stream is named, core
// NATS otherwise.
func openURL(ctx context.Context, u *url.URL) (driver.Conn, error) {
	if u.User != nil || u.Port() != "" {
		return nil, fmt.Errorf("embedded: want embedded:// or embedded://NAME, with parameters")
	}
	q := u.Query()
	opts, err := serverOptions(q)
	if err != nil {
		return nil, err
	}
	scheme := "nats"
	if q.Has("stream") {
		scheme = "jetstream"
	}
	srv, release, err := acquire(u.Host, opts)
	if err != nil {
		return nil, err
	}
	cfg, err := natsbus.ParseURL(&url.URL{Scheme: scheme, Host: srv.Addr(), RawQuery: q.Encode()})
	if err != nil {
		release()
		return nil, err
	}
	conn, err := natsbus.Open(ctx, cfg)
	if err != nil {
		release()
		return nil, err
	}
	slog.Info("busway: embedded NATS server", "url", srv.URL(), "jetstream_store", srv.StoreDir(), "backend", scheme)
	return &serverConn{Conn: conn, srv: srv, release: release}, nil
}

// serverOptions takes the embedded server's own parameters out of q.
func serverOptions(q url.Values) (Options, error) {
	var opts Options
	opts.StoreDir = q.Get("store")
	if p := q.Get("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return opts, fmt.Errorf("embedded: port=%q: want a port number", p)
		}
		opts.Port = n
	}
	q.Del("store")
	q.Del("port")
	return opts, nil
}

// acquire starts a private server (name empty) or shares the named one.
// release gives it back; the last release stops it.
func acquire(name string, opts Options) (*Server, func(), error) {
	if name == "" {
		srv, err := Start(opts)
		if err != nil {
			return nil, nil, err
		}
		return srv, srv.Stop, nil
	}
	shared.Lock()
	defer shared.Unlock()
	s := shared.servers[name]
	if s == nil {
		srv, err := Start(opts)
		if err != nil {
			return nil, nil, err
		}
		s = &sharedServer{srv: srv, opts: opts}
		shared.servers[name] = s
	} else if (opts.StoreDir != "" && opts.StoreDir != s.opts.StoreDir) || (opts.Port != 0 && opts.Port != s.opts.Port) {
		return nil, nil, fmt.Errorf("embedded: server %q is already running with other store/port settings", name)
	}
	s.refs++
	var once sync.Once
	return s.srv, func() {
		once.Do(func() {
			shared.Lock()
			defer shared.Unlock()
			if s.refs--; s.refs == 0 {
				delete(shared.servers, name)
				s.srv.Stop()
			}
		})
	}, nil
}

// serverConn is a backend connection that holds its embedded server.
type serverConn struct {
	*natsbus.Conn
	srv     *Server
	release func()
}

// Close closes the connection, then releases the server (stopping it when
// no other connection uses it).
func (c *serverConn) Close(ctx context.Context) error {
	err := c.Conn.Close(ctx)
	c.release()
	return err
}

// As gives access to the embedded *Server besides what natsbus.Conn
// offers.
func (c *serverConn) As(target any) bool {
	if p, ok := target.(**Server); ok {
		*p = c.srv
		return true
	}
	return c.Conn.As(target)
}
