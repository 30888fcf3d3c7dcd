// Package deadletter reads, replays and purges the dead letters a bus
// wrote (see bus.DeadLetter and the Busway-Dead-Letter-* headers).
//
// A Store is opened on a dead-letter subject: Open reads the JetStream
// stream that stores the subject (by sequence, without consuming it), and
// Record subscribes to the subject on any bus and keeps what arrives in
// memory (mem://, tests, or a bus without JetStream).
//
//	st, err := deadletter.Open(ctx, b, "dead.orders")
//	letters, err := st.List(ctx, deadletter.Filter{Group: "billing"})
//	err = st.Replay(ctx, letters[0].ID)
//
// Replay republishes the dead letter's event, with its original id and
// attributes, to its original subject, with bus.ReplayGroupHeader,
// bus.ReplayRouteHeader and bus.ReplayCountHeader set: only the
// subscription of the group and route that failed it handles it (every
// other one acknowledges it and skips it), and its deduplication id is
// its own, so JetStream does not drop it as a copy of the original.
// Replaying one dead letter twice publishes it once: the store marks it
// (JetStream: in the KV bucket "busway-replays-<stream>"; Record: in
// memory), and the replay's dedup id is deterministic. A replay that fails
// again is dead-lettered again, with bus.DeadLetterReplaysHeader counting
// the replays; it is a new dead letter, replayed on its own.
package deadletter
