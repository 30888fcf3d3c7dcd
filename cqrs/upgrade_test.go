package cqrs_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/cqrs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcomes records what happened to every order id.
type outcomes struct {
	mu sync.Mutex
	m  map[string][]string
	ch chan string
}

func newOutcomes() *outcomes { return &outcomes{m: map[string][]string{}, ch: make(chan string, 100)} }

func (o *outcomes) add(id, what string) {
	o.mu.Lock()
	o.m[id] = append(o.m[id], what)
	o.mu.Unlock()
	o.ch <- id
}

// waitFor waits until each id has one more outcome.
func (o *outcomes) waitFor(t *testing.T, ids ...string) {
	t.Helper()
	want := map[string]int{}
	for _, id := range ids {
		want[id]++
	}
	for n := len(ids); n > 0; n-- {
		id := next(t, o.ch, "outcome")
		require.Positive(t, want[id], "unexpected outcome for %s", id)
		want[id]--
	}
}

// start runs svc until the returned stop is called (or the test ends).
func start(t *testing.T, svc *cqrs.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	select {
	case <-svc.Running():
	case err := <-done:
		t.Fatalf("service %s did not start: %v", svc.Name(), err)
	case <-time.After(10 * time.Second):
		t.Fatalf("service %s did not start within 10s", svc.Name())
	}
	return stop
}

// newConsumer is billing after the upgrade: v2 with the v1 upcaster.
func newConsumer(b *bus.Bus, o *outcomes) *cqrs.Service {
	svc := cqrs.New(b, billing)
	_ = cqrs.OnEvent(svc, placed, func(ctx context.Context, v placedV2) error {
		in := cqrs.Message(ctx)
		how := "new consumer: v2 as is"
		if in.Event.Type == placedOld.Type() {
			how = "new consumer: v1 upcast to v2"
		}
		if in.Event.Extensions[cqrs.ReplayOfExtension] != "" {
			how += " (replayed)"
		}
		o.add(v.ID, how)
		return nil
	})
	return svc
}

// oldConsumer is billing before the upgrade: v1 only.
func oldConsumer(b *bus.Bus, o *outcomes) *cqrs.Service {
	svc := cqrs.New(b, billing)
	_ = cqrs.OnEvent(svc, placedOld, func(_ context.Context, v placedV1) error {
		o.add(v.ID, "old consumer: v1 as is")
		return nil
	})
	return svc
}

// TestRollingUpgrade runs both upgrade orders on embedded JetStream, with
// the consumer group "billing" redeployed between old and new code, and
// checks what happens to every message:
//
//   - consumers first (the documented procedure): the new consumer reads
//     the old producer's v1 events upcast, and v2 as is;
//   - producers first (the wrong order): the old consumer dead-letters v2
//     events with a reason naming the versions it knows (never decoding
//     them into v1 structs); after the consumer is upgraded the dead
//     letters are replayed and handled.
func TestRollingUpgrade(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	b := openBus(t, "jetstream://"+srv.Addr()+"?stream=UPGRADE&subjects=orders.order.>,billing.dead")
	dead := collect(t, b, "billing.dead")
	o := newOutcomes()

	// 1. Consumers first: new consumer, old producer (v1), then new producer (v2).
	stop := start(t, newConsumer(b, o))
	publish(t, placedOld.Publish(ctx, b, placedV1{ID: "a1", Amount: 1}))
	publish(t, placedOld.Publish(ctx, b, placedV1{ID: "a2", Amount: 2}))
	publish(t, placed.Publish(ctx, b, placedV2{ID: "a3", Cents: 300, Currency: "EUR"}))
	o.waitFor(t, "a1", "a2", "a3")
	stop()

	// 2. Producers first: old consumer, old producer (v1) and new producer (v2).
	stop = start(t, oldConsumer(b, o))
	publish(t, placedOld.Publish(ctx, b, placedV1{ID: "b1", Amount: 1}))
	publish(t, placed.Publish(ctx, b, placedV2{ID: "b2", Cents: 200, Currency: "EUR"}))
	publish(t, placed.Publish(ctx, b, placedV2{ID: "b3", Cents: 300, Currency: "EUR"}))
	o.waitFor(t, "b1")
	var dls []*bus.Message
	for range 2 {
		dl := next(t, dead, "dead letter")
		v, err := placed.Decode(dl)
		require.NoError(t, err)
		o.add(v.ID, "old consumer: dead-lettered: "+dl.Header.Get(bus.DeadLetterReasonHeader))
		dls = append(dls, dl)
	}
	o.waitFor(t, "b2", "b3")
	stop()

	// 3. Upgrade the consumer, replay the dead letters.
	start(t, newConsumer(b, o))
	for _, dl := range dls {
		require.NoError(t, cqrs.Replay(ctx, b, dl))
	}
	o.waitFor(t, "b2", "b3")

	const refused = "old consumer: dead-lettered: contract: unknown event version: " +
		"com.example.order.placed.v2: this service knows v1"
	want := map[string][]string{
		"a1": {"new consumer: v1 upcast to v2"},
		"a2": {"new consumer: v1 upcast to v2"},
		"a3": {"new consumer: v2 as is"},
		"b1": {"old consumer: v1 as is"},
		"b2": {refused, "new consumer: v2 as is (replayed)"},
		"b3": {refused, "new consumer: v2 as is (replayed)"},
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]string, 0, len(o.m))
	for id := range o.m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Logf("%s: %v", id, o.m[id])
	}
	assert.Equal(t, want, o.m)
}
