package membus

import (
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFanOut(t *testing.T) {
	c := open(t, Options{})
	const subs, msgs = 5, 100
	chans := make([]<-chan *driver.Message, subs)
	for i := range chans {
		chans[i], _ = collect(t, c, "orders.created", "")
	}
	for i := range msgs {
		publish(t, c, "orders.created", fmt.Sprint(i))
	}
	for _, ch := range chans {
		for i := range msgs {
			m := receive(t, ch)
			// Per publisher, per subscriber FIFO.
			require.Equal(t, fmt.Sprint(i), string(m.Data))
			require.Equal(t, "orders.created", m.Subject)
			require.Equal(t, 1, m.Attempt)
		}
	}
}

func TestFanOutSharesOneCopy(t *testing.T) {
	c := open(t, Options{})
	ch1, _ := collect(t, c, "a", "")
	ch2, _ := collect(t, c, "a", "")
	publish(t, c, "a", "x")
	m1, m2 := receive(t, ch1), receive(t, ch2)
	assert.Same(t, &m1.Data[0], &m2.Data[0])
	assert.NotSame(t, m1, m2)
}

func TestGroupExactlyOnceAndSpread(t *testing.T) {
	c := open(t, Options{})
	other := open(t, Options{}) // another broker: must not see anything
	otherCh, _ := collect(t, other, ">", "")
	const members, msgs = 4, 1000
	var mu sync.Mutex
	seen := make(map[string]int)
	perMember := make([]int, members)
	var wg sync.WaitGroup
	wg.Add(msgs)
	subs := make([]driver.Subscription, members)
	for i := range members {
		var err error
		subs[i], err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "work.*", Group: "workers"},
			func(m *driver.Message) {
				assert.NoError(t, m.Acker.Ack(t.Context()))
				mu.Lock()
				seen[string(m.Data)]++
				perMember[i]++
				mu.Unlock()
				wg.Done()
			})
		require.NoError(t, err)
	}
	plain, _ := collect(t, c, "work.>", "")
	for i := range msgs {
		publish(t, c, "work.item", fmt.Sprint(i))
	}
	wg.Wait()
	for range msgs {
		receive(t, plain) // fan-out still gets every message
	}
	for _, s := range subs {
		drain(t, s)
	}
	assert.Len(t, seen, msgs)
	for k, n := range seen {
		assert.Equal(t, 1, n, "message %s delivered %d times", k, n)
	}
	for i, n := range perMember {
		assert.Positive(t, n, "member %d got nothing", i)
	}
	assert.Empty(t, otherCh)
}

// As in NATS, group identity is the name: members subscribed with different
// patterns that both match still share each message.
func TestGroupAcrossPatterns(t *testing.T) {
	c := open(t, Options{})
	ch1, s1 := collect(t, c, "a.*", "g")
	ch2, s2 := collect(t, c, "a.b", "g")
	ch3, s3 := collect(t, c, "a.b", "h")
	const msgs = 50
	for range msgs {
		publish(t, c, "a.b", "x")
	}
	for range msgs {
		receive(t, ch3)
	}
	drain(t, s1)
	drain(t, s2)
	drain(t, s3)
	assert.Equal(t, msgs, len(ch1)+len(ch2))
	assert.Positive(t, len(ch1))
	assert.Positive(t, len(ch2))
}

// Group members share messages on any subject, as NATS spreads a queue
// group's messages at random: reply inboxes (never cached as routes) and
// subjects whose cached route was just rebuilt included, where every
// message used to go to the first member.
func TestGroupSpreadsOnUncachedRoutes(t *testing.T) {
	c := open(t, Options{})
	ch1, s1 := collect(t, c, "_INBOX.>", "g")
	ch2, s2 := collect(t, c, "_INBOX.>", "g")
	const msgs = 64
	for i := range msgs {
		publish(t, c, fmt.Sprintf("_INBOX.x.%d", i), "x")
	}
	drain(t, s1)
	drain(t, s2)
	assert.Equal(t, msgs, len(ch1)+len(ch2))
	assert.Positive(t, len(ch1), "first member")
	assert.Positive(t, len(ch2), "second member")
}

func TestWildcardDelivery(t *testing.T) {
	c := open(t, Options{})
	star, s1 := collect(t, c, "orders.*", "")
	full, s2 := collect(t, c, "orders.>", "")
	all, s3 := collect(t, c, ">", "")
	mid, s4 := collect(t, c, "orders.*.eu", "")
	for _, subj := range []string{"orders", "orders.created", "orders.created.eu", "orders.created.us", "users.x"} {
		publish(t, c, subj, subj)
	}
	for _, s := range []driver.Subscription{s1, s2, s3, s4} {
		drain(t, s)
	}
	assert.Equal(t, []string{"orders.created"}, subjects(star))
	assert.Equal(t, []string{"orders.created", "orders.created.eu", "orders.created.us"}, subjects(full))
	assert.Equal(t, []string{"orders", "orders.created", "orders.created.eu", "orders.created.us", "users.x"}, subjects(all))
	assert.Equal(t, []string{"orders.created.eu"}, subjects(mid))
}

