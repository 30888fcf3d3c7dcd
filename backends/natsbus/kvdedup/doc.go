// Package kvdedup is a middleware.DedupStore on JetStream KV: the
// idempotency record of one consumer group, shared by every instance of
// the service and kept across restarts.
//
//	store, err := kvdedup.Open(ctx, b, "billing", kvdedup.Config{TTL: 24 * time.Hour})
//	_, err = b.Subscribe(ctx, "orders.>", h, bus.Group("billing"),
//		bus.Wrap(middleware.DedupWith(store)))
//
// Each group has its own bucket, BucketPrefix plus the group name (a
// group name with characters a bucket name refuses is hashed). A key (a
// hash of middleware.DedupKey: event source, id, replay count) goes
// through three states:
//
//   - absent: Begin creates it as "in-progress" with KV Create, which
//     fails when the key exists, so one instance only holds it (a lease);
//   - "in-progress": another copy's Begin waits, watching the key, until
//     it becomes "done" (handled: skip), is deleted (the handler failed:
//     claim it) or its lease expires (Config.Lease after it was written:
//     the holder is presumed dead; take it over with a compare-and-set
//     Update on the revision seen, which one waiter only wins);
//   - "done": written after the handler succeeded; the bucket's TTL
//     forgets it.
//
// A failed handler deletes its own lease (only its revision), so a retry
// or redelivery handles the event again: a failed attempt never marks.
// The lease must outlast the handler's longest run (bound the handler with
// middleware.Timeout): a handler still running when its lease expires may
// run beside the one that took over.
package kvdedup
