package membus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// respond subscribes a responder that answers "re:" + data.
func respond(t testing.TB, c *Conn, subject, group string) driver.Subscription {
	return subscribe(t, c, driver.SubscribeOptions{Subject: subject, Group: group},
		func(m *driver.Message) {
			assert.Nil(t, m.Acker, "requests are at most once")
			assert.True(t, strings.HasPrefix(m.Reply, "_INBOX."), m.Reply)
			err := c.Publish(t.Context(), &driver.Message{Subject: m.Reply, Data: append([]byte("re:"), m.Data...),
				Header: map[string][]string{"K": {"v"}}})
			assert.NoError(t, err)
		})
}

func TestRequestReply(t *testing.T) {
	server := open(t, Options{Name: "TestRequestReply"})
	client := open(t, Options{Name: "TestRequestReply"})
	s1 := respond(t, server, "svc.*", "svc")
	s2 := respond(t, server, "svc.*", "svc")
	for range 20 {
		r, err := client.Request(t.Context(), &driver.Message{Subject: "svc.echo", Data: []byte("hi")})
		require.NoError(t, err)
		assert.Equal(t, "re:hi", string(r.Data))
		assert.Equal(t, []string{"v"}, r.Header["K"])
		assert.Nil(t, r.Acker)
	}
	drain(t, s1)
	drain(t, s2)
	assertNoInbox(t, client.b)
}

func assertNoInbox(t testing.TB, b *broker) {
	t.Helper()
	b.mu.RLock()
	defer b.mu.RUnlock()
	assert.Empty(t, b.inboxes)
	for subj := range b.routes {
		assert.False(t, strings.HasPrefix(subj, inboxPrefix), "route cache keeps %s", subj)
	}
}

func TestRequestNoResponders(t *testing.T) {
	c := open(t, Options{})
	_, s := collect(t, c, "other", "")
	_, err := c.Request(t.Context(), &driver.Message{Subject: "nobody.home"})
	require.ErrorIs(t, err, driver.ErrNoResponders)
	assert.Contains(t, err.Error(), `"nobody.home"`)
	drain(t, s)
	_, err = c.Request(t.Context(), &driver.Message{Subject: "other"})
	require.ErrorIs(t, err, driver.ErrNoResponders, "a drained subscription does not respond")
	assertNoInbox(t, c.b)
}

func TestRequestTimeout(t *testing.T) {
	c := open(t, Options{})
	got := make(chan *driver.Message, 1)
	s := subscribe(t, c, driver.SubscribeOptions{Subject: "slow"}, func(m *driver.Message) {
		got <- m // never answers
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Request(ctx, &driver.Message{Subject: "slow"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, driver.ErrTimeout)
	m := recv(t, got)
	assert.Equal(t, 1, m.Attempt)
	assert.Nil(t, m.Acker)

	ctx, cancel = context.WithCancel(t.Context())
	go func() { <-got; cancel() }()
	_, err = c.Request(ctx, &driver.Message{Subject: "slow"})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, driver.ErrTimeout)
	drain(t, s)
	assertNoInbox(t, c.b)
}

// A reply arriving after the requester gave up goes nowhere, and the
// requester's message is not redelivered even though nobody acked it.
func TestRequestAtMostOnce(t *testing.T) {
	c := open(t, Options{})
	calls := make(chan *driver.Message, 4)
	s := subscribe(t, c, driver.SubscribeOptions{Subject: "once"}, func(m *driver.Message) {
		calls <- m
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	_, err := c.Request(ctx, &driver.Message{Subject: "once"})
	require.ErrorIs(t, err, driver.ErrTimeout)
	m := recv(t, calls)
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: m.Reply}))
	drain(t, s)
	assert.Empty(t, calls)
	assertNoInbox(t, c.b)
}

func TestRequestWakesOnClose(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	got := make(chan struct{})
	subscribe(t, c, driver.SubscribeOptions{Subject: "r"}, func(*driver.Message) { close(got) })
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), &driver.Message{Subject: "r"})
		errc <- err
	}()
	recv(t, got)
	require.NoError(t, c.Close(t.Context()))
	require.ErrorIs(t, recv(t, errc), driver.ErrClosed)
}

