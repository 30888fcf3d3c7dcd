package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errConsumerGone = errors.New("test: consumer deleted")

func noop(context.Context, *bus.Message) error { return nil }

// A subscription whose backend side ends on its own says so: Done closes,
// Err is the cause, it is logged at Error once, and the bus forgets it
// (Close does not drain it again).
func TestSubscriptionThatDiesSaysSo(t *testing.T) {
	c := &testConn{}
	b, logs := openTest(t, c)
	s, err := b.Subscribe(t.Context(), "orders.>", bus.HandlerFunc(noop), bus.Group("billing"))
	require.NoError(t, err)
	select {
	case <-s.Done():
		t.Fatal("Done closed on a live subscription")
	default:
	}
	assert.NoError(t, s.Err(), "no error while live")

	c.sub(t, 0).kill(errConsumerGone)
	require.True(t, closedWithin(s.Done()), "Done closes when the backend side ends")
	assert.ErrorIs(t, s.Err(), errConsumerGone)
	require.Eventually(t, func() bool {
		return countLines(logs.String(), "level=ERROR", "orders.>", "billing", errConsumerGone.Error()) == 1
	},
		5*time.Second, time.Millisecond, "logged at Error with pattern, group and cause: %s", logs)

	require.NoError(t, b.Close(t.Context()))
	assert.Zero(t, c.sub(t, 0).drains.Load(), "Close does not drain a subscription that ended")
	assert.ErrorIs(t, s.Err(), errConsumerGone, "Err keeps the cause")
	assert.Equal(t, 1, countLines(logs.String(), "level=ERROR", errConsumerGone.Error()), "logged once: %s", logs)
}

// A drained subscription's Done closes and its Err stays nil, also on the
// zero Subscription a fake Subscriber returns.
func TestDrainedSubscriptionDoneWithoutError(t *testing.T) {
	b, _ := openTest(t, &testConn{})
	s, err := b.Subscribe(t.Context(), "a.b", bus.HandlerFunc(noop))
	require.NoError(t, err)
	require.NoError(t, s.Drain(t.Context()))
	require.True(t, closedWithin(s.Done()))
	assert.NoError(t, s.Err())

	var zero bus.Subscription
	select {
	case <-zero.Done():
		t.Fatal("the zero Subscription's Done closed before Drain")
	default:
	}
	require.NoError(t, zero.Drain(t.Context()))
	require.True(t, closedWithin(zero.Done()))
	assert.NoError(t, zero.Err())
}

// Router.Run returns when one of its subscriptions dies, with the cause
// and the route's pattern, after draining the other routes.
func TestRouterRunReturnsWhenASubscriptionDies(t *testing.T) {
	c := &testConn{}
	b, _ := openTest(t, c)
	r := bus.NewRouter(b, bus.DrainTimeout(5*time.Second))
	r.HandleFunc("orders.created", noop)
	r.HandleFunc("orders.paid", noop, bus.Group("billing"))
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(context.Background()) }()
	recv(t, r.Running(), "the router to run")

	c.sub(t, 1).kill(errConsumerGone)
	err := recv(t, runErr, "Run to return after a route died")
	assert.ErrorIs(t, err, errConsumerGone)
	assert.ErrorContains(t, err, `"orders.paid"`)
	assert.Equal(t, int32(1), c.sub(t, 0).drains.Load(), "the other route was drained")
}
