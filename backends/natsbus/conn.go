package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func init() {
	bus.Register("nats", openURL)
	bus.Register("jetstream", openURL)
}

// openURL is the bus.OpenFunc for nats:// and jetstream:// URLs: the
// parameters from the URL, credentials and TLS from the environment.
func openURL(ctx context.Context, u *url.URL) (driver.Conn, error) {
	cfg, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	tlsFirst := cfg.Auth.TLSFirst
	cfg.Auth = AuthFromEnv()
	cfg.Auth.TLSFirst = cfg.Auth.TLSFirst || tlsFirst
	return Open(ctx, cfg)
}

// defaultRequestTimeout bounds a request whose context has no deadline.
const defaultRequestTimeout = 30 * time.Second

// Conn is a connection to NATS, core or JetStream; it implements
// driver.Conn, driver.Requester, driver.BatchPublisher,
// driver.Deduplicator and driver.Aser. Wrap it with bus.New.
type Conn struct {
	cfg   Config
	nc    *nats.Conn
	owned bool // we dialed nc, so we close it
	log   *slog.Logger

	js     jetstream.JetStream // nil for core
	stream *streamInfo         // the configured stream; nil for core or none
	routes *routes             // which stream captures a subject; nil for core

	subs    driver.Set[driver.Subscription] // live subscriptions, drained by Close
	closing atomic.Bool                     // Close began: no new subscriptions
	closed  atomic.Bool                     // subscriptions drained: publishes fail
	close   driver.Once

	liveMu sync.Mutex
	live   map[endable]struct{} // the subscriptions of subs, to end them

	groupsMu sync.Mutex
	groups   map[string]*jsConsumer // each group's consumer, by stream and group

	status     chan nats.Status // the connection's CLOSED events
	statusDone sync.WaitGroup

	onEvent    atomic.Pointer[func(driver.ConnEvent)] // see SetConnEventHandler
	userStatus atomic.Pointer[chan nats.Status]       // a user conn's status, followed for onEvent
}

// endable is a subscription that can end on its own (driver.Ender).
type endable interface {
	driver.Subscription
	endWith(err error)
}

// Open connects as cfg says (or adopts cfg.Conn) and, for JetStream,
// creates or verifies the stream.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg, log: cfg.Logger, live: map[endable]struct{}{}, groups: map[string]*jsConsumer{}}
	if cfg.Conn != nil {
		c.nc = cfg.Conn
	} else {
		nc, err := c.dial()
		if err != nil {
			return nil, err
		}
		c.nc, c.owned = nc, true
	}
	if cfg.JetStream != nil {
		if err := c.openJetStream(ctx); err != nil {
			c.closeNATS()
			return nil, err
		}
	}
	c.watchConnection()
	return c, nil
}

// watchConnection ends every subscription when the connection closes for
// good without Close (nats.go gave up reconnecting, or the user closed a
// connection they passed in): their Done closes, and Err wraps
// driver.ErrClosed and nats.ErrConnectionClosed.
func (c *Conn) watchConnection() {
	c.status = c.nc.StatusChanged(nats.CLOSED)
	c.statusDone.Add(1)
	go func() {
		defer c.statusDone.Done()
		for range c.status {
			if c.closing.Load() {
				continue // our own Close
			}
			err := fmt.Errorf("%w: the connection to NATS closed for good (last error: %v): %w",
				driver.ErrClosed, c.nc.LastError(), nats.ErrConnectionClosed)
			c.log.Error("natsbus: connection closed; every subscription ends", "error", err)
			c.liveMu.Lock()
			subs := slices.Collect(maps.Keys(c.live))
			c.liveMu.Unlock()
			for _, s := range subs {
				s.endWith(err)
			}
		}
	}()
}

// addSub registers a new subscription, or fails with driver.ErrClosed
// once Close began.
func (c *Conn) addSub(s endable) error {
	return c.subs.Add(s, func() {
		c.liveMu.Lock()
		c.live[s] = struct{}{}
		c.liveMu.Unlock()
	})
}

// removeSub forgets a drained or ended subscription.
func (c *Conn) removeSub(s endable) {
	c.subs.Remove(s)
	c.liveMu.Lock()
	delete(c.live, s)
	c.liveMu.Unlock()
}

