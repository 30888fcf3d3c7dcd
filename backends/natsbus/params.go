package natsbus

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/busway/busway/bus"
)

// ErrCredentialsInURL is returned for a URL carrying a user, password or
// token: credentials come from Config.Auth or the environment, so that
// they never travel in configuration files, logs or error messages.
var ErrCredentialsInURL = errors.New("natsbus: credentials in the URL are not accepted; use Config.Auth or the NATS_* environment variables")

// param is one URL query parameter: its name, whether it is for JetStream
// only, and how it sets the config.
type param struct {
	name string
	js   bool
	set  func(c *Config, v string) error
}

// params is the URL parameter table (documented in doc.go).
var params = []param{
	{"name", false, func(c *Config, v string) error { c.Name = v; return nil }},
	{"connect_timeout", false, durationParam(func(c *Config) *time.Duration { return &c.ConnectTimeout })},
	{"reconnect_wait", false, durationParam(func(c *Config) *time.Duration { return &c.ReconnectWait })},
	{"max_reconnects", false, intParam(func(c *Config) *int { return &c.MaxReconnects })},
	{"reconnect_buffer", false, intParam(func(c *Config) *int { return &c.ReconnectBufSize })},
	{"drain_timeout", false, durationParam(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{"tls_first", false, func(c *Config, v string) error { return boolInto(&c.Auth.TLSFirst, v) }},

	{"stream", true, func(c *Config, v string) error { c.JetStream.Stream.Name = v; return nil }},
	{"subjects", true, func(c *Config, v string) error {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.JetStream.Stream.Subjects = append(c.JetStream.Stream.Subjects, s)
			}
		}
		return nil
	}},
	{"core", true, func(c *Config, v string) error {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.JetStream.CoreSubjects = append(c.JetStream.CoreSubjects, s)
			}
		}
		return nil
	}},
	{"storage", true, enumParam(storages, func(c *Config) *string { return &c.JetStream.Stream.Storage })},
	{"replicas", true, intParam(func(c *Config) *int { return &c.JetStream.Stream.Replicas })},
	{"retention", true, enumParam(retentions, func(c *Config) *string { return &c.JetStream.Stream.Retention })},
	{"max_age", true, durationParam(func(c *Config) *time.Duration { return &c.JetStream.Stream.MaxAge })},
	{"max_bytes", true, int64Param(func(c *Config) *int64 { return &c.JetStream.Stream.MaxBytes })},
	{"max_msgs", true, int64Param(func(c *Config) *int64 { return &c.JetStream.Stream.MaxMsgs })},
	{"duplicates", true, durationParam(func(c *Config) *time.Duration { return &c.JetStream.Stream.Duplicates })},
	{"create", true, func(c *Config, v string) error {
		var create bool
		err := boolInto(&create, v)
		c.JetStream.NoCreate = !create
		return err
	}},
	{"ack_wait", true, durationParam(func(c *Config) *time.Duration { return &c.JetStream.AckWait })},
	{"max_deliver", true, intParam(func(c *Config) *int { return &c.JetStream.MaxDeliver })},
	{"max_ack_pending", true, intParam(func(c *Config) *int { return &c.JetStream.MaxAckPending })},
	{"inactive_threshold", true, durationParam(func(c *Config) *time.Duration { return &c.JetStream.InactiveThreshold })},
	{"pull_max_messages", true, intParam(func(c *Config) *int { return &c.JetStream.PullMaxMessages })},
	{"publish_ack_timeout", true, durationParam(func(c *Config) *time.Duration { return &c.JetStream.PublishAckTimeout })},
	{"async_max_pending", true, intParam(func(c *Config) *int { return &c.JetStream.PublishAsyncMaxPending })},
	{"start", true, func(c *Config, v string) error { return parseStart(c.JetStream, v) }},
}

