package membus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gated subscribes a handler that reports each message on started and then
// waits for gate before acking.
func gated(t testing.TB, c *Conn, opts driver.SubscribeOptions, gate <-chan struct{}) (driver.Subscription, <-chan string) {
	started := make(chan string, 1024)
	sub := subscribe(t, c, opts, func(m *driver.Message) {
		started <- string(m.Data)
		<-gate
		if m.Acker != nil {
			assert.NoError(t, m.Acker.Ack(context.Background()))
		}
	})
	return sub, started
}

// waitingPublisher reports whether a publisher waits for room in s.
func waitingPublisher(s driver.Subscription) func() bool {
	return func() bool {
		sub := s.(*subscription)
		sub.mu.Lock()
		defer sub.mu.Unlock()
		return sub.room != nil
	}
}

// fill makes the subscription's single worker busy with "0" and queues
// 1..buffer behind it.
func fill(t testing.TB, c *Conn, subject string, buffer int, started <-chan string) {
	t.Helper()
	publish(t, c, subject, "0")
	require.Equal(t, "0", recv(t, started))
	for i := 1; i <= buffer; i++ {
		publish(t, c, subject, fmt.Sprint(i))
	}
}

func TestFullError(t *testing.T) {
	c := open(t, Options{Buffer: 2, Full: Error})
	gate := make(chan struct{})
	sub, started := gated(t, c, driver.SubscribeOptions{Subject: "f"}, gate)
	fill(t, c, "f", 2, started)
	err := c.Publish(t.Context(), &driver.Message{Subject: "f", Data: []byte("3")})
	require.ErrorIs(t, err, driver.ErrBufferFull)
	assert.Contains(t, err.Error(), `"f"`)
	close(gate)
	assert.Equal(t, "1", recv(t, started))
	assert.Equal(t, "2", recv(t, started))
	drain(t, sub)
	assert.Empty(t, started)
}

func TestFullBlockUnblocksWhenConsumerDrains(t *testing.T) {
	c := open(t, Options{Buffer: 2})
	gate := make(chan struct{})
	sub, started := gated(t, c, driver.SubscribeOptions{Subject: "b"}, gate)
	fill(t, c, "b", 2, started)
	errc := make(chan error, 1)
	go func() { errc <- c.Publish(context.Background(), &driver.Message{Subject: "b", Data: []byte("3")}) }()
	require.Eventually(t, waitingPublisher(sub), testTimeout, time.Millisecond)
	close(gate)
	require.NoError(t, recv(t, errc))
	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, recv(t, started))
	}
	drain(t, sub)
}

func TestFullBlockHonoursContext(t *testing.T) {
	c := open(t, Options{Buffer: 1})
	gate := make(chan struct{})
	sub, started := gated(t, c, driver.SubscribeOptions{Subject: "b"}, gate)
	fill(t, c, "b", 1, started)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	err := c.Publish(ctx, &driver.Message{Subject: "b"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(gate)
	drain(t, sub)
}

func TestFullBlockWokenByDrain(t *testing.T) {
	c := open(t, Options{Buffer: 1})
	gate := make(chan struct{})
	sub, started := gated(t, c, driver.SubscribeOptions{Subject: "b"}, gate)
	fill(t, c, "b", 1, started)
	errc := make(chan error, 1)
	go func() { errc <- c.Publish(context.Background(), &driver.Message{Subject: "b"}) }()
	require.Eventually(t, waitingPublisher(sub), testTimeout, time.Millisecond)
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(context.Background()) }()
	require.ErrorIs(t, recv(t, errc), driver.ErrClosed)
	close(gate)
	require.NoError(t, recv(t, drained))
	assert.Equal(t, "1", recv(t, started), "queued before the drain: still handled")
}

func TestFullBlockWokenByClose(t *testing.T) {
	const name = "TestFullBlockWokenByClose"
	subConn := open(t, Options{Name: name, Buffer: 1})
	pub, err := Open(Options{Name: name})
	require.NoError(t, err)
	gate := make(chan struct{})
	sub, started := gated(t, subConn, driver.SubscribeOptions{Subject: "b"}, gate)
	fill(t, pub, "b", 1, started)
	errc := make(chan error, 1)
	go func() { errc <- pub.Publish(context.Background(), &driver.Message{Subject: "b"}) }()
	require.Eventually(t, waitingPublisher(sub), testTimeout, time.Millisecond)
	require.NoError(t, pub.Close(t.Context()))
	require.ErrorIs(t, recv(t, errc), driver.ErrClosed)
	close(gate)
	drain(t, sub)
}

func TestFullGroupMemberSkipped(t *testing.T) {
	const name = "TestFullGroupMemberSkipped"
	small := open(t, Options{Name: name, Buffer: 1})
	big := open(t, Options{Name: name})
	pub := open(t, Options{Name: name, Full: Error})
	gate := make(chan struct{})
	stuck, started := gated(t, small, driver.SubscribeOptions{Subject: "g", Group: "q"}, gate)
	publish(t, pub, "g", "0")
	require.Equal(t, "0", recv(t, started))
	publish(t, pub, "g", "1") // queued in the stuck member
	ch, free := collect(t, big, "g", "q")
	const msgs = 100
	for i := range msgs {
		publish(t, pub, "g", fmt.Sprint(i+2))
	}
	for range msgs {
		receive(t, ch)
	}
	close(gate)
	drain(t, stuck)
	drain(t, free)
	assert.Equal(t, "1", recv(t, started))
}
