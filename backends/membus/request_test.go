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
