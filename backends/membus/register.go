package membus

import (
	"context"
	"net/url"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
)

func init() {
	bus.Register(Scheme, func(_ context.Context, u *url.URL) (driver.Conn, error) {
		return OpenURL(u)
	})
}
