package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// External-server checks of issue 8's consumer model (run by
// TestConformanceExternal): one consumer per group, on servers with and
// without multi-filter consumers (2.10+), recreation after deletion, and
// the MaxDeliver backstop.

// compatGroupPatterns: a group whose patterns reduce to one filter works
// on every server; one that needs several filter subjects works on 2.10+
// and is refused with bus.ErrNotSupported, naming the server version and
// the subjects, on older servers.
func compatGroupPatterns(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config, js *natsbus.JetStreamConfig, version string, pre210 bool) {
	b := compatOpener(cfg(js))(t)
	id := compatRandom()
	got := make(chan string, 16)
	h := bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m.Subject
		return nil
	})
	one, other := "bustest."+id+".one.>", "bustest."+id+".one.x"
	_, err := b.Subscribe(t.Context(), one, h, bus.Group("one-"+id))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), other, h, bus.Group("one-"+id))
	require.NoError(t, err, "a pattern inside the group's other one")
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage(other, "com.example.g.v1", nil)))
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("bustest."+id+".one.end", "com.example.g.v1", nil)))
	assert.Equal(t, other, jsTestRecv(t, got, "the message"))
	assert.Equal(t, "bustest."+id+".one.end", jsTestRecv(t, got, "the marker"), "handled once")

	// Widened in place: the narrower pattern first.
	_, err = b.Subscribe(t.Context(), "bustest."+id+".w.x", h, bus.Group("w-"+id))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), "bustest."+id+".w.>", h, bus.Group("w-"+id))
	require.NoError(t, err, "widening a group's single filter on nats-server %s", version)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("bustest."+id+".w.y", "com.example.g.v1", nil)))
	assert.Equal(t, "bustest."+id+".w.y", jsTestRecv(t, got, "a message of the widened filter"))

	a, c := "bustest."+id+".a.>", "bustest."+id+".c.>"
	_, err = b.Subscribe(t.Context(), a, h, bus.Group("two-"+id))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), c, h, bus.Group("two-"+id))
	if !pre210 {
		require.NoError(t, err, "two filter subjects on nats-server %s", version)
		return
	}
	require.ErrorIs(t, err, bus.ErrNotSupported)
	t.Logf("nats-server %s: %v", version, err)
	for _, want := range []string{version, a, c} {
		assert.Contains(t, err.Error(), want)
	}
	var st jetstream.Stream
	require.True(t, b.As(&st))
	cons, err := st.Consumer(t.Context(), natsbus.ConsumerName("two-"+id))
	require.NoError(t, err)
	assert.Equal(t, a, cons.CachedInfo().Config.FilterSubject, "the group's consumer is left as it was")
}

// compatConsumerRecreated: a group's consumer deleted through the API is
// recreated and messages published after the deletion arrive.
func compatConsumerRecreated(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config, js *natsbus.JetStreamConfig) {
	c := compatOpen(t, cfg(js))
	b := bus.New(c, bus.Logger(quiet))
	id := compatRandom()
	subject := "bustest." + id + ".del"
	_, got := delCollect(t, c, driver.SubscribeOptions{Subject: subject, Group: "del-" + id})
	deleteSubscription(t, b, subject, "del-"+id)
	delPublish(t, c, subject, "after")
	assert.Equal(t, "after", jsTestRecv(t, got, "a message published after the deletion"))
}

// compatStatusHeaderEnds: an empty message with a Status header, which
// nats.go never hands to the bus, reaches the handler as an Exhausted
// delivery through the MaxDeliver backstop and its advisory.
func compatStatusHeaderEnds(t *testing.T, cfg func(*natsbus.JetStreamConfig) natsbus.Config, js *natsbus.JetStreamConfig) {
	short := *js
	short.AckWait = 200 * time.Millisecond
	c := compatOpen(t, cfg(&short))
	id := compatRandom()
	subject := "bustest." + id + ".status"
	got := make(chan *driver.Message, 4)
	_, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: subject, Group: "st-" + id, MaxAttempts: 1},
		func(m *driver.Message) { got <- m })
	require.NoError(t, err)
	var nc *nats.Conn
	require.True(t, c.As(&nc))
	jsh, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = jsh.PublishMsg(t.Context(), &nats.Msg{Subject: subject, Header: nats.Header{"Status": {"503"}}})
	require.NoError(t, err)
	m := jsTestRecv(t, got, "the exhausted delivery")
	assert.True(t, m.Exhausted)
	assert.Equal(t, 2, m.Attempt)
}
