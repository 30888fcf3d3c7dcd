package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
)

// TestAuthThroughBusOpenFromEnv: bus.Open of a plain URL takes the
// credentials from the NATS_* environment; the right ones connect, wrong
// ones fail with nats.ErrAuthorization and an error text without either
// secret.
func TestAuthThroughBusOpenFromEnv(t *testing.T) {
	s := startServer(t, &server.Options{Username: "alice", Password: "right-pass-9f2"})
	url := "nats://" + s.Addr().String()

	t.Setenv("NATS_USER", "alice")
	t.Setenv("NATS_PASSWORD", "right-pass-9f2")
	b, err := bus.Open(t.Context(), url)
	require.NoError(t, err)
	got := make(chan string, 1)
	_, err = b.Subscribe(t.Context(), "auth.env", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- string(m.Event.Data)
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("auth.env", "com.example.ping.v1", []byte("ping"))))
	select {
	case d := <-got:
		assert.Equal(t, "ping", d)
	case <-time.After(10 * time.Second):
		t.Fatal("no round trip with the right credentials")
	}
	require.NoError(t, b.Close(t.Context()))

	t.Setenv("NATS_PASSWORD", "wrong-pass-3c1")
	_, err = bus.Open(t.Context(), url+"?connect_timeout=2s")
	require.ErrorIs(t, err, nats.ErrAuthorization)
	assert.NotContains(t, err.Error(), "wrong-pass-3c1")
	assert.NotContains(t, err.Error(), "right-pass-9f2")
}

// TestAuthThroughNatsbusOpenWrongToken: natsbus.Open with a wrong token
// fails clearly, without the token, for core and JetStream.
func TestAuthThroughNatsbusOpenWrongToken(t *testing.T) {
	s := startServer(t, &server.Options{Authorization: "right-token-77a", JetStream: true, StoreDir: t.TempDir()})
	for _, js := range []*natsbus.JetStreamConfig{nil, {Stream: natsbus.StreamConfig{Name: "AUTH", Subjects: []string{"auth.>"}}}} {
		_, err := natsbus.Open(t.Context(), natsbus.Config{URL: s.ClientURL(), JetStream: js, Logger: quiet,
			Auth: natsbus.Auth{Token: "wrong-token-41b"}})
		require.ErrorIs(t, err, nats.ErrAuthorization)
		assert.NotContains(t, err.Error(), "wrong-token-41b")
		assert.Contains(t, err.Error(), "natsbus: connect to")

		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: s.ClientURL(), JetStream: js, Logger: quiet,
			Auth: natsbus.Auth{Token: "right-token-77a"}})
		require.NoError(t, err)
		assert.NotContains(t, natsbus.Config{URL: s.ClientURL(), Auth: natsbus.Auth{Token: "right-token-77a"}}.String(), "right-token-77a")
		require.NoError(t, c.Close(t.Context()))
	}
}