func subjects(ch <-chan *driver.Message) []string {
	var out []string
	for len(ch) > 0 {
		out = append(out, (<-ch).Subject)
	}
	return out
}

func TestNamedInstances(t *testing.T) {
	a1 := open(t, Options{Name: "TestNamedInstances-a"})
	a2 := open(t, Options{Name: "TestNamedInstances-a"})
	b := open(t, Options{Name: "TestNamedInstances-b"})
	priv := open(t, Options{})
	chA, sA := collect(t, a2, "x", "")
	chB, sB := collect(t, b, "x", "")
	chP, sP := collect(t, priv, "x", "")
	publish(t, a1, "x", "from a1")
	assert.Equal(t, "from a1", string(receive(t, chA).Data))
	drain(t, sA)
	drain(t, sB)
	drain(t, sP)
	assert.Empty(t, chB)
	assert.Empty(t, chP)
}

func TestPrivateURLsIsolate(t *testing.T) {
	c1, err := OpenURL(mustURL(t, "mem://"))
	require.NoError(t, err)
	c2, err := OpenURL(mustURL(t, "mem://"))
	require.NoError(t, err)
	ch, sub := collect(t, c2, ">", "")
	publish(t, c1, "x", "")
	drain(t, sub)
	assert.Empty(t, ch)
	require.NoError(t, c1.Close(t.Context()))
	require.NoError(t, c2.Close(t.Context()))
}

func TestNamedBrokerForgottenAfterLastClose(t *testing.T) {
	const name = "TestNamedBrokerForgotten"
	c1, err := OpenURL(mustURL(t, "mem://"+name))
	require.NoError(t, err)
	_, _ = collect(t, c1, "x", "")
	c2, err := Open(Options{Name: name})
	require.NoError(t, err)
	require.Same(t, c1.b, c2.b)
	require.NoError(t, c1.Close(t.Context()))
	require.NoError(t, c2.Close(t.Context()))

	c3 := open(t, Options{Name: name})
	assert.NotSame(t, c1.b, c3.b)
	// The new broker has no subscription: nobody responds.
	_, err = c3.Request(t.Context(), &driver.Message{Subject: "x"})
	require.ErrorIs(t, err, driver.ErrNoResponders)
}

func TestClosed(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	require.NoError(t, c.Close(t.Context()))
	require.NoError(t, c.Close(t.Context()), "Close is idempotent")
	require.ErrorIs(t, c.Publish(t.Context(), &driver.Message{Subject: "x"}), driver.ErrClosed)
	_, err = c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "x"}, func(*driver.Message) {})
	require.ErrorIs(t, err, driver.ErrClosed)
	_, err = c.Request(t.Context(), &driver.Message{Subject: "x"})
	require.ErrorIs(t, err, driver.ErrClosed)
}

func TestAs(t *testing.T) {
	c := open(t, Options{})
	var got *Conn
	require.True(t, c.As(&got))
	assert.Same(t, c, got)
	var wrong *Options
	assert.False(t, c.As(&wrong))
	assert.False(t, c.As(nil))
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestOpenURL(t *testing.T) {
	c, err := OpenURL(mustURL(t, "mem://TestOpenURL?buffer=7&full=error&max_payload=99"))
	require.NoError(t, err)
	assert.Equal(t, Options{Name: "TestOpenURL", Buffer: 7, Full: Error, MaxPayload: 99}, c.opts)
	require.NoError(t, c.Close(t.Context()))

	c, err = OpenURL(mustURL(t, "mem:///?full=block"))
	require.NoError(t, err)
	assert.Equal(t, Options{Buffer: DefaultBuffer, Full: Block, MaxPayload: DefaultMaxPayload}, c.opts)
	require.NoError(t, c.Close(t.Context()))

	_, err = OpenURL(mustURL(t, "mem://x?bufer=3"))
	require.ErrorContains(t, err, `"bufer"`)
	require.ErrorContains(t, err, "buffer, full, max_payload")
	for _, bad := range []string{
		"nats://x", "mem:x", "mem://x/path", "mem://u@x", "mem://x:1", "mem://x#f",
		"mem://x?buffer=0", "mem://x?buffer=-1", "mem://x?buffer=a", "mem://x?full=drop",
		"mem://x?max_payload=0", "mem://x?buffer=1&buffer=2",
	} {
		_, err := OpenURL(mustURL(t, bad))
		assert.Error(t, err, bad)
	}
}

func TestOpenOptionsValidated(t *testing.T) {
	for _, o := range []Options{{Buffer: -1}, {MaxPayload: -1}, {Full: 7}} {
		_, err := Open(o)
		assert.Error(t, err, "%+v", o)
	}
	assert.Equal(t, "block", Block.String())
	assert.Equal(t, "error", Error.String())
}
