package natsbus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
)

// renderings formats v every way a credential could end up in a log or a
// dump: fmt verbs, Sprint, slog text and JSON handlers, json.Marshal.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20s", "%.40v"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	out["in struct %+v"] = fmt.Sprintf("%+v", struct{ V any }{v})
	out["in struct %#v"] = fmt.Sprintf("%#v", struct{ V any }{v})
	out["in map %v"] = fmt.Sprintf("%v", map[string]any{"v": v})
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("msg", "v", v, slog.Group("g", "v", v))
	slog.New(slog.NewJSONHandler(&js, nil)).Info("msg", "v", v, slog.Group("g", "v", v))
	out["slog text"], out["slog json"] = text.String(), js.String()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	out["json"] = string(b)
	b, err = json.Marshal(map[string]any{"v": v})
	require.NoError(t, err)
	out["json in map"] = string(b)
	return out
}

// assertRedacted fails if any rendering of v contains one of secrets.
func assertRedacted(t *testing.T, v any, secrets ...string) {
	t.Helper()
	for how, s := range renderings(t, v) {
		for _, secret := range secrets {
			require.NotEmpty(t, secret)
			assert.NotContains(t, s, secret, "%s rendering leaks a secret", how)
		}
	}
}

func TestSecretRedactedEveryWay(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	s := natsbus.Secret(secret)
	assertRedacted(t, s, secret, fmt.Sprintf("%x", secret), fmt.Sprintf("%X", secret))
	assert.Equal(t, "REDACTED", s.String())
	assert.Equal(t, `"REDACTED"`, s.GoString())
	assert.Equal(t, "REDACTED", fmt.Sprintf("%v", s))
	assert.Equal(t, "REDACTED", fmt.Sprintf("%+v", s))
	assert.Equal(t, `"REDACTED"`, fmt.Sprintf("%#v", s))
	assert.Equal(t, `"REDACTED"`, fmt.Sprintf("%q", s))
	assert.Equal(t, "REDACTED", fmt.Sprintf("%x", s))
	assert.Equal(t, "  REDACTED", fmt.Sprintf("%10s", s))
	assert.Equal(t, "RED", fmt.Sprintf("%.3s", s))
	assert.Equal(t, "REDACTED", slog.AnyValue(s).Resolve().String())
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `"REDACTED"`, string(b))
	b, err = s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "REDACTED", string(b))
	assert.Equal(t, secret, string(s), "conversion is how code reads the value")
}

func TestSecretEmptyShowsEmpty(t *testing.T) {
	var s natsbus.Secret
	assert.Empty(t, s.String())
	assert.Equal(t, "|", fmt.Sprintf("%v|%s", s, s))
	assert.Equal(t, `""`, fmt.Sprintf("%#v", s))
	assert.Equal(t, `""`, fmt.Sprintf("%q", s))
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `""`, string(b))
}

func TestAuthStringShowsKindNotSecrets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		auth    natsbus.Auth
		want    string
		secrets []string
	}{
		{"zero", natsbus.Auth{}, "Auth{}", nil},
		{"user", natsbus.Auth{User: "alice", Password: "pw-1234567"},
			"Auth{user=alice password=REDACTED}", []string{"pw-1234567"}},
		{"token", natsbus.Auth{Token: "tok-1234567"}, "Auth{token=REDACTED}", []string{"tok-1234567"}},
		{"nkey", natsbus.Auth{NKeySeedFile: "/s/user.nk"}, "Auth{nkey=/s/user.nk}", nil},
		{"creds", natsbus.Auth{CredsFile: "/s/u.creds"}, "Auth{creds=/s/u.creds}", nil},
		{"tls", natsbus.Auth{CAFile: "/x/ca.pem", CertFile: "/x/c.pem", KeyFile: "/x/k.pem", TLSFirst: true},
			"Auth{tls=ca:/x/ca.pem,cert:/x/c.pem,key:/x/k.pem,first}", nil},
		{"odd user", natsbus.Auth{User: "a b=c", Token: "tok-7654321"},
			`Auth{user="a b=c" token=REDACTED}`, []string{"tok-7654321"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.auth.String())
			assert.Equal(t, tc.want, fmt.Sprintf("%v", tc.auth))
			assert.Equal(t, tc.want, fmt.Sprintf("%+v", &tc.auth))
			if len(tc.secrets) > 0 {
				assertRedacted(t, tc.auth, tc.secrets...)
			}
		})
	}
}

