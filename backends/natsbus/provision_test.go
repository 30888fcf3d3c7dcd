package natsbus_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// provisionOpen opens a natsbus connection with js on the test's server
// and closes it at once, returning Open's error.
func (e *jsTestEnv) provisionOpen(t *testing.T, js *natsbus.JetStreamConfig) error {
	t.Helper()
	c, err := natsbus.Open(t.Context(), natsbus.Config{URL: e.srv.URL(), JetStream: js, Logger: quiet})
	if err == nil {
		require.NoError(t, c.Close(t.Context()))
	}
	return err
}

// provisionSettings is a stream with every setting the backend checks.
func provisionSettings() natsbus.StreamConfig {
	return natsbus.StreamConfig{
		Name: "PROV", Subjects: []string{"prov.a.>", "prov.b.>"},
		Storage: "memory", Replicas: 1, Retention: "limits",
		MaxAge: time.Hour, Duplicates: time.Minute, MaxMsgs: 1000, MaxBytes: 1 << 20,
	}
}

func TestProvisionStreamCreatedWithSettings(t *testing.T) {
	e := jsTestStart(t)
	sc := provisionSettings()
	require.NoError(t, e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: sc}))
	have := e.streamInfo(t, "PROV").Config
	assert.ElementsMatch(t, sc.Subjects, have.Subjects)
	assert.Equal(t, jetstream.MemoryStorage, have.Storage)
	assert.Equal(t, 1, have.Replicas)
	assert.Equal(t, jetstream.LimitsPolicy, have.Retention)
	assert.Equal(t, time.Hour, have.MaxAge)
	assert.Equal(t, time.Minute, have.Duplicates)
	assert.EqualValues(t, 1000, have.MaxMsgs)
	assert.EqualValues(t, 1<<20, have.MaxBytes)

	require.NoError(t, e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: sc}), "open again, same settings")
	require.NoError(t, e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "PROV"}, NoCreate: true}),
		"open by name only")

	file := natsbus.StreamConfig{Name: "PROVF", Subjects: []string{"provf.>"}, Storage: "file", Retention: "interest"}
	require.NoError(t, e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: file}))
	have = e.streamInfo(t, "PROVF").Config
	assert.Equal(t, jetstream.FileStorage, have.Storage)
	assert.Equal(t, jetstream.InterestPolicy, have.Retention)
	assert.Zero(t, have.MaxAge, "kept forever")
	assert.Equal(t, 2*time.Minute, have.Duplicates, "the server's default window")
}

func TestProvisionStreamConflictNamesTheField(t *testing.T) {
	e := jsTestStart(t)
	require.NoError(t, e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: provisionSettings()}))
	cases := map[string]func(*natsbus.StreamConfig){
		"subjects":   func(s *natsbus.StreamConfig) { s.Subjects = []string{"prov.a.>"} },
		"storage":    func(s *natsbus.StreamConfig) { s.Storage = "file" },
		"retention":  func(s *natsbus.StreamConfig) { s.Retention = "workqueue" },
		"replicas":   func(s *natsbus.StreamConfig) { s.Replicas = 3 },
		"max_age":    func(s *natsbus.StreamConfig) { s.MaxAge = 2 * time.Hour },
		"duplicates": func(s *natsbus.StreamConfig) { s.Duplicates = 30 * time.Second },
		"max_msgs":   func(s *natsbus.StreamConfig) { s.MaxMsgs = 5 },
		"max_bytes":  func(s *natsbus.StreamConfig) { s.MaxBytes = 5 << 20 },
	}
	for field, change := range cases {
		t.Run(field, func(t *testing.T) {
			sc := provisionSettings()
			change(&sc)
			err := e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: sc})
			require.ErrorIs(t, err, natsbus.ErrStreamConflict)
			assert.Contains(t, err.Error(), field)
			assert.Contains(t, err.Error(), "PROV")
		})
	}
	assert.Equal(t, time.Hour, e.streamInfo(t, "PROV").Config.MaxAge, "a conflicting open changed the stream")
}

func TestProvisionStreamNotFound(t *testing.T) {
	e := jsTestStart(t)
	err := e.provisionOpen(t, &natsbus.JetStreamConfig{
		Stream: natsbus.StreamConfig{Name: "MISSING", Subjects: []string{"missing.>"}}, NoCreate: true,
	})
	require.ErrorIs(t, err, natsbus.ErrStreamNotFound)
	assert.Contains(t, err.Error(), "MISSING")

	err = e.provisionOpen(t, &natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "MISSING"}})
	require.ErrorIs(t, err, natsbus.ErrStreamNotFound)
	assert.Contains(t, err.Error(), "subjects=", "the error says how to create it")

	_, err = e.js.Stream(t.Context(), "MISSING")
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound, "a stream was created")
}