func TestRequestLeavesCallerMessageAlone(t *testing.T) {
	c := open(t, Options{})
	s := respond(t, c, "svc", "")
	values := []string{" b "}
	m := &driver.Message{Subject: "svc", Data: []byte("x"), Header: map[string][]string{"A": values}}
	_, err := c.Request(t.Context(), m)
	require.NoError(t, err)
	assert.Empty(t, m.Reply)
	assert.Equal(t, []string{" b "}, values, "cleaning never writes through the caller's slice")
	drain(t, s)
}

func TestPublishWithReplyIsAtMostOnce(t *testing.T) {
	c := open(t, Options{})
	ch, s := collect(t, c, "x", "")
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "x", Reply: "answers.here"}))
	m := receive(t, ch)
	assert.Equal(t, "answers.here", m.Reply)
	assert.Nil(t, m.Acker)
	drain(t, s)
}

// Reply subjects have nats.go's shape, "_INBOX.<connection id>.<n>" (three
// tokens, one prefix per Conn), so a wildcard subscription sees replies on
// mem exactly when it would on NATS: "_INBOX.*.*" and "_INBOX.>" do,
// "_INBOX.*" does not.
func TestRequestInboxShapeLikeNATS(t *testing.T) {
	c := open(t, Options{Name: t.Name()})
	other := open(t, Options{Name: t.Name()})
	replies := make(chan string, 4)
	s := subscribe(t, c, driver.SubscribeOptions{Subject: "svc"}, func(m *driver.Message) {
		replies <- m.Reply
		assert.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: m.Reply, Data: []byte("re")}))
	})
	wide, ws := collect(t, c, "_INBOX.*.*", "")
	narrow, ns := collect(t, c, "_INBOX.*", "")
	var inboxes []string
	for _, requester := range []*Conn{c, c, other} {
		_, err := requester.Request(t.Context(), &driver.Message{Subject: "svc"})
		require.NoError(t, err)
		inbox := recv(t, replies)
		assert.Equal(t, "re", string(receive(t, wide).Data), "_INBOX.*.* sees the reply to %s", inbox)
		inboxes = append(inboxes, inbox)
	}
	for _, inbox := range inboxes {
		toks := strings.Split(inbox, ".")
		require.Len(t, toks, 3, "%q has nats.go's shape", inbox)
		assert.Equal(t, "_INBOX", toks[0])
	}
	prefix := func(s string) string { return s[:strings.LastIndexByte(s, '.')] }
	assert.Equal(t, prefix(inboxes[0]), prefix(inboxes[1]), "one prefix per Conn")
	assert.NotEqual(t, inboxes[0], inboxes[1], "a new reply subject per request")
	assert.NotEqual(t, prefix(inboxes[0]), prefix(inboxes[2]), "each Conn has its own prefix")

	publish(t, c, "_INBOX.sentinel", "sentinel") // FIFO: anything earlier comes first
	assert.Equal(t, "sentinel", string(receive(t, narrow).Data), "_INBOX.* saw no reply")
	drain(t, s)
	drain(t, ws)
	drain(t, ns)
	assertNoInbox(t, c.b)
}

// A reply with no data and "Status: 503" is what a NATS server sends when
// nobody listens, and nats.go reports it as no responders whoever sent
// it; so does mem. With data it is an ordinary reply.
func TestRequestStatusReplyLikeNATS(t *testing.T) {
	c := open(t, Options{})
	s := subscribe(t, c, driver.SubscribeOptions{Subject: "svc.*"}, func(m *driver.Message) {
		reply := &driver.Message{Subject: m.Reply, Header: map[string][]string{"Status": {"503"}}}
		if m.Subject == "svc.data" {
			reply.Data = []byte("x")
		}
		assert.NoError(t, c.Publish(t.Context(), reply))
	})
	_, err := c.Request(t.Context(), &driver.Message{Subject: "svc.empty"})
	require.ErrorIs(t, err, driver.ErrNoResponders)
	r, err := c.Request(t.Context(), &driver.Message{Subject: "svc.data"})
	require.NoError(t, err)
	assert.Equal(t, "x", string(r.Data))
	drain(t, s)
}