func TestAuthGoStringAndLogValue(t *testing.T) {
	a := natsbus.Auth{User: "alice", Password: "pw-1234567", CAFile: "/x/ca.pem"}
	assert.Equal(t, `natsbus.Auth{User:"alice", Password:"REDACTED", CAFile:"/x/ca.pem"}`, fmt.Sprintf("%#v", a))
	assert.Equal(t, `natsbus.Auth{}`, fmt.Sprintf("%#v", natsbus.Auth{}))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("connect", "auth", a)
	var rec struct{ Auth map[string]string }
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, map[string]string{
		"kind": "user/password", "user": "alice", "password": "REDACTED", "tls": "ca:/x/ca.pem",
	}, rec.Auth)

	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("connect", "auth", natsbus.Auth{})
	assert.Contains(t, buf.String(), "auth.kind=none")
}

func TestAuthIsZero(t *testing.T) {
	assert.True(t, natsbus.Auth{}.IsZero())
	assert.False(t, natsbus.Auth{TLSFirst: true}.IsZero())
	assert.False(t, natsbus.Auth{Token: "t"}.IsZero())
}

// envVars are the variables AuthFromEnv reads.
var envVars = []string{
	"NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_NKEY", "NATS_CREDS",
	"NATS_CA", "NATS_CERT", "NATS_KEY", "NATS_TLS_FIRST",
}

// clearEnv empties every variable AuthFromEnv reads, for this test.
func clearEnv(t *testing.T) {
	for _, k := range envVars {
		t.Setenv(k, "")
	}
}

func TestAuthFromEnv(t *testing.T) {
	vars := map[string]string{
		"NATS_USER": "alice", "NATS_PASSWORD": "pw", "NATS_TOKEN": "tok",
		"NATS_NKEY": "/k/user.nk", "NATS_CREDS": "/k/u.creds",
		"NATS_CA": "/t/ca.pem", "NATS_CERT": "/t/c.pem", "NATS_KEY": "/t/k.pem",
		"NATS_TLS_FIRST": "true",
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	assert.Equal(t, natsbus.Auth{
		User: "alice", Password: "pw", Token: "tok",
		NKeySeedFile: "/k/user.nk", CredsFile: "/k/u.creds",
		CAFile: "/t/ca.pem", CertFile: "/t/c.pem", KeyFile: "/t/k.pem",
		TLSFirst: true,
	}, natsbus.AuthFromEnv())

	require.Len(t, vars, len(envVars))
	clearEnv(t)
	assert.True(t, natsbus.AuthFromEnv().IsZero(), "empty variables leave fields empty")
}

func TestAuthFromEnvTLSFirst(t *testing.T) {
	clearEnv(t)
	for v, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "0": false, "false": false, "yes": false, "": false} {
		t.Setenv("NATS_TLS_FIRST", v)
		assert.Equal(t, want, natsbus.AuthFromEnv().TLSFirst, "NATS_TLS_FIRST=%q", v)
	}
}

func TestAuthFromEnvEachVariable(t *testing.T) {
	for name, field := range map[string]func(natsbus.Auth) string{
		"NATS_USER":     func(a natsbus.Auth) string { return a.User },
		"NATS_PASSWORD": func(a natsbus.Auth) string { return string(a.Password) },
		"NATS_TOKEN":    func(a natsbus.Auth) string { return string(a.Token) },
		"NATS_NKEY":     func(a natsbus.Auth) string { return a.NKeySeedFile },
		"NATS_CREDS":    func(a natsbus.Auth) string { return a.CredsFile },
		"NATS_CA":       func(a natsbus.Auth) string { return a.CAFile },
		"NATS_CERT":     func(a natsbus.Auth) string { return a.CertFile },
		"NATS_KEY":      func(a natsbus.Auth) string { return a.KeyFile },
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			val := "value-of-" + strings.ToLower(name)
			t.Setenv(name, val)
			a := natsbus.AuthFromEnv()
			assert.Equal(t, val, field(a))
			assert.Equal(t, 1, countSet(a), "only %s's field is set", name)
		})
	}
}

// countSet counts a's non-empty string fields.
func countSet(a natsbus.Auth) int {
	n := 0
	for _, s := range []string{a.User, string(a.Password), string(a.Token), a.NKeySeedFile, a.CredsFile, a.CAFile, a.CertFile, a.KeyFile} {
		if s != "" {
			n++
		}
	}
	return n
}
