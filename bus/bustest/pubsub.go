package bustest

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// delivery is what a handler saw, for checking in the test goroutine.
type delivery struct {
	m      *bus.Message
	value  any   // a value of the handler's context
	ctxErr error // the handler context's error while handling
}

type ctxKey struct{}

// testPublishSubscribe: a message published on one Bus reaches a
// subscriber on another, with its ID filled in place; the handler's context
// carries the values (not the cancellation) of Subscribe's context; Drain
// stops delivery and is idempotent.
func testPublishSubscribe(e *env) {
	t := e.t
	sub, pub := e.bus(), e.bus()
	subj := e.subject("ping")
	got := make(chan delivery, 4)
	sctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "from-subscribe"))
	s, err := sub.Subscribe(sctx, subj, bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		got <- delivery{m: m, value: ctx.Value(ctxKey{}), ctxErr: ctx.Err()}
		return nil
	}))
	cancel() // ends the Subscribe call's context only
	require.NoError(t, err)
	assert.Equal(t, subj, s.Pattern())

	m := e.publish(t, pub, bus.NewMessage(subj, testType, []byte("hello")))
	assert.NotEmpty(t, m.Event.ID, "Publish fills the event ID in place")
	d := recv(t, e.timeout, got, "the published message")
	assert.Equal(t, subj, d.m.Subject)
	assert.Equal(t, m.Event.ID, d.m.Event.ID)
	assert.Equal(t, []byte("hello"), d.m.Event.Data)
	assert.Equal(t, 1, d.m.Attempt())
	_, body := d.m.Raw()
	assert.NotEmpty(t, body, "Raw returns the bytes received")
	assert.Equal(t, "from-subscribe", d.value, "the handler context carries Subscribe's values")
	assert.NoError(t, d.ctxErr, "cancelling Subscribe's context must not cancel handlers")

	require.NoError(t, s.Drain(t.Context()))
	require.NoError(t, s.Drain(t.Context()), "a second Drain returns the first result")
	witness := Recorder(t, sub, subj)
	end := e.publish(t, pub, sentinel(subj)).Event.ID
	e.settled(t, witness.col, end, 0)
	select {
	case d := <-got:
		t.Errorf("a drained subscription still received %s", describe([]*bus.Message{d.m}))
	default:
	}
}

// testFanOut: every plain subscriber, on the same Bus or another, gets
// every message exactly once.
func testFanOut(e *env) {
	t := e.t
	sub1, sub2, pub := e.bus(), e.bus(), e.bus()
	subj := e.subject("fan")
	recs := []*Recording{Recorder(t, sub1, subj), Recorder(t, sub1, subj), Recorder(t, sub2, subj)}
	want := e.publishN(t, pub, subj, 20)
	end := e.publish(t, pub, sentinel(subj)).Event.ID
	for i, r := range recs {
		ms, _ := e.settled(t, r.col, end, len(want))
		assert.ElementsMatch(t, want, ids(ms), "subscriber %d must get every message exactly once", i)
	}
}

// testGroups: with two groups of several members (on two Buses) and a plain
// subscriber, each message is handled exactly once per group, the members
// of a group share the work, and the plain subscriber gets everything.
func testGroups(e *env) {
	t := e.t
	if !e.f.Groups {
		t.Skip("the backend has no consumer groups (Features.Groups is false)")
	}
	subA, subB, pub := e.bus(), e.bus(), e.bus()
	subj := e.subject("work")
	const members, n = 3, 200
	groups := []string{"billing", "audit"}
	cols := make([]*collector, len(groups))
	for gi, g := range groups {
		cols[gi] = newCollector()
		for i := range members {
			b := subA
			if i == members-1 {
				b = subB
			}
			_, err := b.Subscribe(t.Context(), subj, cols[gi].handler(strconv.Itoa(i)), bus.Group(e.group(g)))
			require.NoError(t, err)
		}
	}
	plain := Recorder(t, subA, subj)
	want := e.publishN(t, pub, subj, n)
	end := e.publish(t, pub, sentinel(subj)).Event.ID
	for gi, g := range groups {
		ms, from := e.settled(t, cols[gi], end, n)
		assert.ElementsMatch(t, want, ids(ms), "group %s: each message handled exactly once", g)
		assert.Greater(t, distinct(from), 1, "group %s: all %d messages went to one member", g, n)
	}
	ms, _ := e.settled(t, plain.col, end, n)
	assert.ElementsMatch(t, want, ids(ms), "a plain subscriber beside groups gets every message")
}

