package natsbus_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/internal/testcerts"
)

// startServer runs an embedded nats-server with opts on a random port of
// 127.0.0.1 until the test ends.
func startServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	go s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	require.True(t, s.ReadyForConnections(10*time.Second), "server not ready")
	return s
}

// connect opens a connection to s authenticated by a.
func connect(t *testing.T, s *server.Server, a natsbus.Auth) (*nats.Conn, error) {
	t.Helper()
	opts, err := natsbus.AuthOptions(a)
	require.NoError(t, err, "options of %v", a)
	nc, err := nats.Connect(s.ClientURL(), append(opts, nats.NoReconnect())...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// roundTrip checks that a message published on nc comes back to a
// subscription on nc.
func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.SubscribeSync("auth.check")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("auth.check", []byte("ping")))
	require.NoError(t, nc.Flush())
	msg, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(msg.Data))
}

// authCase is one credential, right or wrong, against one server.
type authCase struct {
	right, wrong natsbus.Auth
	// wantErr is what connecting with wrong must fail with.
	wantErr error
	// secrets must appear in no error text and no rendering of right or
	// wrong.
	secrets []string
}

// run checks that right connects and round-trips, that wrong fails with
// wantErr, and that no error text or rendering shows a secret.
func (c authCase) run(t *testing.T, s *server.Server) {
	t.Helper()
	nc, err := connect(t, s, c.right)
	require.NoError(t, err, "right credential")
	roundTrip(t, nc)

	_, err = connect(t, s, c.wrong)
	require.Error(t, err, "wrong credential")
	if c.wantErr != nil {
		assert.ErrorIs(t, err, c.wantErr)
	}
	for _, secret := range c.secrets {
		assert.NotContains(t, err.Error(), secret, "connect error leaks a secret")
	}
	assertRedacted(t, c.right, c.secrets...)
	assertRedacted(t, c.wrong, c.secrets...)
}

func TestAuthUserPasswordServer(t *testing.T) {
	const pw, bad = "correct-horse-42", "wrong-horse-17"
	s := startServer(t, &server.Options{Users: []*server.User{{Username: "alice", Password: pw}}})
	authCase{
		right:   natsbus.Auth{User: "alice", Password: pw},
		wrong:   natsbus.Auth{User: "alice", Password: bad},
		wantErr: nats.ErrAuthorization,
		secrets: []string{pw, bad},
	}.run(t, s)

	_, err := connect(t, s, natsbus.Auth{})
	assert.ErrorIs(t, err, nats.ErrAuthorization, "no credential")
}

func TestAuthTokenServer(t *testing.T) {
	const tok, bad = "tok-s3cr3t-value", "tok-wr0ng-value"
	s := startServer(t, &server.Options{Authorization: tok})
	authCase{
		right:   natsbus.Auth{Token: tok},
		wrong:   natsbus.Auth{Token: bad},
		wantErr: nats.ErrAuthorization,
		secrets: []string{tok, bad},
	}.run(t, s)
}

func TestAuthNKeyServer(t *testing.T) {
	user, stranger := testcerts.NewNKeyUser(t), testcerts.NewNKeyUser(t)
	s := startServer(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: user.Public}}})
	authCase{
		right:   natsbus.Auth{NKeySeedFile: user.SeedFile},
		wrong:   natsbus.Auth{NKeySeedFile: stranger.SeedFile},
		wantErr: nats.ErrAuthorization,
		secrets: []string{user.Seed, stranger.Seed},
	}.run(t, s)
}

func TestAuthCredsServer(t *testing.T) {
	op := testcerts.NewOperator(t)
	opts := &server.Options{}
	op.Configure(t, opts)
	s := startServer(t, opts)
	user := op.Creds(t, "alice", nil)
	// Signed by an account the server does not know.
	stranger := testcerts.UserCreds(t, testcerts.NewAccountKey(t), "mallory", nil)
	authCase{
		right:   natsbus.Auth{CredsFile: user.File},
		wrong:   natsbus.Auth{CredsFile: stranger.File},
		wantErr: nats.ErrAuthorization,
		secrets: []string{user.Seed, stranger.Seed},
	}.run(t, s)
}

