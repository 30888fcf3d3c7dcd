package cqrstest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
	"github.com/busway/busway/cqrs/cqrstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Place struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

type Placed struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

type Get struct {
	ID string `json:"id"`
}

type View struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

var (
	shop     = contract.MustDomain("com.example", "shop")
	PlaceCmd = contract.NewCommand[Place](shop, "order", "place")
	PlacedEv = contract.NewEvent[Placed](shop, "order", "placed")
	GetQuery = contract.NewQuery[Get, View](shop, "order", "get")
)

// newShop is a small service: Place publishes Placed unless Qty is
// negative (permanent failure); Qty 0 fails once, then succeeds.
func newShop(t *testing.T, h *cqrstest.Harness) *cqrs.Service {
	svc := h.Service(shop)
	var mu sync.Mutex
	failed := map[string]bool{}
	require.NoError(t, cqrs.OnCommand(svc, PlaceCmd, func(ctx context.Context, c Place) error {
		if c.Qty < 0 {
			return bus.Permanent(errors.New("negative quantity"))
		}
		mu.Lock()
		first := c.Qty == 0 && !failed[c.ID]
		failed[c.ID] = true
		mu.Unlock()
		if first {
			return errors.New("stock service busy")
		}
		return PlacedEv.Publish(ctx, svc.Bus(), Placed(c))
	}))
	require.NoError(t, cqrs.OnQuery(svc, GetQuery, func(ctx context.Context, q Get) (View, error) {
		return View{ID: q.ID, Status: "placed"}, nil
	}))
	return svc
}

// fakeT captures assertion failures instead of failing the test.
type fakeT struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeT) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

func TestHarnessHappyPath(t *testing.T) {
	h := cqrstest.New(t)
	h.Run(newShop(t, h))
	cqrstest.Send(h, PlaceCmd, Place{ID: "o-1", Qty: 2})

	v, ok := cqrstest.AssertPublished(t, h, PlacedEv, func(p Placed) bool { return p.ID == "o-1" })
	assert.True(t, ok)
	assert.Equal(t, Placed{ID: "o-1", Qty: 2}, v)
	cqrstest.AssertHandled(t, h, PlaceCmd, cqrstest.Acked)
	cqrstest.AssertNotPublished(t, h, PlacedEv, func(p Placed) bool { return p.ID == "o-2" })
	assert.Equal(t, View{ID: "o-1", Status: "placed"}, cqrstest.Query(h, GetQuery, Get{ID: "o-1"}))
	cqrstest.AssertNothingElsePublished(t, h)
}

// TestAssertPublishedFailureListsWhatWasPublished: a missing event fails
// the test with a message listing what was published, payloads decoded.
func TestAssertPublishedFailureListsWhatWasPublished(t *testing.T) {
	h := cqrstest.New(t)
	h.Run(newShop(t, h))
	cqrstest.Send(h, PlaceCmd, Place{ID: "o-1", Qty: 2})

	ft := &fakeT{TB: t}
	_, ok := cqrstest.AssertPublished(ft, h, PlacedEv, func(p Placed) bool { return p.ID == "o-9" })
	assert.False(t, ok)
	msg := ft.failures()
	assert.Contains(t, msg, "no com.example.order.placed.v1 on shop.order.placed matching the predicate was published")
	assert.Contains(t, msg, `com.example.order.place.v1 on shop.order.place: {"id":"o-1","qty":2} [test input]`)
	assert.Contains(t, msg, "com.example.order.placed.v1 on shop.order.placed: {ID:o-1 Qty:2} (predicate false)")
	assert.Contains(t, msg, "com.example.order.place.v1")
	t.Log("the failure message reads:\n" + msg)

	ft = &fakeT{TB: t}
	assert.False(t, cqrstest.AssertNotPublished(ft, h, PlacedEv, nil))
	assert.Contains(t, ft.failures(), "should not have been")
}