// testGroupOverlap: one group subscribed to two overlapping patterns (two
// routes of one service, "orders.>" and "orders.*.created") handles each
// message once, whichever patterns match it: once per group, as NATS
// queue groups do across patterns.
func testGroupOverlap(e *env) {
	t := e.t
	if !e.f.Groups || !e.f.Wildcards {
		t.Skip("needs consumer groups and wildcards (Features.Groups and Features.Wildcards)")
	}
	sub, pub := e.bus(), e.bus()
	wide, narrow := e.subject("orders", ">"), e.subject("orders", "*", "created")
	c := newCollector()
	for _, p := range []string{wide, narrow} {
		_, err := sub.Subscribe(t.Context(), p, c.handler(p), bus.Group(e.group("overlap")))
		require.NoError(t, err)
	}
	const n = 40
	var want []string
	for i := range n {
		event := "created" // matches both patterns
		if i%2 == 1 {
			event = "paid" // matches the wide one only
		}
		want = append(want, e.publish(t, pub, numbered(e.subject("orders", "eu", event), i)).Event.ID)
	}
	end := e.publish(t, pub, sentinel(e.subject("orders", "eu", "created"))).Event.ID
	ms, from := e.settled(t, c, end, n)
	assert.ElementsMatch(t, want, ids(ms), "each message handled once by the group")
	for i, m := range ms {
		if strings.HasSuffix(m.Subject, ".paid") {
			assert.Equal(t, wide, from[i], "a message only the wide pattern matches went to the narrow route")
		}
	}
}

func distinct(xs []string) int {
	set := make(map[string]bool, len(xs))
	for _, x := range xs {
		set[x] = true
	}
	return len(set)
}

// testOrdering: two publishers send 500 messages each, concurrently, to one
// subscriber with Concurrency 1; each publisher's messages arrive in the
// order published.
func testOrdering(e *env) {
	t := e.t
	if !e.f.Ordering {
		t.Skip("the backend does not keep per-publisher order (Features.Ordering is false)")
	}
	sub := e.bus()
	pubs := []*bus.Bus{e.bus(), e.bus()}
	subj := e.subject("seq")
	const n = 500
	c := newCollector()
	_, err := sub.Subscribe(t.Context(), subj, c.handler(""), bus.Concurrency(1))
	require.NoError(t, err)
	errs := make([]error, len(pubs))
	var wg sync.WaitGroup
	for p, b := range pubs {
		wg.Go(func() {
			for i := 0; i < n && errs[p] == nil; i++ {
				m := numbered(subj, i)
				m.Header.Set("X-Bustest-Publisher", strconv.Itoa(p))
				errs[p] = b.Publish(t.Context(), m)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	ms, _, ok := c.waitUntil(e.timeout, func(ms []*bus.Message, _ []string) bool { return len(ms) >= n*len(pubs) })
	require.True(t, ok, "waited %v for %d messages, got %d", e.timeout, n*len(pubs), len(ms))
	next := make([]int, len(pubs))
	for i, m := range ms {
		p, err := strconv.Atoi(m.Header.Get("X-Bustest-Publisher"))
		if err != nil || p < 0 || p >= len(pubs) {
			t.Fatalf("message at position %d lost its publisher header: %s", i, describe([]*bus.Message{m}))
		}
		if number(m) != next[p] {
			t.Fatalf("publisher %d: message %d arrived where %d was due (position %d)", p, number(m), next[p], i)
		}
		next[p]++
	}
}
