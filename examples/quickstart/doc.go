// Command quickstart is Busway's main example: an order service publishes
// typed CloudEvents, two consumer groups handle them, a handler that fails
// for good sends its message to a dead-letter subject, and a request gets
// its reply.
//
//	go run ./examples/quickstart     # in-process NATS server with JetStream, nothing to install
//	go run ./examples/quickstart -url 'jetstream://127.0.0.1:4222?stream=QUICKSTART&subjects=orders.>,dead.>'
//	go run ./examples/quickstart -url nats://127.0.0.1:4222
//	go run ./examples/quickstart -url mem://
//
// The backend is picked by URL (flag -url or BUSWAY_URL), so the same
// program runs on any backend registered in this binary. By default it
// starts an embedded NATS server on a random port with JetStream on a
// temporary directory, and stops it on exit.
package main
