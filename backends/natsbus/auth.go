package natsbus

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// redacted is what a non-empty Secret shows instead of its value.
const redacted = "REDACTED"

// Secret is a credential. It prints, logs and marshals as "REDACTED"
// whatever the verb (%v, %+v, %#v, %s, %q, %x...), so a Config can be
// logged; an empty Secret shows as empty, so "unset" stays visible. Code
// that needs the value converts it: string(s).
//
// Two leaks are out of its hands: fmt cannot call methods on unexported
// struct fields, so a Secret (or an Auth) in an unexported field prints
// raw when the enclosing struct is printed with %v; and encoding/json
// writes a map key of string kind raw. Keep Secrets in exported fields
// (or give the enclosing type a String method) and out of map keys.
type Secret string

// String returns "REDACTED", or "" for an empty Secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the quoted form of String, as %#v shows a string:
// "REDACTED", or "" for an empty Secret.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// Format implements fmt.Formatter so that every verb, flag, width and
// precision is applied to the redacted text, never to the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = f.Write([]byte(s.GoString()))
	case verb == 'q':
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, 'q'), s.String())
	default:
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, 's'), s.String())
	}
}

// LogValue implements slog.LogValuer: the redacted text.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the redacted text as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns the redacted text, for YAML, TOML and the like.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Auth holds how the client authenticates and secures its connection.
// Credentials come from here or from the environment (AuthFromEnv), never
// from the URL. At most one of user/password, token, NKey seed and
// credentials file may be set.
//
// Auth prints (String, GoString), logs (LogValue) and marshals with its
// secrets redacted; file paths and the user name are shown.
type Auth struct {
	// User and Password: user/password authentication.
	User     string
	Password Secret
	// Token: token authentication.
	Token Secret
	// NKeySeedFile: path of a file holding an NKey user seed (SU...).
	NKeySeedFile string
	// CredsFile: path of a JWT credentials file (decentralized auth).
	CredsFile string

	// CAFile: PEM file of the certificate authorities to trust; setting it
	// turns TLS on.
	CAFile string
	// CertFile and KeyFile: client certificate and key (PEM) for mutual TLS.
	CertFile, KeyFile string
	// TLSFirst: perform the TLS handshake before the NATS protocol's INFO
	// (server option handshake_first). Turns TLS on.
	TLSFirst bool
	// TLSConfig, when set, is used as the TLS configuration (the file
	// fields above are added to a clone of it).
	TLSConfig *tls.Config
}

// IsZero reports whether a configures nothing: no credential and no TLS.
func (a Auth) IsZero() bool { return a == Auth{} }

// kinds names the credential kinds a sets, in a fixed order.
func (a Auth) kinds() []string {
	var k []string
	for _, c := range []struct {
		set  bool
		name string
	}{
		{a.User != "" || a.Password != "", "user/password"}, {a.Token != "", "token"},
		{a.NKeySeedFile != "", "NKey seed file"}, {a.CredsFile != "", "credentials file"},
	} {
		if c.set {
			k = append(k, c.name)
		}
	}
	return k
}

// options turns a into nats.go options, checking that the files exist and
// that at most one credential kind is set. Errors name fields, kinds and
// paths, never a password, token, seed or file content.
func (a Auth) options() ([]nats.Option, error) {
	if k := a.kinds(); len(k) > 1 {
		return nil, fmt.Errorf("natsbus: Auth: %s are set; at most one credential kind may be", strings.Join(k, " and "))
	}
	var opts []nats.Option
	switch {
	case a.Password != "" && a.User == "":
		return nil, errors.New("natsbus: Auth: Password is set without User")
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, string(a.Password)))
	case a.Token != "":
		opts = append(opts, nats.Token(string(a.Token)))
	case a.NKeySeedFile != "":
		if err := statFile("NKeySeedFile", a.NKeySeedFile); err != nil {
			return nil, err
		}
		o, err := nats.NkeyOptionFromSeed(a.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("natsbus: Auth.NKeySeedFile %q: %w", a.NKeySeedFile, err)
		}
		opts = append(opts, o)
	case a.CredsFile != "":
		if err := checkCreds(a.CredsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	tlsOpts, err := a.tlsOptions()
	if err != nil {
		return nil, err
	}
	return append(opts, tlsOpts...), nil
}

// tlsOptions is the TLS part of options. The files are checked here and
// read again by nats.go at every handshake, so rotated certificates are
// picked up on reconnect.
func (a Auth) tlsOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if a.TLSConfig != nil {
		// First: Secure replaces the option's tls.Config, while RootCAs and
		// ClientCert install callbacks applied on top of it at handshake.
		opts = append(opts, nats.Secure(a.TLSConfig.Clone()))
	}
	if a.CAFile != "" {
		if err := checkCA(a.CAFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.RootCAs(a.CAFile))
	}
	switch {
	case (a.CertFile == "") != (a.KeyFile == ""):
		return nil, errors.New("natsbus: Auth: CertFile and KeyFile go together (a client certificate and its key); only one is set")
	case a.CertFile != "":
		if err := statFile("CertFile", a.CertFile); err != nil {
			return nil, err
		}
		if err := statFile("KeyFile", a.KeyFile); err != nil {
			return nil, err
		}
		if _, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile); err != nil {
			return nil, fmt.Errorf("natsbus: Auth.CertFile %q and KeyFile %q: %w", a.CertFile, a.KeyFile, err)
		}
		opts = append(opts, nats.ClientCert(a.CertFile, a.KeyFile))
	}
	if a.TLSFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	return opts, nil
}

