// Command orders is Busway's main example: an order service with typed
// commands, events and a query, and two services reacting to its events,
// built with packages contract and cqrs. It prints, step by step, what
// happened: commands sent, events published and handled, a handler retried,
// a message dead-lettered, an old event version upcast, a query replied.
//
//	go run ./examples/orders                      # in-process NATS server with JetStream, nothing to install
//	go run ./examples/orders -url mem://
//	go run ./examples/orders -asyncapi orders.json  # write the AsyncAPI 3.0 document and exit
//
// The services are in services.go, their contracts in contracts.go; the
// rest is this program's narration. Their unit tests, in orders_test.go,
// run on mem:// with the cqrs/cqrstest harness.
package main
