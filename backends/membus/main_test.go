package membus

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds waits that only fail when the code under test is
// broken; no test sleeps to synchronise.
const testTimeout = 10 * time.Second

func open(t testing.TB, opts Options) *Conn {
	t.Helper()
	c, err := Open(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close(context.Background())) })
	return c
}

// collect subscribes and acks every message, sending it to the returned
// channel.
func collect(t testing.TB, c *Conn, subject, group string) (<-chan *driver.Message, driver.Subscription) {
	t.Helper()
	ch := make(chan *driver.Message, 1024)
	sub, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: subject, Group: group},
		func(m *driver.Message) {
			if m.Acker != nil {
				assert.NoError(t, m.Acker.Ack(context.Background()))
			}
			ch <- m
		})
	require.NoError(t, err)
	return ch, sub
}

func publish(t testing.TB, c *Conn, subject, data string) {
	t.Helper()
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: subject, Data: []byte(data)}))
}

func receive(t testing.TB, ch <-chan *driver.Message) *driver.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message received")
		return nil
	}
}

// drain drains sub and waits, so that nothing more can arrive on its
// channel.
func drain(t testing.TB, sub driver.Subscription) {
	t.Helper()
	require.NoError(t, sub.Drain(context.Background()))
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting on channel")
		var zero T
		return zero
	}
}
