// Package embedded runs a NATS server (nats-server v2, JetStream on) inside
// the process: for tests, for examples, and as the bus's default when no URL
// is configured.
//
// It is a separate package so that a service that connects to a real
// server does not link the server: import it only where an in-process
// server is wanted.
//
//	srv, err := embedded.Start(embedded.Options{})
//	if err != nil { ... }
//	defer srv.Stop()
//	b, err := bus.Open(ctx, "jetstream://"+srv.Addr()+"?stream=ORDERS&subjects=orders.>")
//
// # The default bus
//
// Importing the package registers the "embedded" URL scheme and makes
// bus.Open(ctx, "") mean "embedded://": a private in-process server with
// JetStream on a temporary store directory, stopped (and the directory
// removed) when the Bus closes. "embedded://NAME" is a server shared by
// every Bus opened with that name in the process (started by the first,
// stopped when the last closes), so two services in one test or one binary
// talk to each other. Its parameters:
//
//	stream=NAME     open with the jetstream backend on this stream (created
//	                if missing; see natsbus for the other JetStream
//	                parameters, which pass through); without it, core NATS
//	store=DIR       keep JetStream data in DIR across runs (default: a
//	                temporary directory, removed on Close)
//	port=N          listen on port N (default: a random free port; the
//	                server never takes 4222 unless asked, since a machine
//	                may already run NATS there)
//
// The URL clients can use to reach the server is logged at Info level
// through slog when the bus opens it.
//
// # Servers and clusters for tests
//
// Start runs one server on 127.0.0.1 on a random port; Server.Restart stops
// it and starts it again on the same port and store directory (to test
// reconnects and file-store recovery). StartCluster runs a JetStream
// cluster of several servers in one process, each with its own store
// directory; Shutdown and Restart on one of Cluster.Nodes take a single
// node down and up (to test failover), Cluster.StreamLeader finds the node
// leading a stream, and Cluster.Stop stops them all.
package embedded