func (c *Conn) dial() (*nats.Conn, error) {
	opts, err := c.cfg.Auth.options()
	if err != nil {
		return nil, err
	}
	cfg, log := c.cfg, c.log
	opts = append(opts, nats.Name(cfg.Name),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil && nc.IsClosed() {
				return // our own Close; the closed handler logs it
			}
			log.Warn("natsbus: disconnected", "server", redactServers(nc.ConnectedUrl()), "error", err)
			c.emit(driver.ConnDisconnected, nc, err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("natsbus: reconnected", "server", redactServers(nc.ConnectedUrl()))
			c.emit(driver.ConnReconnected, nc, nil)
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			log.Debug("natsbus: connection closed", "error", nc.LastError())
			c.emit(driver.ConnClosed, nc, nc.LastError())
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			args := []any{"error", err}
			if sub != nil {
				args = append(args, "subject", sub.Subject)
			}
			log.Error("natsbus: asynchronous error", args...)
			c.emit(driver.ConnError, nc, err)
		}),
		nats.LameDuckModeHandler(func(nc *nats.Conn) {
			log.Warn("natsbus: server entering lame duck mode; will reconnect elsewhere", "server", redactServers(nc.ConnectedUrl()))
			c.emit(driver.ConnLameDuck, nc, nil)
		}),
	)
	if cfg.ConnectTimeout > 0 {
		opts = append(opts, nats.Timeout(cfg.ConnectTimeout))
	}
	if cfg.ReconnectWait > 0 {
		opts = append(opts, nats.ReconnectWait(cfg.ReconnectWait))
	}
	if cfg.MaxReconnects != 0 {
		opts = append(opts, nats.MaxReconnects(cfg.MaxReconnects))
	}
	if cfg.ReconnectBufSize != 0 {
		opts = append(opts, nats.ReconnectBufSize(cfg.ReconnectBufSize))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect to %s: %w", redactServers(cfg.URL), redactErr(err, string(c.cfg.Auth.Password), string(c.cfg.Auth.Token)))
	}
	log.Debug("natsbus: connected", "server", redactServers(nc.ConnectedUrl()), "server_version", nc.ConnectedServerVersion())
	return nc, nil
}

// serverAtLeast reports whether the connected server's version is at least
// major.minor.patch; an unknown version counts as recent.
func (c *Conn) serverAtLeast(major, minor, patch int) bool {
	var v [3]int
	if n, _ := fmt.Sscanf(c.nc.ConnectedServerVersion(), "%d.%d.%d", &v[0], &v[1], &v[2]); n < 2 {
		return true
	}
	return slices.Compare(v[:], []int{major, minor, patch}) >= 0
}

// MaxPayload returns the server's max_payload: the largest message,
// headers included, that a core publish may send.
func (c *Conn) MaxPayload() int { return int(c.nc.MaxPayload()) }

// As implements driver.Aser: *nats.Conn, and for JetStream also
// jetstream.JetStream and jetstream.Stream.
func (c *Conn) As(target any) bool {
	switch t := target.(type) {
	case **nats.Conn:
		*t = c.nc
	case *jetstream.JetStream:
		if c.js == nil {
			return false
		}
		*t = c.js
	case *jetstream.Stream:
		if c.stream == nil {
			return false
		}
		*t = c.stream.handle
	default:
		return false
	}
	return true
}

func (c *Conn) isClosed() bool { return c.closed.Load() }

// Close drains the subscriptions that remain, flushes buffered publishes
// and closes the connection (unless the user passed it in, in which case
// it is flushed and left open). New subscriptions are refused from the
// moment Close begins; publishing works until every subscription has
// drained, so handlers finishing during Close can still publish (a
// dead-letter copy, a follow-up event). Close returns by ctx's deadline,
// also with the server unreachable (every call on its path is bounded by
// ctx); without a deadline on ctx it is bounded by DrainTimeout. A second
// Close waits for the first (bounded by its own ctx) and returns the
// first's result.
func (c *Conn) Close(ctx context.Context) error {
	c.closing.Store(true)
	return c.close.Do(ctx, "close", c.doClose)
}

func (c *Conn) doClose(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, c.cfg.DrainTimeout)
	defer cancel()
	subs, _ := c.subs.Close()
	err := driver.DrainAll(ctx, subs)
	c.closed.Store(true)
	if c.js != nil {
		c.waitAsyncPublishes(ctx)
	}
	if !c.nc.IsClosed() {
		if ferr := c.flush(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = errors.Join(err, fmt.Errorf("natsbus: flush on close: %w", ferr))
		}
	}
	if c.js != nil && !c.owned {
		// The async-publish reply subscription and its status listener live on
		// the user's connection; remove them.
		c.js.CleanupPublisher()
	}
	c.closeNATS()
	c.nc.RemoveStatusListener(c.status)
	c.stopUserEvents()
	c.statusDone.Wait()
	return err
}

// flush waits until the server has everything published so far, bounded
// by ctx or, without a deadline, by DrainTimeout.
func (c *Conn) flush(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, c.cfg.DrainTimeout)
	defer cancel()
	return c.nc.FlushWithContext(ctx)
}

func (c *Conn) closeNATS() {
	if c.owned {
		c.nc.Close()
	}
}

// Deduplicates implements driver.Deduplicator: JetStream connections
// send the bus's dedup id as Nats-Msg-Id.
func (c *Conn) Deduplicates() bool { return c.js != nil }

// PublishCopies implements driver.PublishCopier: Publish (core and
// JetStream) and Request return once nats.go has written the subject,
// headers and data into its buffer (a request's header block is
// serialised before it is sent), and keep no reference to the message.
func (c *Conn) PublishCopies() bool { return true }
