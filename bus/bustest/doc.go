// Package bustest is Busway's conformance suite, which every backend runs,
// and test helpers for code that uses package bus.
//
// # Conformance
//
// A backend's tests call Run once, with a function that opens a Bus on the
// backend and an honest description of what the backend can do:
//
//	func TestConformance(t *testing.T) {
//		bustest.Run(t, func(t *testing.T) *bus.Bus {
//			conn, err := membus.Open(membus.Options{Name: t.Name()})
//			require.NoError(t, err)
//			b := bus.New(conn)
//			t.Cleanup(func() { _ = b.Close(context.Background()) })
//			return b
//		}, bustest.Features{
//			Redelivery: true, RequestReply: true, Groups: true, Wildcards: true,
//			MultiValueHeaders: true, Ordering: true,
//		})
//	}
//
// Run starts one subtest per contract of package bus (publish/subscribe,
// fan-out, groups, one group on overlapping patterns, wildcards,
// redelivery, a backoff that really delays, InProgress, dead letters, a
// message that cannot be dead-lettered, panics, shutdown, hard-stop
// hand-back, a second Drain, a subscription whose backend side
// disappears, request/reply, subject validation, length limits on
// subjects and group names, reserved and invalid header names, payload
// limits, ordering, CloudEvents attributes, closed bus). A contract the
// backend does not offer, per Features, is skipped with the reason. Every
// wait has a timeout (Features.Timeout), so a regression fails instead of
// hanging. Each subtest uses subjects and
// group names of its own (events under "bustest.<random>", requests under
// "bustestrpc.<random>"), so the suite also runs against a shared external
// server; a JetStream stream for the suite captures "bustest.>" only.
//
// # Helpers
//
// Recorder subscribes to a pattern and keeps what arrives, so a unit test
// on the in-memory backend can assert what the code under test published:
//
//	b := bus.New(memConn)
//	rec := bustest.Recorder(t, b, "orders.>")
//	svc := orders.NewService(b)
//	svc.Create(ctx, ...)
//	msgs := rec.Wait(1, time.Second)
//	assert.Equal(t, "com.example.order.created.v1", msgs[0].Event.Type)
package bustest
