// Package cqrstest is a test harness for services built with package cqrs:
// it runs them on an in-process bus (mem://, no server), records every
// message published and every handling with its outcome, waits until the
// bus is idle instead of sleeping, and asserts on typed values with failure
// messages that list what was published instead.
//
//	func TestPlaceOrder(t *testing.T) {
//		h := cqrstest.New(t)
//		h.Run(orders.NewService(h.Bus(), h.Options()...))
//
//		cqrstest.Send(h, orders.PlaceOrder, orders.PlaceOrderV1{ID: "o-1", Qty: 2})
//
//		cqrstest.AssertPublished(t, h, orders.OrderPlaced, func(e orders.OrderPlacedV2) bool { return e.ID == "o-1" })
//		cqrstest.AssertHandled(t, h, orders.PlaceOrder, cqrstest.Acked)
//		cqrstest.AssertNothingElsePublished(t, h)
//	}
//
// Services under test must be built with h.Options() (or with h.Service):
// they make each subscription handle one message at a time (Concurrency 1,
// in publish order), retry without delay, and let the harness see every
// attempt's outcome. Every assertion first waits until the bus is idle
// (Harness.WaitIdle): no message queued, in a handler or awaiting
// redelivery, so what a message caused — follow-up events, retries, dead
// letters — has happened by the time it is checked.
//
// Outcomes: Acked (the handler returned nil), Retried (it failed and the
// message was handed back), DeadLettered (it failed for good and went to the
// service's dead-letter subject; the Reason is the dead-letter reason).
package cqrstest