// TestAssertHandledOutcomes: a retried attempt and its success, a
// permanent failure dead-lettered with its reason; an unexpected dead
// letter is reported by AssertNothingElsePublished until asserted.
func TestAssertHandledOutcomes(t *testing.T) {
	h := cqrstest.New(t)
	h.Run(newShop(t, h))
	cqrstest.Send(h, PlaceCmd, Place{ID: "retry", Qty: 0})
	cqrstest.Send(h, PlaceCmd, Place{ID: "bad", Qty: -1})

	r, ok := cqrstest.AssertHandled(t, h, PlaceCmd, cqrstest.Retried)
	require.True(t, ok)
	assert.Equal(t, 1, r.Attempt)
	assert.Equal(t, "stock service busy", r.Reason)
	cqrstest.AssertPublished(t, h, PlacedEv, func(p Placed) bool { return p.ID == "retry" })
	cqrstest.AssertNotPublished(t, h, PlacedEv, func(p Placed) bool { return p.ID == "bad" })

	ft := &fakeT{TB: t}
	assert.False(t, cqrstest.AssertNothingElsePublished(ft, h))
	assert.Contains(t, ft.failures(), "dead letter from shop.order.place after 1 attempt(s): negative quantity")

	d, ok := cqrstest.AssertHandled(t, h, PlaceCmd, cqrstest.DeadLettered)
	require.True(t, ok)
	assert.Contains(t, d.Reason, "negative quantity")
	assert.Equal(t, "shop", d.Service)
	cqrstest.AssertNothingElsePublished(t, h)

	outcomes := map[cqrstest.Outcome]int{}
	for _, a := range h.Handled() {
		outcomes[a.Outcome]++
	}
	assert.Equal(t, map[cqrstest.Outcome]int{cqrstest.Retried: 1, cqrstest.Acked: 1, cqrstest.DeadLettered: 1}, outcomes)
}

// TestAssertHandledFailure: an outcome that did not happen fails, listing
// what was handled.
func TestAssertHandledFailure(t *testing.T) {
	h := cqrstest.New(t)
	h.Run(newShop(t, h))
	cqrstest.Send(h, PlaceCmd, Place{ID: "o-1", Qty: 1})
	ft := &fakeT{TB: t}
	_, ok := cqrstest.AssertHandled(ft, h, PlaceCmd, cqrstest.DeadLettered)
	assert.False(t, ok)
	assert.Contains(t, ft.failures(), "no handling of com.example.order.place.v1 was dead-lettered")
	assert.Contains(t, ft.failures(), "on shop.order.place (attempt 1): acked")
}

// TestUnknownVersionDeadLettered: a too-new version reaching a service is
// dead-lettered with a reason naming the versions it knows.
func TestUnknownVersionDeadLettered(t *testing.T) {
	h := cqrstest.New(t)
	svc := h.Service(contract.MustDomain("com.example", "billing"))
	require.NoError(t, cqrs.OnEvent(svc, PlacedEv, func(context.Context, Placed) error { return nil }))
	h.Run(svc)
	m, err := bus.NewJSON(PlacedEv.Subject(), "com.example.order.placed.v3", Placed{ID: "future"})
	require.NoError(t, err)
	require.NoError(t, h.Bus().Publish(t.Context(), m))
	a, ok := cqrstest.AssertHandledType(t, h, "com.example.order.placed.v3", cqrstest.DeadLettered)
	require.True(t, ok)
	assert.Contains(t, a.Reason, "com.example.order.placed.v3: this service knows v1")
}

// TestInputIsNotOutput: what the test itself published does not satisfy
// AssertPublished (it is listed as test input in the failure).
func TestInputIsNotOutput(t *testing.T) {
	h := cqrstest.New(t)
	cqrstest.Publish(h, PlacedEv, Placed{ID: "in"})
	cqrstest.AssertNotPublished(t, h, PlacedEv, nil)
	ft := &fakeT{TB: t}
	_, ok := cqrstest.AssertPublished(ft, h, PlacedEv, nil)
	assert.False(t, ok)
	assert.Contains(t, ft.failures(), `com.example.order.placed.v1 on shop.order.placed: {ID:in Qty:0} [test input]`)
	cqrstest.AssertNothingElsePublished(t, h)
}
