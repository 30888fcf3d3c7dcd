// Command quickstart is Busway's main example: an order service publishes
// typed CloudEvents, two consumer groups handle them, a handler that fails
// for good sends its message to a dead-letter subject, and a request gets
// its reply.
//
//	go run ./examples/quickstart            # in-memory backend, nothing to install
//	go run ./examples/quickstart -url mem://
//
// The backend is picked by URL, so the same program runs on any backend
// registered in this binary.
package main
