package membus

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Defaults for Options fields left zero.
const (
	// DefaultBuffer is the default capacity, in messages, of each
	// subscription's queue.
	DefaultBuffer = 65536
	// DefaultMaxPayload is the default limit on headers plus body, in bytes:
	// the NATS server's default max_payload (1 MiB).
	DefaultMaxPayload = 1 << 20
)

// FullPolicy says what Publish does when a subscription's queue is full.
// Messages are never dropped silently.
type FullPolicy int

const (
	// Block makes Publish wait for room, or until its context ends or the
	// connection or subscription closes. It is the default.
	Block FullPolicy = iota
	// Error makes Publish fail at once with an error wrapping
	// driver.ErrBufferFull.
	Error
)

// String returns "block" or "error", the values of the URL parameter full.
func (p FullPolicy) String() string {
	switch p {
	case Block:
		return "block"
	case Error:
		return "error"
	}
	return "FullPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Options configures a Conn. The zero value is valid: a private broker with
// default limits.
type Options struct {
	// Name selects a shared in-process broker: every Conn opened with the
	// same non-empty Name talks to the same broker while at least one of them
	// is open. An empty Name gives the Conn a private broker.
	Name string
	// Buffer is the capacity, in messages, of the queue of each subscription
	// made through this Conn; 0 means DefaultBuffer.
	Buffer int
	// Full is what Publish through this Conn does when a queue is full.
	Full FullPolicy
	// MaxPayload limits the NATS wire size of headers plus body of messages
	// published through this Conn; 0 means DefaultMaxPayload.
	MaxPayload int
}

func (o Options) withDefaults() (Options, error) {
	if o.Buffer < 0 {
		return o, fmt.Errorf("membus: negative Buffer %d", o.Buffer)
	}
	if o.MaxPayload < 0 {
		return o, fmt.Errorf("membus: negative MaxPayload %d", o.MaxPayload)
	}
	if o.Full != Block && o.Full != Error {
		return o, fmt.Errorf("membus: unknown %v", o.Full)
	}
	if o.Buffer == 0 {
		o.Buffer = DefaultBuffer
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	return o, nil
}

// Scheme is the URL scheme of this backend.
const Scheme = "mem"

var urlParams = []string{"buffer", "full", "max_payload"}

// OpenURL opens a Conn from a URL: "mem://" for a private broker or
// "mem://NAME" for the shared broker named NAME. Query parameters:
// buffer=N (Options.Buffer), full=block|error (Options.Full) and
// max_payload=N (Options.MaxPayload). Any other parameter, a repeated
// parameter, a path other than "/", a port, user info or a fragment is an
// error.
func OpenURL(u *url.URL) (*Conn, error) {
	opts, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	return Open(opts)
}

func parseURL(u *url.URL) (Options, error) {
	var o Options
	switch {
	case u.Scheme != Scheme:
		return o, fmt.Errorf("membus: URL scheme %q is not %q", u.Scheme, Scheme)
	case u.Opaque != "":
		return o, fmt.Errorf("membus: URL: want mem://NAME")
	case u.User != nil, u.Port() != "":
		return o, fmt.Errorf("membus: URL: user info and port are not supported")
	case u.Path != "" && u.Path != "/":
		return o, fmt.Errorf("membus: URL: unexpected path %q", u.Path)
	case u.Fragment != "":
		return o, fmt.Errorf("membus: URL: unexpected fragment")
	}
	o.Name = u.Hostname()
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return o, fmt.Errorf("membus: URL: %w", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return o, fmt.Errorf("membus: URL parameter %q given %d times", k, len(vs))
		}
		if err := o.setParam(k, vs[0]); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *Options) setParam(k, v string) error {
	var err error
	switch k {
	case "buffer":
		o.Buffer, err = positiveParam(k, v)
	case "max_payload":
		o.MaxPayload, err = positiveParam(k, v)
	case "full":
		switch v {
		case "block":
			o.Full = Block
		case "error":
			o.Full = Error
		default:
			err = fmt.Errorf("membus: URL parameter full=%q: want block or error", v)
		}
	default:
		err = fmt.Errorf("membus: unknown URL parameter %q (accepted: %s)",
			k, strings.Join(urlParams, ", "))
	}
	return err
}

func positiveParam(k, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("membus: URL parameter %s=%q: want a positive integer", k, v)
	}
	return n, nil
}
