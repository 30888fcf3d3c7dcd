// Command deadletters lists, shows, replays and purges the dead letters
// of a JetStream stream (package deadletter).
//
//	go run ./examples/deadletters list                 # embedded server with the quickstart's dead letter
//	go run ./examples/deadletters -url 'jetstream://127.0.0.1:4222' -subject dead.orders list -group billing -kind permanent
//	go run ./examples/deadletters -url ... show 7
//	go run ./examples/deadletters -url ... replay 7    # to the group that failed it only; twice is once
//	go run ./examples/deadletters -url ... purge -replayed
//	go run ./examples/deadletters -url ... purge 7 8
//
// Without -url (or BUSWAY_URL) it starts an in-process NATS server with
// JetStream, produces the quickstart's dead letter (billing refuses order
// o-2, a negative amount, for good) and runs the command on it. Several
// commands can be given, separated by "--", as in
// "list -- replay 1 -- list".
package main
