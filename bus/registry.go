package bus

import (
	"context"
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
	registryMu    sync.RWMutex
	registry      = map[string]OpenFunc{}
	defaultScheme string
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

// RegisterDefault makes Open use scheme for an empty URL. The backend
// package that provides the default calls it from init, after Register
// (the embedded NATS server's package does). It panics when scheme is not
// registered or another default was registered.
func RegisterDefault(scheme string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := registry[scheme]; !ok {
		panic("busway: RegisterDefault of unregistered scheme " + scheme)
	}
	if defaultScheme != "" && defaultScheme != scheme {
		panic("busway: RegisterDefault called for " + scheme + " after " + defaultScheme)
	}
	defaultScheme = scheme
}

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
// default binary) and source=URI-reference (see Source); options given to
// Open win over them. Any other parameter goes to the backend, which
// rejects those it does not know. Errors never include credentials from
// the URL.
//
// An empty URL means the default backend, when an imported package
// registered one with RegisterDefault (Busway's embedded NATS server
// does), and is an error otherwise.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Bus, error) {
	if rawURL == "" {
		registryMu.RLock()
		def := defaultScheme
		registryMu.RUnlock()
		if def == "" {
			return nil, fmt.Errorf("%w: no bus URL configured and no default backend registered; set a URL (mem://, nats://host:4222, jetstream://host:4222?stream=NAME) or import %q for an in-process NATS server as the default",
				ErrInvalidURL, knownBackends["embedded"])
		}
		rawURL = def + "://"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse the bus URL (%s)", ErrInvalidURL, redactParseError(err, rawURL))
	}
	registryMu.RLock()
	open, ok := registry[u.Scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q in %s; registered: %s (%s)",
			ErrUnknownScheme, u.Scheme, Redact(u), strings.Join(Schemes(), ", "), schemeHint(u.Scheme))
	}
	busOpts, err := takeBusParams(u)
	if err != nil {
		return nil, err
	}
	conn, err := open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("busway: open %s: %w", Redact(u), err)
	}
	return New(conn, append(busOpts, opts...)...), nil
}

// takeBusParams removes the bus-level query parameters from u and returns
// them as options. The other parameters stay as written.
func takeBusParams(u *url.URL) ([]Option, error) {
	var opts []Option
	var keep []string
	for _, p := range splitQuery(u.RawQuery) {
		k, v, _ := strings.Cut(p, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		switch k {
		case "format":
			switch v {
			case "", "binary":
			case "structured":
				opts = append(opts, Structured())
			default:
				return nil, fmt.Errorf("%w: format=%q; want binary or structured", ErrInvalidURL, v)
			}
		case "source":
			if v != "" {
				opts = append(opts, Source(v))
			}
		default:
			keep = append(keep, p)
		}
	}
	u.RawQuery = strings.Join(keep, "&")
	return opts, nil
}

func splitQuery(raw string) []string {
	if raw == "" {
		return nil
	}
	return strings.Split(raw, "&")
}
