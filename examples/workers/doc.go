// Command workers shows queue-group workers sharing tasks: several
// subscribers join one group, every task published on the subject goes to
// exactly one of them, and the work is split across the group.
//
//	go run ./examples/workers             # in-process NATS server, nothing to install
//	go run ./examples/workers -url mem://
//	go run ./examples/workers -workers 5 -tasks 50
//
// The printed summary is deterministic (tasks in order, each handled once);
// which worker took which task is not, so the per-worker split is printed
// only with -v.
package main
