package natsbus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests for defects found in review: dedup keys, batch and
// close bounds, subscribe/close races, leaks on a user connection.

func regStream() *natsbus.JetStreamConfig {
	return &natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "REG", Subjects: []string{"reg.>"}}, AckWait: 5 * time.Second}
}

// regCollect subscribes h-style: every delivery's subject goes to the
// returned channel.
func regCollect(t *testing.T, b *bus.Bus, pattern, group string) <-chan *bus.Message {
	t.Helper()
	ch := make(chan *bus.Message, 16)
	_, err := b.Subscribe(t.Context(), pattern, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		ch <- m
		return nil
	}), bus.Group(group))
	require.NoError(t, err)
	return ch
}

func regRecv(t *testing.T, ch <-chan *bus.Message, what string) *bus.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

// TestJetStreamSameIDDifferentSourceBothStored: CloudEvents identifies an
// event by source and id, so two producers' events with the same id are
// two events, not a duplicate.
func TestJetStreamSameIDDifferentSourceBothStored(t *testing.T) {
	srv := startEmbedded(t)
	b := opener(srv, regStream())(t)
	got := regCollect(t, b, "reg.>", "g")
	for _, src := range []string{"/svc/a", "/svc/b"} {
		m := bus.NewMessage("reg.orders", "com.example.x.v1", nil)
		m.Event.ID, m.Event.Source = "1", src
		require.NoError(t, b.Publish(t.Context(), m))
	}
	sources := map[string]bool{}
	for range 2 {
		sources[regRecv(t, got, "both events").Event.Source] = true
	}
	assert.Equal(t, map[string]bool{"/svc/a": true, "/svc/b": true}, sources)
}

// TestJetStreamDeadLettersFromTwoGroupsBothStored: two groups that both
// fail an event for good each store a dead-letter copy (one must not be
// dropped as a duplicate of the other, after which its original is acked).
func TestJetStreamDeadLettersFromTwoGroupsBothStored(t *testing.T) {
	srv := startEmbedded(t)
	b := opener(srv, regStream())(t)
	fail := bus.HandlerFunc(func(context.Context, *bus.Message) error { return bus.Permanent(errors.New("boom")) })
	for _, g := range []string{"a", "b"} {
		_, err := b.Subscribe(t.Context(), "reg.orders", fail, bus.Group(g), bus.DeadLetter("reg.dlq."+g))
		require.NoError(t, err)
	}
	dlA, dlB := regCollect(t, b, "reg.dlq.a", "dla"), regCollect(t, b, "reg.dlq.b", "dlb")
	m := bus.NewMessage("reg.orders", "com.example.x.v1", nil)
	require.NoError(t, b.Publish(t.Context(), m))
	assert.Equal(t, m.Event.ID, regRecv(t, dlA, "group a's dead letter").Event.ID)
	assert.Equal(t, m.Event.ID, regRecv(t, dlB, "group b's dead letter").Event.ID)
}

// TestJetStreamBatchToDeniedSubjectFailsInTime: a publish the account may
// not make never gets an ack; PublishBatch and Close still return (bounded
// by publish_ack_timeout and drain_timeout), with bus.ErrTimeout.
func TestJetStreamBatchToDeniedSubjectFailsInTime(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir(), Configure: func(o *server.Options) {
		o.Users = []*server.User{{Username: "u", Password: "p", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"reg.ok.>", "$JS.>", "_INBOX.>"}},
		}}}
	}})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	js := regStream()
	js.PublishAckTimeout = 500 * time.Millisecond
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: js, Logger: quiet,
		Auth: natsbus.Auth{User: "u", Password: "p"}, DrainTimeout: 2 * time.Second})
	require.NoError(t, err)
	err = c.PublishBatch(context.Background(), []*driver.Message{
		{Subject: "reg.ok.1", Data: []byte("x")}, {Subject: "reg.denied", Data: []byte("y")},
	})
	require.ErrorIs(t, err, bus.ErrTimeout)
	assert.Contains(t, err.Error(), "reg.denied")
	assert.NotContains(t, err.Error(), "reg.ok.1", "the permitted message was stored")
	assert.NoError(t, c.Close(context.Background()))
}

// TestJetStreamSubscribeRacingCloseLeaksNothing: Subscribe concurrent with
// Close either fails or is drained by Close; no heartbeat goroutine
// survives (goleak in TestMain) and -race sees no race.
func TestJetStreamSubscribeRacingCloseLeaksNothing(t *testing.T) {
	srv := startEmbedded(t)
	for range 20 {
		c, err := natsbus.Open(t.Context(), natsbus.Config{URL: srv.URL(), JetStream: regStream(), Logger: quiet})
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = c.Subscribe(context.Background(), driver.SubscribeOptions{Subject: "reg.x", Group: "g"},
				func(*driver.Message) {})
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, c.Close(ctx))
		cancel()
		wg.Wait()
	}
}

// TestJetStreamUserConnLeftClean: on a user-supplied connection, Close
// removes what the backend added (the async-publish reply subscription).
func TestJetStreamUserConnLeftClean(t *testing.T) {
	srv := startEmbedded(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	// A first request creates nats.go's shared response subscription,
	// which belongs to the connection, not to the backend.
	_, err = nc.Request("$JS.API.INFO", nil, 5*time.Second)
	require.NoError(t, err)
	before := nc.NumSubscriptions()
	c, err := natsbus.Open(t.Context(), natsbus.Config{Conn: nc, JetStream: regStream(), Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, c.PublishBatch(t.Context(), []*driver.Message{{Subject: "reg.a", Data: []byte("x")}}))
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, before, nc.NumSubscriptions())
	assert.True(t, nc.IsConnected())
}

// TestConfigRefusesCredentialsInURL: a Config URL with user info is refused
// before dialing (it would reach logs through nats.go's connected URL).
func TestConfigRefusesCredentialsInURL(t *testing.T) {
	_, err := natsbus.Open(t.Context(), natsbus.Config{URL: "nats://s3cret@127.0.0.1:1"})
	require.ErrorIs(t, err, natsbus.ErrCredentialsInURL)
	assert.NotContains(t, err.Error(), "s3cret")
}
