package bustest_test

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openMem opens a Bus on the in-memory broker named after t, closed when t
// ends.
func openMem(t *testing.T) *bus.Bus {
	t.Helper()
	conn, err := membus.Open(membus.Options{Name: "bustest-self/" + t.Name()})
	require.NoError(t, err)
	b := bus.New(conn)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	return b
}

func TestRecorder(t *testing.T) {
	b := openMem(t)
	rec := bustest.Recorder(t, b, "orders.>")
	for _, s := range []string{"orders.eu.created", "invoices.eu.created", "orders.us.created"} {
		require.NoError(t, b.Publish(t.Context(), bus.NewMessage(s, "com.example.test.v1", []byte(s))))
	}
	got := rec.Wait(2, 5*time.Second)
	assert.Equal(t, "orders.eu.created", got[0].Subject)
	assert.Equal(t, "orders.us.created", got[1].Subject)
	assert.Equal(t, []byte("orders.us.created"), got[1].Event.Data)
	assert.Len(t, rec.Messages(), 2)
}

func TestRecorderPassesOptions(t *testing.T) {
	b := openMem(t)
	seen := make(chan string, 1)
	tag := bus.Wrap(func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			seen <- m.Subject
			return next.Handle(ctx, m)
		})
	})
	rec := bustest.Recorder(t, b, "jobs.*", tag, bus.Group("workers"))
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("jobs.run", "com.example.job.v1", nil)))
	rec.Wait(1, 5*time.Second)
	select {
	case subj := <-seen:
		assert.Equal(t, "jobs.run", subj, "the middleware given to Recorder ran")
	case <-time.After(5 * time.Second):
		t.Fatal("the middleware given to Recorder did not run")
	}
}

// TestRunMinimalFeatures runs the suite on mem claiming no optional
// feature (no redelivery, request/reply, groups, wildcards, multi-valued
// headers, payload limit, ordering or raw connection), as the most limited
// backend would: the contracts that need a feature skip, and the rest pass
// in their reduced form (plain subscriptions instead of groups,
// single-valued headers, no wildcard subscriptions).
func TestRunMinimalFeatures(t *testing.T) {
	bustest.Run(t, openMem, bustest.Features{})
}
