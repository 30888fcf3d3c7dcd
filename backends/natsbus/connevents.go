package natsbus

import (
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
)

// SetConnEventHandler implements driver.ConnEventSource. On a connection
// natsbus dialed, every nats.go connection handler (disconnect,
// reconnect, lame duck, closed, asynchronous error such as a slow
// consumer) reports to fn besides its log line. On a connection the user
// passed in (Config.Conn) natsbus leaves the user's handlers alone and
// follows nats.Conn.StatusChanged instead: fn gets disconnected,
// reconnected and closed (no lame-duck or asynchronous-error events; the
// user's own handlers see those), until Close.
func (c *Conn) SetConnEventHandler(fn func(driver.ConnEvent)) {
	c.onEvent.Store(&fn)
	if c.owned || fn == nil {
		return
	}
	ch := c.nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CONNECTED, nats.CLOSED)
	c.userStatus.Store(&ch)
	c.statusDone.Add(1)
	go func() {
		defer c.statusDone.Done()
		for st := range ch {
			kind := map[nats.Status]driver.ConnEventKind{
				nats.DISCONNECTED: driver.ConnDisconnected,
				nats.RECONNECTING: driver.ConnDisconnected, // lost, and reconnecting
				nats.CONNECTED:    driver.ConnReconnected,
				nats.CLOSED:       driver.ConnClosed,
			}[st]
			var err error
			if st != nats.CONNECTED {
				err = c.nc.LastError()
			}
			c.emit(kind, c.nc, err)
		}
	}()
}

// emit reports a connection event to the handler, if one is set.
func (c *Conn) emit(kind driver.ConnEventKind, nc *nats.Conn, err error) {
	fn := c.onEvent.Load()
	if fn == nil || *fn == nil {
		return
	}
	(*fn)(driver.ConnEvent{Kind: kind, Server: redactServers(nc.ConnectedUrl()), Err: err, Time: time.Now()})
}

// stopUserEvents stops following a user connection's status (Close).
func (c *Conn) stopUserEvents() {
	if ch := c.userStatus.Load(); ch != nil {
		c.nc.RemoveStatusListener(*ch)
	}
}
