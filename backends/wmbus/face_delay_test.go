package wmbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus/driver"
)

// noDelayConn delivers mem's messages with an Acker that cannot delay a
// redelivery (no driver.DelayNaker), as a third-party backend might.
type noDelayConn struct{ driver.Conn }

type plainAcker struct{ a driver.Acker }

func (p plainAcker) Ack(ctx context.Context) error { return p.a.Ack(ctx) }
func (p plainAcker) Nak(ctx context.Context) error { return p.a.Nak(ctx) }

func (c noDelayConn) Subscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	return c.Conn.Subscribe(ctx, opts, func(m *driver.Message) {
		m.Acker = plainAcker{m.Acker}
		h(m)
	})
}

// SubscriberConfig.NackDelay holds where the backend cannot delay a
// redelivery: the face waits in process before the Nak.
func TestFaceNackDelayWithoutDelayNaker(t *testing.T) {
	mem, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, mem.Close(context.Background())) })
	const delay = 150 * time.Millisecond
	sub := wmbus.NewSubscriber(noDelayConn{mem}, wmbus.SubscriberConfig{NackDelay: delay})
	t.Cleanup(func() { assert.NoError(t, sub.Close()) })
	msgs, err := sub.Subscribe(t.Context(), "jobs.run")
	require.NoError(t, err)
	require.NoError(t, wmbus.NewPublisher(mem).Publish("jobs.run", message.NewMessage(watermill.NewUUID(), nil)))

	recv(t, msgs, "the first delivery").Nack()
	nacked := time.Now()
	again := recv(t, msgs, "the redelivery")
	assert.GreaterOrEqual(t, time.Since(nacked), delay, "the redelivery waited for NackDelay")
	again.Ack()
}
