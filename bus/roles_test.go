package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orderService is a user's service: its constructor asks for the roles it
// uses, not a whole *bus.Bus.
type orderService struct {
	pub bus.Publisher
	req bus.Requester
}

func (s *orderService) place(ctx context.Context, id string) error {
	if _, err := s.req.Request(ctx, bus.NewMessage("stock.check", "com.example.stock.check.v1", []byte(id))); err != nil {
		return err
	}
	return s.pub.Publish(ctx, bus.NewMessage("orders.placed", "com.example.order.placed.v1", []byte(id)))
}

// fakePublisher and fakeRequester are hand-written fakes: no bus, no
// backend.
type fakePublisher struct{ sent []*bus.Message }

func (f *fakePublisher) Publish(_ context.Context, m *bus.Message) error {
	f.sent = append(f.sent, m)
	return nil
}

type fakeRequester struct{ err error }

func (f fakeRequester) Request(context.Context, *bus.Message) (*bus.Message, error) {
	return bus.NewMessage("", "com.example.stock.ok.v1", nil), f.err
}

func TestFakePublisherAndRequester(t *testing.T) {
	pub := &fakePublisher{}
	svc := &orderService{pub: pub, req: fakeRequester{}}
	require.NoError(t, svc.place(t.Context(), "o-1"))
	require.Len(t, pub.sent, 1)
	assert.Equal(t, "orders.placed", pub.sent[0].Subject)

	svc.req = fakeRequester{err: bus.ErrNoResponders}
	assert.ErrorIs(t, svc.place(t.Context(), "o-2"), bus.ErrNoResponders)
	assert.Len(t, pub.sent, 1, "nothing published when the request failed")
}

// fakeSubscriber records the handlers; it returns a zero Subscription,
// which is valid and drains at once.
type fakeSubscriber struct{ handlers map[string]bus.Handler }

func (f *fakeSubscriber) Subscribe(_ context.Context, pattern string, h bus.Handler, _ ...bus.SubscribeOption) (*bus.Subscription, error) {
	f.handlers[pattern] = h
	return &bus.Subscription{}, nil
}

// A service that registers its handlers on a Router is tested through a
// fake Subscriber: the test calls the handler the service registered.
func TestFakeSubscriberWithRouter(t *testing.T) {
	sub := &fakeSubscriber{handlers: map[string]bus.Handler{}}
	var seen []string
	r := bus.NewRouter(sub)
	r.HandleFunc("orders.>", func(_ context.Context, m *bus.Message) error {
		if string(m.Event.Data) == "bad" {
			return bus.Permanent(errors.New("bad order"))
		}
		seen = append(seen, string(m.Event.Data))
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()

	h := sub.handlers["orders.>"]
	require.NotNil(t, h, "the router subscribed through the fake")
	require.NoError(t, h.Handle(t.Context(), bus.NewMessage("orders.placed", "t", []byte("o-1"))))
	assert.True(t, bus.IsPermanent(h.Handle(t.Context(), bus.NewMessage("orders.placed", "t", []byte("bad")))))
	assert.Equal(t, []string{"o-1"}, seen)

	cancel()
	require.NoError(t, <-done, "draining a zero Subscription succeeds")
}

func TestZeroSubscription(t *testing.T) {
	var s bus.Subscription
	assert.Empty(t, s.Pattern())
	require.NoError(t, s.Drain(t.Context()))
	require.NoError(t, s.Drain(t.Context()), "a second Drain returns the first's result")
}