func TestProvisionFromURLConfiguresStreamAndConsumer(t *testing.T) {
	e := jsTestStart(t)
	raw := "jetstream://" + e.srv.Addr() + "?stream=URLS&subjects=url.a.>,url.b.>&storage=memory" +
		"&max_age=1h&duplicates=1m&ack_wait=2s&max_deliver=7&max_ack_pending=50"
	b, err := bus.Open(t.Context(), raw, bus.Logger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	have := e.streamInfo(t, "URLS").Config
	assert.ElementsMatch(t, []string{"url.a.>", "url.b.>"}, have.Subjects)
	assert.Equal(t, jetstream.MemoryStorage, have.Storage)
	assert.Equal(t, time.Hour, have.MaxAge)
	assert.Equal(t, time.Minute, have.Duplicates)

	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	_, err = b.Subscribe(t.Context(), "url.a.>", noop, bus.Group("billing"))
	require.NoError(t, err)
	name := natsbus.ConsumerName("billing")
	cc := e.consumerInfo(t, "URLS", name).Config
	assert.Equal(t, name, cc.Durable)
	assert.Equal(t, "url.a.>", cc.FilterSubject)
	assert.Equal(t, jetstream.AckExplicitPolicy, cc.AckPolicy)
	assert.Equal(t, 2*time.Second, cc.AckWait)
	assert.Equal(t, 7, cc.MaxDeliver)
	assert.Equal(t, 50, cc.MaxAckPending)
}

// provisionReplay opens a bus with the given start parameter, subscribes a
// new group, publishes a marker and returns the data of everything the
// group received up to the marker.
func provisionReplay(t *testing.T, e *jsTestEnv, group, start, marker string) []string {
	t.Helper()
	u := "jetstream://" + e.srv.Addr() + "?stream=SP&start=" + url.QueryEscape(start)
	b, err := bus.Open(t.Context(), u, bus.Logger(quiet))
	require.NoError(t, err)
	defer func() { assert.NoError(t, b.Close(context.Background())) }()
	got := make(chan string, 16)
	_, err = b.Subscribe(t.Context(), "sp.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- string(m.Event.Data)
		return nil
	}), bus.Group(group))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), jsTestEvent("sp.x", marker)))
	var out []string
	for {
		d := jsTestRecv(t, got, "the marker "+marker)
		out = append(out, d)
		if d == marker {
			return out
		}
	}
}

func TestProvisionStartPositions(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("SP", "sp.>"))
	for _, d := range []string{"m1", "m2", "m3"} {
		require.NoError(t, b.Publish(t.Context(), jsTestEvent("sp.x", d)))
	}
	st, err := e.js.Stream(t.Context(), "SP")
	require.NoError(t, err)
	third, err := st.GetMsg(t.Context(), 3)
	require.NoError(t, err)

	assert.Equal(t, []string{"m1", "m2", "m3", "all"}, provisionReplay(t, e, "g-all", "all", "all"))
	assert.Equal(t, []string{"new"}, provisionReplay(t, e, "g-new", "new", "new"))
	assert.Equal(t, []string{"m2", "m3", "all", "new", "seq"}, provisionReplay(t, e, "g-seq", "seq:2", "seq"))
	at := "time:" + third.Time.UTC().Format(time.RFC3339Nano)
	assert.Equal(t, []string{"m3", "all", "new", "seq", "time"}, provisionReplay(t, e, "g-time", at, "time"))

	// An existing durable keeps its position whatever the start says: it
	// resumes after the last message it acked.
	assert.Equal(t, []string{"seq", "time", "keep"}, provisionReplay(t, e, "g-new", "seq:1", "keep"))
	assert.Equal(t, []string{"new", "seq", "time", "keep", "again"}, provisionReplay(t, e, "g-all", "all", "again"))
}

func TestProvisionPlainSubscriptionConsumerGoneAfterDrain(t *testing.T) {
	e := jsTestStart(t)
	b := e.open(t, jsTestStream("EPH", "eph.>"))
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	sub, err := b.Subscribe(t.Context(), "eph.>", noop)
	require.NoError(t, err)
	st, err := e.js.Stream(t.Context(), "EPH")
	require.NoError(t, err)
	names := st.ConsumerNames(t.Context())
	var plain []string
	for n := range names.Name() {
		plain = append(plain, n)
	}
	require.NoError(t, names.Err())
	require.Len(t, plain, 1)
	ci := e.consumerInfo(t, "EPH", plain[0])
	assert.Empty(t, ci.Config.Durable)
	assert.Equal(t, 5*time.Minute, ci.Config.InactiveThreshold, "removed by the server if the client dies")

	group, err := b.Subscribe(t.Context(), "eph.>", noop, bus.Group("keep"))
	require.NoError(t, err)
	assert.Equal(t, 2, e.streamInfo(t, "EPH").State.Consumers)

	require.NoError(t, sub.Drain(t.Context()))
	require.NoError(t, group.Drain(t.Context()))
	assert.Equal(t, 1, e.streamInfo(t, "EPH").State.Consumers, "consumers after Drain")
	_, err = e.js.Consumer(t.Context(), "EPH", plain[0])
	assert.ErrorIs(t, err, jetstream.ErrConsumerNotFound)
	_, err = e.js.Consumer(t.Context(), "EPH", natsbus.ConsumerName("keep"))
	assert.NoError(t, err, "the group's durable consumer")

	ctx, cancel := context.WithTimeout(context.Background(), jsTestTimeout)
	defer cancel()
	require.NoError(t, b.Close(ctx))
	assert.Equal(t, 1, e.streamInfo(t, "EPH").State.Consumers, "consumers after Close")
}
