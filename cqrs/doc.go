// Package cqrs registers typed handlers for contract declarations and runs
// them: one line per handler, one call to run a service.
//
//	svc := cqrs.New(b, ordersDomain)
//	err := cqrs.OnCommand(svc, PlaceOrder, func(ctx context.Context, c PlaceOrderV1) error {
//		return OrderPlaced.Publish(ctx, b, OrderPlacedV2{ID: c.ID}) // correlated automatically
//	})
//	err = cqrs.OnEvent(svc, PaymentReceived, onPayment)
//	err = cqrs.OnQuery(svc, GetOrder, func(ctx context.Context, q GetOrderQ) (OrderView, error) { ... })
//	err = svc.Run(ctx) // until ctx ends; drains on the way out
//
// # Groups and dispatch
//
// Events go to every subscribing service: a service's event handlers run
// in the consumer group named after the service. Commands and queries go
// to exactly one handler across the deployment: their group is the owning
// service (the declaration's domain). All of a service's handlers on one
// subject and group share ONE subscription (one consumer) and are picked
// by the message's CloudEvents type inside it, so v1 and v2 of an event,
// or several types on one subject, never compete inside a group. A
// handler declared for v2 with an upcaster from v1 also gets v1 events,
// upcast; when the service also registers a handler for v1 itself, v1
// events go to that one (an exact version match wins).
//
// Registering a second handler for a command, a query, or an event type
// the service already handles is an error at registration
// (ErrDuplicateHandler), naming the type.
//
// # Unknown types and versions
//
// A message of a known base type at a version the service cannot read (a
// producer upgraded first) is a permanent error naming the versions the
// service knows; it goes to the dead-letter subject (DeadLetter, default
// "<service>.dead"), with the reason in bus.DeadLetterReasonHeader, and can
// be replayed after the consumer is upgraded. An event of an unknown type
// on a subscribed subject is dead-lettered the same way by default; with
// IgnoreUnknown it is acked, counted (Service.Unknown), logged at Info the
// first time per type and at Debug afterwards. Nothing is lost silently.
//
// # Rolling upgrades
//
// To move an event from vN to vN+1:
//
//  1. Upgrade consumers first: declare vN+1 with an upcaster From(N, ...)
//     and deploy every consuming service. They read vN (upcast) and vN+1.
//  2. Then upgrade producers to publish vN+1.
//  3. If a producer went first anyway, consumers still on vN dead-letter
//     vN+1 messages with "...vN+1: this service knows vN" (never decode
//     them into vN structs); once the consumers are upgraded, replay the
//     dead letters with Replay (the original message, republished to its
//     subject under a new event id) and they are handled.
//
// cqrs/upgrade_test.go runs both orders on embedded JetStream and checks
// what happens to every message.
//
// # Follow-up events
//
// Handlers run under middleware.Correlation and with the incoming message
// in ctx (Message). Publishing through a contract with that ctx sets the
// correlationid (the incoming one, or the incoming id) and causationid
// (the incoming id) extensions.
//
// # Running
//
// Service.Run blocks until ctx ends or a subscription dies, then drains
// and returns the first fatal error; RunAll runs several services and
// routers together. Describe returns a plain description of the
// registrations and of the types declared with Sends.
package cqrs
