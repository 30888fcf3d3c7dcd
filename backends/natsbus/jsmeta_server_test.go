package natsbus_test

import (
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// The delivery count and stream sequence the backend reads from a
// delivery's reply subject are those nats.go's Metadata reads, on the
// messages of a real server, first deliveries and a redelivery.
func TestDeliveryInfoMatchesMetadata(t *testing.T) {
	srv := startEmbedded(t)
	js, err := jetstream.New(nbConnect(t, srv))
	require.NoError(t, err)
	ctx := t.Context()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "META", Subjects: []string{"meta.>"}})
	require.NoError(t, err)
	for range 3 {
		_, err := js.Publish(ctx, "meta.x", []byte("x"))
		require.NoError(t, err)
	}
	cons, err := js.CreateConsumer(ctx, "META", jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	seen := 0
	for seen < 4 { // 3 messages, the first one twice
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			require.NoError(t, err)
			delivered, seq, ok := natsbus.DeliveryInfo(msg)
			require.True(t, ok, msg.Reply())
			require.Equal(t, int(meta.NumDelivered), delivered, msg.Reply())
			require.Equal(t, meta.Sequence.Stream, seq, msg.Reply())
			if seq == 1 && delivered == 1 {
				require.NoError(t, msg.Nak())
			} else {
				require.NoError(t, msg.Ack())
			}
			seen++
		}
		require.NoError(t, batch.Error())
	}
}

// BenchmarkDeliveryInfo compares reading a delivery's count and stream
// sequence from its reply subject with nats.go's Metadata, which the
// consume path called before.
func BenchmarkDeliveryInfo(b *testing.B) {
	srv := startEmbedded(b)
	js, err := jetstream.New(nbConnect(b, srv))
	require.NoError(b, err)
	ctx := b.Context()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "META", Subjects: []string{"meta.>"}})
	require.NoError(b, err)
	_, err = js.Publish(ctx, "meta.x", []byte("x"))
	require.NoError(b, err)
	cons, err := js.CreateConsumer(ctx, "META", jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(b, err)
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	require.NoError(b, err)
	b.Run("metadata", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := msg.Metadata(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reply", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, ok := natsbus.DeliveryInfo(msg); !ok {
				b.Fatal("not parsed")
			}
		}
	})
}