// statFile checks that path names a regular file (or a link to one).
func statFile(field, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.%s %q: %w", field, path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("natsbus: Auth.%s %q: is a directory", field, path)
	}
	return nil
}

// checkCA checks that path holds at least one PEM certificate.
func checkCA(path string) error {
	if err := statFile("CAFile", path); err != nil {
		return err
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CAFile %q: %w", path, err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("natsbus: Auth.CAFile %q: no PEM certificate found", path)
	}
	return nil
}

// checkCreds checks that path is a decorated credentials file holding a
// user JWT and the seed of that same user. nats.go does not check this
// before connecting, and sends a file without JWT markers whole as the
// JWT: an NKey seed file given as CredsFile would go to the server.
func checkCreds(path string) error {
	if err := statFile("CredsFile", path); err != nil {
		return err
	}
	contents, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: %w", path, err)
	}
	defer clear(contents) // it holds the seed
	if !bytes.Contains(contents, []byte("BEGIN NATS USER JWT")) {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: not a credentials file (no NATS USER JWT block)", path)
	}
	ujwt, err := nkeys.ParseDecoratedJWT(contents)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: user JWT: %w", path, err)
	}
	claims, err := jwt.DecodeUserClaims(ujwt)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: user JWT: %w", path, err)
	}
	kp, err := nkeys.ParseDecoratedUserNKey(contents)
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: user seed: %w", path, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: user seed: %w", path, err)
	}
	if pub != claims.Subject {
		return fmt.Errorf("natsbus: Auth.CredsFile %q: the seed is not the JWT's user (%s)", path, claims.Subject)
	}
	return nil
}

// String describes a with its secrets redacted, e.g.
// Auth{user=alice password=REDACTED tls=ca:/etc/nats/ca.pem}.
func (a Auth) String() string {
	var b strings.Builder
	b.WriteString("Auth{")
	for i, f := range a.fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.key + "=" + quoteIfNeeded(f.value))
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is Auth in Go syntax, set fields only, secrets redacted.
func (a Auth) GoString() string {
	q := func(v string) string {
		if v == "" {
			return ""
		}
		return strconv.Quote(v)
	}
	fs := []field{
		{"User", q(a.User)}, {"Password", q(a.Password.String())}, {"Token", q(a.Token.String())},
		{"NKeySeedFile", q(a.NKeySeedFile)}, {"CredsFile", q(a.CredsFile)},
		{"CAFile", q(a.CAFile)}, {"CertFile", q(a.CertFile)}, {"KeyFile", q(a.KeyFile)},
	}
	if a.TLSFirst {
		fs = append(fs, field{"TLSFirst", "true"})
	}
	if a.TLSConfig != nil {
		fs = append(fs, field{"TLSConfig", "&tls.Config{...}"})
	}
	var parts []string
	for _, f := range fs {
		if f.value != "" {
			parts = append(parts, f.key+":"+f.value)
		}
	}
	return "natsbus.Auth{" + strings.Join(parts, ", ") + "}"
}

// LogValue implements slog.LogValuer: a group with the credential kind
// ("none" when unset) and the set fields, secrets redacted.
func (a Auth) LogValue() slog.Value {
	kind := strings.Join(a.kinds(), "+")
	if kind == "" {
		kind = "none"
	}
	attrs := []slog.Attr{slog.String("kind", kind)}
	for _, f := range a.fields() {
		attrs = append(attrs, slog.String(f.key, f.value))
	}
	return slog.GroupValue(attrs...)
}

// field is one key=value of Auth's printed forms.
type field struct{ key, value string }

// fields lists a's set fields for String and LogValue, secrets redacted.
func (a Auth) fields() []field {
	var fs []field
	add := func(k, v string) {
		if v != "" {
			fs = append(fs, field{k, v})
		}
	}
	add("user", a.User)
	add("password", a.Password.String())
	add("token", a.Token.String())
	add("nkey", a.NKeySeedFile)
	add("creds", a.CredsFile)
	var t []string
	for _, p := range []field{{"ca:", a.CAFile}, {"cert:", a.CertFile}, {"key:", a.KeyFile}} {
		if p.value != "" {
			t = append(t, p.key+p.value)
		}
	}
	if a.TLSFirst {
		t = append(t, "first")
	}
	if a.TLSConfig != nil {
		t = append(t, "config")
	}
	add("tls", strings.Join(t, ","))
	return fs
}

// quoteIfNeeded quotes v when it would not read as one word in String.
func quoteIfNeeded(v string) string {
	if strings.ContainsFunc(v, func(r rune) bool {
		return r <= ' ' || r == '"' || r == '{' || r == '}' || r == '=' || !strconv.IsPrint(r)
	}) {
		return strconv.Quote(v)
	}
	return v
}

// redactErr returns err with every non-empty secret in its text replaced
// by REDACTED, also in URL-escaped form (as a URL's user info or query
// shows it). The result unwraps to err, so errors.Is and errors.As still
// work; but code that unwraps it and prints the original sees the secret.
// err itself is returned when its text holds no secret (nil for nil).
func redactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s),
			strings.TrimPrefix(url.UserPassword("", s).String(), ":"))
	}
	// Longest first: the replacer tries the old strings in argument order,
	// so a secret that contains another is replaced whole.
	slices.SortFunc(forms, func(x, y string) int { return len(y) - len(x) })
	var oldnew []string
	for _, f := range forms {
		oldnew = append(oldnew, f, redacted)
	}
	msg := err.Error()
	if out := strings.NewReplacer(oldnew...).Replace(msg); out != msg {
		return &redactedError{msg: out, err: err}
	}
	return err
}

// redactedError is an error whose text has had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
