package natsbus

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus/internal/testcerts"
)

// AuthOptions exposes Auth.options to the package's external tests.
func AuthOptions(a Auth) ([]nats.Option, error) { return a.options() }

// apply runs opts on default nats.go options, as nats.Connect would.
func apply(t *testing.T, opts []nats.Option) nats.Options {
	t.Helper()
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		require.NoError(t, opt(&o))
	}
	return o
}

func TestAuthOptionsNone(t *testing.T) {
	opts, err := Auth{}.options()
	require.NoError(t, err)
	assert.Empty(t, opts)
}

func TestAuthOptionsRejectsTwoKinds(t *testing.T) {
	const pw, tok = "pw-value-9173", "tok-value-5521"
	for _, tc := range []struct {
		auth Auth
		want string
	}{
		{Auth{User: "alice", Password: pw, Token: tok}, "user/password and token are set"},
		{Auth{Password: pw, Token: tok}, "user/password and token are set"},
		{Auth{Token: tok, NKeySeedFile: "/n.nk"}, "token and NKey seed file are set"},
		{Auth{User: "alice", CredsFile: "/u.creds"}, "user/password and credentials file are set"},
		{Auth{NKeySeedFile: "/n.nk", CredsFile: "/u.creds"}, "NKey seed file and credentials file are set"},
		{Auth{User: "alice", Password: pw, Token: tok, NKeySeedFile: "/n.nk", CredsFile: "/u.creds"},
			"user/password and token and NKey seed file and credentials file are set"},
	} {
		_, err := tc.auth.options()
		require.Error(t, err, "%v", tc.auth)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), pw)
		assert.NotContains(t, err.Error(), tok)
	}
}

func TestAuthOptionsPasswordWithoutUser(t *testing.T) {
	_, err := Auth{Password: "pw-value-9173"}.options()
	require.ErrorContains(t, err, "Password is set without User")
	assert.NotContains(t, err.Error(), "pw-value-9173")
}

func TestAuthOptionsCertAndKeyGoTogether(t *testing.T) {
	c := testcerts.NewTLS(t)
	for _, a := range []Auth{{CertFile: c.ClientCert}, {KeyFile: c.ClientKey}} {
		_, err := a.options()
		require.ErrorContains(t, err, "CertFile and KeyFile go together")
	}
}

func TestAuthOptionsMissingFilesNameTheField(t *testing.T) {
	c := testcerts.NewTLS(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for field, a := range map[string]Auth{
		"NKeySeedFile": {NKeySeedFile: missing},
		"CredsFile":    {CredsFile: missing},
		"CAFile":       {CAFile: missing},
		"CertFile":     {CertFile: missing, KeyFile: c.ClientKey},
		"KeyFile":      {CertFile: c.ClientCert, KeyFile: missing},
	} {
		_, err := a.options()
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), "Auth."+field+` "`+missing+`"`)
		assert.ErrorIs(t, err, fs.ErrNotExist, field)
	}
	_, err := Auth{CAFile: t.TempDir()}.options()
	assert.ErrorContains(t, err, "is a directory")
}

