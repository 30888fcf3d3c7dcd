package natsbus_test

import (
	"context"
	"sync"
	"testing"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDrainSecondCallerBoundedByItsContext: a second Drain while the first
// is still waiting for a handler waits only as long as its own ctx allows
// (it used to wait for the first, whatever its ctx), and neither cuts the
// first short; once the first returns, a later Drain gets its result.
func TestDrainSecondCallerBoundedByItsContext(t *testing.T) {
	srv := startEmbedded(t)
	c := openConn(t, srv, nil)
	started, gate := make(chan *nats.Subscription, 1), make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before openConn's Close, after a failure
	sub, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "once.x"}, func(m *driver.Message) {
		started <- m.Native.(*nats.Msg).Sub
		<-gate
	})
	require.NoError(t, err)
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "once.x", Data: []byte("x")}))
	ns := coreTestRecv(t, started, "the handler to start")

	first := make(chan error, 1)
	go func() { first <- sub.Drain(context.Background()) }()
	coreTestWaitFor(t, "the first Drain to begin", ns.IsDraining)
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	second := make(chan error, 1)
	go func() { second <- sub.Drain(dead) }()
	assert.ErrorIs(t, coreTestRecv(t, second, "the second Drain to return"), context.Canceled, "a second Drain ends with its own ctx")
	select {
	case err := <-first:
		t.Fatalf("the first Drain returned (%v) while its handler still runs", err)
	default:
	}

	release()
	require.NoError(t, coreTestRecv(t, first, "the first Drain to return"))
	assert.NoError(t, sub.Drain(t.Context()), "a Drain after the first returns the first's result")
}
