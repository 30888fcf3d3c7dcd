package bus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/busway/busway/bus/driver"
)

// OpenFunc opens a backend connection from a URL. The URL's query holds
// only the backend's own parameters (the bus-level ones, format and source,
// are removed first); a backend must reject any parameter it does not know.
type OpenFunc func(ctx context.Context, u *url.URL) (driver.Conn, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]OpenFunc{}
)

// Register makes a backend available to Open under a URL scheme. Backends
// call it from init. It panics when open is nil or the scheme is taken, as
// database/sql's Register does.
func Register(scheme string, open OpenFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if open == nil {
		panic("busway: Register open func is nil for scheme " + scheme)
	}
	if _, dup := registry[scheme]; dup {
		panic("busway: Register called twice for scheme " + scheme)
	}
	registry[scheme] = open
}

func registered(scheme string) bool {
	registryMu.RLock()
	defer registryMu.RUnlock()
	_, ok := registry[scheme]
	return ok
}

// DefaultScheme is the scheme Open uses for an empty URL, when a backend
// registered it: package github.com/busway/busway/backends/natsbus/embedded
// does, with an in-process NATS server.
const DefaultScheme = "embedded"

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for s := range registry {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Open opens a Bus from a URL such as "mem://", "nats://host:4222" or
// "jetstream://host:4222?stream=ORDERS". The scheme picks the backend,
// which must have been registered, usually by importing its package for
// its side effect:
//
//	import _ "github.com/busway/busway/backends/membus"
//
// Two query parameters belong to the bus on every backend:
// format=binary|structured (the CloudEvents content mode for publishing,
// default binary) and source=URI-reference (see WithSource); options given
// to Open win over them. Any other parameter goes to the backend, which
// rejects those it does not know. Errors never include credentials from
// the URL.
//
// An empty URL means DefaultScheme ("embedded://", an in-process NATS
// server with JetStream) when package
// github.com/busway/busway/backends/natsbus/embedded is imported, and is an
// error otherwise.
func Open(ctx context.Context, rawURL string, opts ...Option) (Bus, error) {
	if rawURL == "" {
		if !registered(DefaultScheme) {
			return nil, fmt.Errorf("%w: no bus URL configured; set one (mem://, nats://host:4222, jetstream://host:4222?stream=NAME) or import %q for an in-process NATS server as the default",
				ErrInvalidURL, "github.com/busway/busway/backends/natsbus/embedded")
		}
		rawURL = DefaultScheme + "://"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse the bus URL (%s)", ErrInvalidURL, redactParseError(err, rawURL))
	}
	registryMu.RLock()
	open, ok := registry[u.Scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q in %s; registered: %s (forgotten import of the backend package, e.g. _ \"github.com/busway/busway/backends/%sbus\"?)",
			ErrUnknownScheme, u.Scheme, Redact(u), strings.Join(Schemes(), ", "), u.Scheme)
	}
	busOpts, err := takeBusParams(u)
	if err != nil {
		return nil, err
	}
	conn, err := open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("busway: open %s: %w", Redact(u), err)
	}
	return newBus(conn, append(busOpts, opts...)...), nil
}

// takeBusParams removes the bus-level query parameters from u and returns
// them as options.
func takeBusParams(u *url.URL) ([]Option, error) {
	q := u.Query()
	var opts []Option
	switch f := q.Get("format"); f {
	case "", "binary":
	case "structured":
		opts = append(opts, WithStructured())
	default:
		return nil, fmt.Errorf("%w: format=%q; want binary or structured", ErrInvalidURL, f)
	}
	if src := q.Get("source"); src != "" {
		opts = append(opts, WithSource(src))
	}
	q.Del("format")
	q.Del("source")
	u.RawQuery = q.Encode()
	return opts, nil
}

// secretParams are query parameter names whose values Redact hides.
var secretParams = []string{"password", "pass", "token", "nkey", "seed", "creds", "secret", "jwt", "key"}

// Redact returns u as a string with credentials hidden: the user info
// (user, password, or a token in the user position) and the values of
// query parameters that look like secrets. Use it whenever a bus URL is
// logged or put in an error.
func Redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	q := c.Query()
	for k := range q {
		if slices.Contains(secretParams, strings.ToLower(k)) {
			q.Set(k, "REDACTED")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// redactParseError describes a URL parse failure without echoing a URL
// that may hold credentials: the parser's detail is kept only when the URL
// has no user info.
func redactParseError(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) && !strings.Contains(raw, "@") {
		return ue.Err.Error()
	}
	return "malformed URL; details hidden because it may hold credentials"
}