// tlsServer starts a server presenting c's server certificate; verify
// asks clients for a certificate signed by c's authority.
func tlsServer(t *testing.T, c testcerts.TLS, verify, first bool) *server.Server {
	t.Helper()
	cfg, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: c.ServerCert, KeyFile: c.ServerKey, CaFile: c.CAFile, Verify: verify,
	})
	require.NoError(t, err)
	return startServer(t, &server.Options{TLSConfig: cfg, TLSVerify: verify, TLSHandshakeFirst: first, TLSTimeout: 5})
}

// assertTLSErr checks that err is a TLS failure that does not show the
// client key.
func assertTLSErr(t *testing.T, err error, c testcerts.TLS) {
	t.Helper()
	require.Error(t, err)
	t.Logf("TLS failure: %v", err)
	assert.Contains(t, strings.ToLower(err.Error()), "tls", "not a TLS error")
	assert.NotContains(t, err.Error(), c.ClientKeyPEM[30:80])
}

func TestAuthTLSServerVerifiesCA(t *testing.T) {
	c, other := testcerts.NewTLS(t), testcerts.NewTLS(t)
	s := tlsServer(t, c, false, false)

	nc, err := connect(t, s, natsbus.Auth{CAFile: c.CAFile})
	require.NoError(t, err)
	roundTrip(t, nc)
	state, err := nc.TLSConnectionState()
	require.NoError(t, err)
	assert.True(t, state.HandshakeComplete)

	_, err = connect(t, s, natsbus.Auth{CAFile: other.CAFile})
	assertTLSErr(t, err, c)
	assert.ErrorIs(t, err, nats.ErrTLS)
	assert.ErrorContains(t, err, "certificate signed by unknown authority")
}

func TestAuthTLSServerMutual(t *testing.T) {
	c, other := testcerts.NewTLS(t), testcerts.NewTLS(t)
	s := tlsServer(t, c, true, false)

	right := natsbus.Auth{CAFile: c.CAFile, CertFile: c.ClientCert, KeyFile: c.ClientKey}
	nc, err := connect(t, s, right)
	require.NoError(t, err)
	roundTrip(t, nc)

	_, err = connect(t, s, natsbus.Auth{CAFile: c.CAFile})
	assertTLSErr(t, err, c)

	wrong := natsbus.Auth{CAFile: c.CAFile, CertFile: other.ClientCert, KeyFile: other.ClientKey}
	_, err = connect(t, s, wrong)
	assertTLSErr(t, err, other)
	assertRedacted(t, right, c.ClientKeyPEM[30:80])
}

func TestAuthTLSFirstServer(t *testing.T) {
	c := testcerts.NewTLS(t)
	s := tlsServer(t, c, false, true)

	nc, err := connect(t, s, natsbus.Auth{CAFile: c.CAFile, TLSFirst: true})
	require.NoError(t, err)
	roundTrip(t, nc)

	// The other way round: TLS first against a server that sends INFO
	// first fails at once (a plain client against a TLS-first server
	// would only time out).
	plain := tlsServer(t, c, false, false)
	_, err = connect(t, plain, natsbus.Auth{CAFile: c.CAFile, TLSFirst: true})
	assertTLSErr(t, err, c)
	assert.ErrorIs(t, err, nats.ErrTLS)
}

func TestAuthTLSWithConfigAndToken(t *testing.T) {
	c := testcerts.NewTLS(t)
	cfg, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: c.ServerCert, KeyFile: c.ServerKey})
	require.NoError(t, err)
	const tok = "tok-over-tls-881"
	s := startServer(t, &server.Options{TLSConfig: cfg, Authorization: tok, TLSTimeout: 5})

	a := natsbus.Auth{Token: tok, CAFile: c.CAFile, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS13}}
	nc, err := connect(t, s, a)
	require.NoError(t, err)
	roundTrip(t, nc)
	state, err := nc.TLSConnectionState()
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS13), state.Version, "the given tls.Config is used")
	assert.Contains(t, a.String(), "tls=ca:"+c.CAFile+",config")
	assert.NotContains(t, a.String(), tok)
}