func TestAuthOptionsBadFilesDoNotEchoContent(t *testing.T) {
	dir := t.TempDir()
	c := testcerts.NewTLS(t)
	nk := testcerts.NewNKeyUser(t)
	op := testcerts.NewOperator(t)
	other := op.Creds(t, "other", nil)
	const junk = "SUJUNKJUNKJUNKJUNKJUNK-not-a-seed"
	// jwt.FormatUserConfig refuses a seed that is not the JWT's user.
	mismatched := "-----BEGIN NATS USER JWT-----\n" + op.Creds(t, "first", nil).JWT +
		"\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n" + other.Seed +
		"\n------END USER NKEY SEED------\n"
	account := testcerts.NewAccountKey(t)
	accountSeed, err := account.Seed()
	require.NoError(t, err)

	for _, tc := range []struct {
		name, want string
		auth       Auth
		secrets    []string
	}{
		{"junk seed", "Auth.NKeySeedFile", Auth{NKeySeedFile: testcerts.WriteFile(t, dir, "junk.nk", []byte(junk))}, []string{junk}},
		{"account seed as nkey", "Auth.NKeySeedFile",
			Auth{NKeySeedFile: testcerts.WriteFile(t, dir, "acct.nk", accountSeed)}, []string{string(accountSeed)}},
		{"seed file as creds", "not a credentials file", Auth{CredsFile: nk.SeedFile}, []string{nk.Seed}},
		{"seed of another user", "the seed is not the JWT's user",
			Auth{CredsFile: testcerts.WriteFile(t, dir, "mixed.creds", []byte(mismatched))}, []string{other.Seed}},
		{"junk CA", "no PEM certificate found", Auth{CAFile: testcerts.WriteFile(t, dir, "ca.pem", []byte(junk))}, []string{junk}},
		{"key of another cert", "Auth.CertFile", Auth{CertFile: c.ServerCert, KeyFile: c.ClientKey}, []string{c.ClientKeyPEM[30:80]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.auth.options()
			require.ErrorContains(t, err, tc.want)
			for _, s := range tc.secrets {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

func TestAuthOptionsApply(t *testing.T) {
	o := apply(t, must(t, Auth{User: "alice", Password: "pw"}))
	assert.Equal(t, "alice", o.User)
	assert.Equal(t, "pw", o.Password)
	assert.False(t, o.Secure)

	o = apply(t, must(t, Auth{Token: "tok"}))
	assert.Equal(t, "tok", o.Token)

	nk := testcerts.NewNKeyUser(t)
	o = apply(t, must(t, Auth{NKeySeedFile: nk.SeedFile}))
	assert.Equal(t, nk.Public, o.Nkey)
	assert.NotNil(t, o.SignatureCB)

	creds := testcerts.NewOperator(t).Creds(t, "u", nil)
	o = apply(t, must(t, Auth{CredsFile: creds.File}))
	require.NotNil(t, o.UserJWT)
	got, err := o.UserJWT()
	require.NoError(t, err)
	assert.Equal(t, creds.JWT, got)

	c := testcerts.NewTLS(t)
	mine := &tls.Config{ServerName: "nats.example", MinVersion: tls.VersionTLS13}
	o = apply(t, must(t, Auth{CAFile: c.CAFile, CertFile: c.ClientCert, KeyFile: c.ClientKey, TLSFirst: true, TLSConfig: mine}))
	assert.True(t, o.Secure)
	assert.True(t, o.TLSHandshakeFirst)
	assert.NotNil(t, o.RootCAsCB)
	assert.NotNil(t, o.TLSCertCB)
	require.NotNil(t, o.TLSConfig)
	assert.NotSame(t, mine, o.TLSConfig, "the caller's tls.Config is cloned")
	assert.Equal(t, "nats.example", o.TLSConfig.ServerName)
	assert.Nil(t, mine.RootCAs)

	o = apply(t, must(t, Auth{TLSFirst: true}))
	assert.True(t, o.Secure, "TLSFirst alone turns TLS on")
}

// must returns a.options(), failing the test on error.
func must(t *testing.T, a Auth) []nats.Option {
	t.Helper()
	opts, err := a.options()
	require.NoError(t, err)
	return opts
}

func TestAuthFromLookup(t *testing.T) {
	env := map[string]string{"NATS_TOKEN": "tok", "NATS_CA": "/ca.pem", "NATS_TLS_FIRST": "1"}
	a := authFromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	assert.Equal(t, Auth{Token: "tok", CAFile: "/ca.pem", TLSFirst: true}, a)
}

func TestSecretRedactErr(t *testing.T) {
	assert.NoError(t, redactErr(nil, "x"))

	base := errors.New("dial failed")
	assert.Same(t, base, redactErr(base, "pw", ""), "nothing to redact: err itself")
	assert.Same(t, base, redactErr(base, ""), "empty secrets are ignored")

	// nats.Connect echoes a URL it cannot parse, user info included.
	const pw = "p@ss word/1"
	_, err := nats.Connect("nats://alice:" + url.PathEscape(pw) + "@127.0.0.1:badport")
	require.Error(t, err)
	require.Contains(t, err.Error(), url.PathEscape(pw), "nats.go echoes the URL")
	red := redactErr(err, pw)
	assert.NotContains(t, red.Error(), url.PathEscape(pw))
	assert.Contains(t, red.Error(), "alice:REDACTED@")
	assert.ErrorIs(t, red, err)

	wrapped := errors.Join(nats.ErrAuthorization, errors.New("token=tok-abc, query tok%2Babc, raw tok+abc"))
	red = redactErr(wrapped, "tok+abc", "tok-abc")
	assert.Equal(t, "nats: authorization violation\ntoken=REDACTED, query REDACTED, raw REDACTED", red.Error())
	assert.ErrorIs(t, red, nats.ErrAuthorization)

	red = redactErr(errors.New("secret abcdef and abc"), "abc", "abcdef")
	assert.Equal(t, "secret REDACTED and REDACTED", red.Error(), "the longer secret is replaced whole")

	var target *url.Error
	_, err = url.Parse("nats://alice:hunter2@host:x")
	require.Error(t, err)
	assert.ErrorAs(t, redactErr(err, "hunter2"), &target)
	assert.NotContains(t, redactErr(err, "hunter2").Error(), "hunter2")
}
