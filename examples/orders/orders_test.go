package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/busway/busway/cqrs/cqrstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The services' unit tests: on mem://, with the cqrstest harness.

// said collects what the services report.
type said struct {
	mu    sync.Mutex
	lines []string
}

func (s *said) say(service, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, service+": "+fmt.Sprintf(format, args...))
}

func (s *said) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

func TestPlaceOrderPublishesOrderPlaced(t *testing.T) {
	h := cqrstest.New(t)
	orders, err := NewOrders(h.Bus(), (&said{}).say, h.Options()...)
	require.NoError(t, err)
	h.Run(orders)

	cqrstest.Send(h, Place, PlaceOrder{OrderID: "o-1", SKU: "book", Qty: 2, Cents: 1299})

	cqrstest.AssertPublished(t, h, OrderPlaced, func(e OrderPlacedV2) bool {
		return e == OrderPlacedV2{OrderID: "o-1", SKU: "book", Qty: 2, TotalCents: 2598}
	})
	cqrstest.AssertHandled(t, h, Place, cqrstest.Acked)
	cqrstest.AssertNothingElsePublished(t, h)
	assert.Equal(t, OrderView{OrderID: "o-1", Status: "placed", TotalCents: 2598},
		cqrstest.Query(h, Get, GetOrder{OrderID: "o-1"}))
}

func TestBillingRetriesTheGatewayTimeout(t *testing.T) {
	h := cqrstest.New(t)
	billing, err := NewBilling(h.Bus(), (&said{}).say, h.Options()...)
	require.NoError(t, err)
	h.Run(billing)

	cqrstest.Publish(h, OrderPlaced, OrderPlacedV2{OrderID: "o-1", Qty: 1, TotalCents: 100})

	retry, _ := cqrstest.AssertHandled(t, h, OrderPlaced, cqrstest.Retried)
	assert.Equal(t, "payment gateway timeout", retry.Reason)
	ack, _ := cqrstest.AssertHandled(t, h, OrderPlaced, cqrstest.Acked)
	assert.Equal(t, 2, ack.Attempt)
	cqrstest.AssertNothingElsePublished(t, h)
}

func TestShippingDeadLettersWhatIsOutOfStock(t *testing.T) {
	h := cqrstest.New(t)
	shipping, err := NewShipping(h.Bus(), (&said{}).say, h.Options()...)
	require.NoError(t, err)
	h.Run(shipping)

	cqrstest.Publish(h, OrderPlaced, OrderPlacedV2{OrderID: "o-3", SKU: "lamp", Qty: 50})

	dead, _ := cqrstest.AssertHandled(t, h, OrderPlaced, cqrstest.DeadLettered)
	assert.Equal(t, "order o-3: 50 x lamp: out of stock", dead.Reason)
	assert.Equal(t, 1, dead.Attempt, "a permanent failure is not retried")
	cqrstest.AssertNothingElsePublished(t, h)
}

func TestOldEventsAreUpcast(t *testing.T) {
	h := cqrstest.New(t)
	log := &said{}
	shipping, err := NewShipping(h.Bus(), log.say, h.Options()...)
	require.NoError(t, err)
	h.Run(shipping)

	cqrstest.Publish(h, legacyOrderPlaced, OrderPlacedV1{OrderID: "o-2", Amount: 5.5})

	cqrstest.AssertHandled(t, h, OrderPlaced, cqrstest.Acked)
	assert.Equal(t, "shipping: shipped o-2: 1 x unknown, upcast from com.example.order.placed.v1", log.String())
}
