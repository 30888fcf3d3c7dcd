package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/deadletter"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestListAndReplayQuickstartDeadLetter produces the quickstart's dead
// letter on an embedded server (billing refuses o-2 for good), lists it
// with the tool, fixes billing, and replays it with the tool twice: billing
// handles it once, shipping (which handled the original) never sees it;
// then the tool purges what was replayed.
func TestListAndReplayQuickstartDeadLetter(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	defer srv.Stop()
	url := "jetstream://" + srv.Addr() + "?stream=QUICKSTART&subjects=orders.>,dead.>"
	b, err := bus.Open(ctx, url, bus.Source("/examples/quickstart"))
	require.NoError(t, err)
	defer b.Close(context.Background())

	var fixed atomic.Bool
	billed, shipped := make(chan string, 8), make(chan string, 8)
	_, err = b.Subscribe(ctx, "orders.*.placed", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderPlaced) error {
		if !fixed.Load() {
			if err := billing(ctx, m, o); err != nil {
				return err
			}
		}
		billed <- o.OrderID
		return nil
	}), bus.Group("billing"), bus.DeadLetter("dead.orders"))
	require.NoError(t, err)
	_, err = b.Subscribe(ctx, "orders.>", bus.JSON(func(_ context.Context, _ *bus.Message, o OrderPlaced) error {
		shipped <- o.OrderID
		return nil
	}), bus.Group("shipping"))
	require.NoError(t, err)

	publish(t, b, "o-2", -5)
	st, err := deadletter.Open(ctx, b, "dead.orders")
	require.NoError(t, err)
	ls, err := st.Wait(ctx, deadletter.Filter{}, 1)
	require.NoError(t, err)
	id := ls[0].ID

	out := &syncbuf.Buffer{}
	require.NoError(t, run(ctx, []string{"-url", url, "list", "-group", "billing", "-kind", "permanent"}, out))
	assert.Regexp(t, `(?m)^`+id+` .*orders\.eu\.placed +billing +orders\.\*\.placed +permanent +0 +false .*order o-2: negative amount`, out.String())

	fixed.Store(true)
	out = &syncbuf.Buffer{}
	require.NoError(t, run(ctx, []string{"-url", url, "replay", id, "--", "replay", id, "--", "show", id}, out))
	assert.Contains(t, out.String(), "replayed "+id+` to group "billing"`)
	assert.Contains(t, out.String(), id+" was already replayed")
	assert.Contains(t, out.String(), "dead letter "+id+" (replayed: true)")

	publish(t, b, "o-3", 1) // a marker: each group handles it after what it got before
	assert.Equal(t, []string{"o-2", "o-3"}, drain(t, billed, "o-3"), "billing: the replay, once")
	assert.Equal(t, []string{"o-2", "o-3"}, drain(t, shipped, "o-3"), "shipping: the original only")

	out = &syncbuf.Buffer{}
	require.NoError(t, run(ctx, []string{"-url", url, "purge", "-replayed", "--", "list"}, out))
	assert.Equal(t, "purged 1\nno dead letters\n", out.String())
}

func publish(t *testing.T, b *bus.Bus, id string, amount float64) {
	m, err := bus.NewJSON("orders.eu.placed", orderPlaced, OrderPlaced{OrderID: id, Amount: amount})
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), m))
}

// drain collects order ids from c up to and including last.
func drain(t *testing.T, c <-chan string, last string) []string {
	var got []string
	for {
		select {
		case id := <-c:
			got = append(got, id)
			if id == last {
				return got
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out; got %v", got)
		}
	}
}
