package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	_ "github.com/busway/busway/backends/membus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/deadletter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	orderType  = "com.example.order.placed.v1"
	markerType = "com.example.marker.v1"
	deadSubj   = "dead.orders"
)

// seen records the event ids a group's handler was called with, and
// wakes waiters on each call.
type seen struct {
	mu   sync.Mutex
	ids  []string
	wake chan struct{}
}

func newSeen() *seen { return &seen{wake: make(chan struct{}, 64)} }

func (s *seen) add(id string) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
	s.wake <- struct{}{}
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// waitFor waits until id was seen.
func (s *seen) waitFor(t *testing.T, id string) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ids := s.list()
		for _, v := range ids {
			if v == id {
				return ids
			}
		}
		select {
		case <-s.wake:
		case <-deadline:
			t.Fatalf("event %s never handled; handled: %v", id, ids)
		}
	}
}

// env is a bus with a dead-letter store.
type env struct {
	b     *bus.Bus
	store *deadletter.Store
	js    bool
}

func memEnv(t *testing.T) env {
	b, err := bus.Open(t.Context(), "mem://")
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	st, err := deadletter.Record(t.Context(), b, deadSubj)
	require.NoError(t, err)
	return env{b: b, store: st}
}

func jsEnv(t *testing.T) env {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	b, err := bus.Open(t.Context(), "jetstream://"+srv.Addr()+"?stream=DL&subjects=orders.>,dead.>")
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	st, err := deadletter.Open(t.Context(), b, deadSubj)
	require.NoError(t, err)
	return env{b: b, store: st, js: true}
}

// subscribe starts group g on orders.>: it records every event, fails
// orders permanently and handles markers.
func subscribe(t *testing.T, b *bus.Bus, g string, failOrders bool) *seen {
	s := newSeen()
	_, err := b.Subscribe(t.Context(), "orders.>", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		s.add(m.Event.ID)
		if failOrders && m.Event.Type == orderType {
			return bus.Permanent(errors.New("billing refuses"))
		}
		return nil
	}), bus.Group(g), bus.DeadLetter(deadSubj))
	require.NoError(t, err)
	return s
}

func publish(t *testing.T, b *bus.Bus, typ string) string {
	m := bus.NewMessage("orders.eu.placed", typ, []byte(`{"order_id":"o-1"}`))
	m.Header.Set("X-Tenant", "t1")
	m.Event.Extensions = map[string]string{"tenant": "t1"}
	require.NoError(t, b.Publish(t.Context(), m))
	return m.Event.ID
}

func TestDeadLettersMem(t *testing.T)       { testDeadLetters(t, memEnv(t)) }
func TestDeadLettersJetStream(t *testing.T) { testDeadLetters(t, jsEnv(t)) }

// testDeadLetters: a dead letter carries every metadata field; replay
// reaches only the failing group, once, although called twice; the
// replay, failing again, is dead-lettered again (replay count 1, then 2
// after a second replay), and JetStream does not drop a replay as a
// duplicate; purge removes what was replayed.
func testDeadLetters(t *testing.T, e env) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	billing := subscribe(t, e.b, "billing", true)
	shipping := subscribe(t, e.b, "shipping", false)
	before := time.Now()
	id := publish(t, e.b, orderType)

	ls, err := e.store.Wait(ctx, deadletter.Filter{}, 1)
	require.NoError(t, err)
	require.Len(t, ls, 1)
	first := ls[0]
	checkMetadata(t, e, first, id, 0, before)

	for range 2 { // idempotent per dead letter
		require.NoError(t, e.store.Replay(ctx, first.ID))
	}
	ls, err = e.store.Wait(ctx, deadletter.Filter{}, 2)
	require.NoError(t, err)
	second := ls[1]
	checkMetadata(t, e, second, id, 1, before)
	assert.True(t, ls[0].Replayed)

	require.NoError(t, e.store.Replay(ctx, second.ID))
	ls, err = e.store.Wait(ctx, deadletter.Filter{}, 3)
	require.NoError(t, err)
	checkMetadata(t, e, ls[2], id, 2, before)

	// A marker published after: each group handles it after whatever it
	// got before, so their lists are complete once it arrives.
	marker := publish(t, e.b, markerType)
	assert.Equal(t, []string{id, id, id, marker}, billing.waitFor(t, marker), "billing: the original and each replay once")
	assert.Equal(t, []string{id, marker}, shipping.waitFor(t, marker), "shipping never sees a replay")

	got, err := e.store.List(ctx, deadletter.Filter{Group: "billing", Kind: bus.DeadLetterKindPermanent, Type: orderType, Subject: "orders.>", Since: before})
	require.NoError(t, err)
	assert.Len(t, got, 3)
	got, err = e.store.List(ctx, deadletter.Filter{Group: "shipping"})
	require.NoError(t, err)
	assert.Empty(t, got)

	n, err := e.store.PurgeMatching(ctx, deadletter.Filter{}, true)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the two replayed dead letters")
	ls, err = e.store.List(ctx, deadletter.Filter{})
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.Equal(t, 2, ls[0].Metadata.Replays)
	_, err = e.store.Get(ctx, first.ID)
	assert.ErrorIs(t, err, deadletter.ErrNotFound)
}

// checkMetadata checks every failure metadata field of l.
func checkMetadata(t *testing.T, e env, l *deadletter.Letter, id string, replays int, before time.Time) {
	t.Helper()
	md := l.Metadata
	assert.Equal(t, id, l.Event.ID, "the original event id")
	assert.Equal(t, "t1", l.Event.Extensions["tenant"], "the original attributes")
	assert.Equal(t, "t1", l.Header.Get("X-Tenant"), "the original headers")
	assert.Equal(t, "orders.eu.placed", md.Subject)
	assert.Equal(t, "billing", md.Group)
	assert.Equal(t, "orders.>", md.Route)
	assert.Equal(t, bus.DeadLetterKindPermanent, md.Kind)
	assert.Contains(t, md.Reason, "billing refuses")
	assert.Equal(t, 1, md.Attempts)
	assert.True(t, md.Permanent)
	assert.False(t, md.Time.Before(before), "time %v", md.Time)
	assert.False(t, md.FirstFailure.Before(before), "first failure %v", md.FirstFailure)
	assert.False(t, md.FirstFailure.After(md.Time), "first failure %v after %v", md.FirstFailure, md.Time)
	assert.Equal(t, replays, md.Replays)
	if e.js {
		assert.Equal(t, "DL", md.Stream)
		assert.NotZero(t, md.Sequence)
	} else {
		assert.Empty(t, md.Stream)
	}
	for _, h := range []string{bus.DeadLetterGroupHeader, bus.DeadLetterRouteHeader, bus.DeadLetterKindHeader,
		bus.DeadLetterFirstFailureHeader, bus.DeadLetterReplaysHeader, bus.DeadLetterReasonHeader} {
		assert.NotEmpty(t, l.Header.Values(h), "header %s", h)
	}
	assert.Equal(t, fmt.Sprint(replays), l.Header.Get(bus.DeadLetterReplaysHeader))
}