// ParseURL turns a nats:// or jetstream:// URL into a Config. Hosts may be
// a comma-separated list (nats://a:4222,b:4222); Go's url.Parse accepts
// such a list only when the text after its last ':' is a port, so give
// every host its port, and IPv6 literals ([::1]:4222) only as a single
// host. Credentials in the URL are rejected (ErrCredentialsInURL); unknown
// parameters, JetStream parameters on a nats:// URL, a parameter given
// twice (but subjects, which adds up) and invalid values are errors that
// name the parameter. Auth is left empty: Open from a URL fills it from
// the environment (AuthFromEnv).
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	switch u.Scheme {
	case "nats":
	case "jetstream":
		c.JetStream = &JetStreamConfig{}
	default:
		return c, fmt.Errorf("natsbus: scheme %q; want nats or jetstream", u.Scheme)
	}
	if u.User != nil {
		return c, ErrCredentialsInURL
	}
	if u.Host == "" {
		return c, fmt.Errorf("natsbus: %s: no server address (want %s://host:4222)", bus.Redact(u), u.Scheme)
	}
	hosts := strings.Split(u.Host, ",")
	for i, h := range hosts {
		if h == "" {
			return c, fmt.Errorf("natsbus: %s: empty server address in the host list", bus.Redact(u))
		}
		hosts[i] = "nats://" + h
	}
	c.URL = strings.Join(hosts, ",")
	q := u.Query()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		if err := applyParam(&c, k, q[k]); err != nil {
			return c, err
		}
	}
	return c, nil
}

func applyParam(c *Config, name string, vals []string) error {
	i := slices.IndexFunc(params, func(p param) bool { return p.name == name })
	if i < 0 {
		if slices.Contains(secretParamNames, strings.ToLower(name)) {
			return ErrCredentialsInURL
		}
		return fmt.Errorf("natsbus: unknown URL parameter %q (known: %s)", name, knownParams())
	}
	p := params[i]
	if p.js && c.JetStream == nil {
		return fmt.Errorf("natsbus: parameter %q is for jetstream:// URLs only", name)
	}
	if len(vals) > 1 && name != "subjects" && name != "core" {
		return fmt.Errorf("natsbus: parameter %q given %d times", name, len(vals))
	}
	for _, v := range vals {
		if err := p.set(c, v); err != nil {
			return fmt.Errorf("natsbus: parameter %s=%q: %w", name, v, err)
		}
	}
	return nil
}

// secretParamNames are query parameters that look like credentials; they
// get ErrCredentialsInURL rather than "unknown parameter".
var secretParamNames = []string{"user", "username", "password", "pass", "token", "nkey", "seed", "creds", "jwt"}

func knownParams() string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

func parseStart(js *JetStreamConfig, v string) error {
	switch {
	case v == "new":
		js.Start = StartNew
	case v == "all":
		js.Start = StartAll
	case strings.HasPrefix(v, "seq:"):
		n, err := strconv.ParseUint(v[4:], 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("want seq:N with N >= 1")
		}
		js.Start, js.StartSequence = StartAtSequence, n
	case strings.HasPrefix(v, "time:"):
		t, err := time.Parse(time.RFC3339Nano, v[5:])
		if err != nil {
			return fmt.Errorf("want time:RFC3339: %w", err)
		}
		js.Start, js.StartTime = StartAtTime, t
	default:
		return fmt.Errorf("want new, all, seq:N or time:RFC3339")
	}
	return nil
}

// enumParam accepts the keys of allowed only.
func enumParam[V any](allowed map[string]V, field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if _, ok := allowed[v]; !ok {
			return fmt.Errorf("want one of %s", strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
		}
		*field(c) = v
		return nil
	}
}

func durationParam(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 500ms or 2m")
		}
		*field(c) = d
		return nil
	}
}

func intParam(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		*field(c) = n
		return nil
	}
}

func int64Param(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		*field(c) = n
		return nil
	}
}

func boolInto(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*dst = b
	return nil
}

// redactServers hides any user info in a comma-separated server list.
func redactServers(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = bus.Redact(u)
		} else if strings.Contains(p, "@") {
			parts[i] = "REDACTED"
		}
	}
	return strings.Join(parts, ",")
}
