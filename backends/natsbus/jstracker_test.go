package natsbus

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"
)

// refTracker is the tracker's specification: the set of sequences
// delivered and not settled, and the highest delivered.
type refTracker struct {
	out map[uint64]bool
	max uint64
}

func newRef() *refTracker { return &refTracker{out: map[uint64]bool{}} }

func (r *refTracker) delivered(seq uint64) { r.out[seq] = true; r.max = max(r.max, seq) }
func (r *refTracker) settled(seq uint64)   { delete(r.out, seq) }

// lowest is the lowest sequence delivered and not settled, or MaxUint64.
func (r *refTracker) lowest() uint64 {
	low := uint64(math.MaxUint64)
	for s := range r.out {
		low = min(low, s)
	}
	return low
}

// checkTracker compares t with the reference for a few floors, and checks
// t's own invariants: live counts the ring's bits, and lo is the lowest
// word with a bit set.
func checkTracker(tb testing.TB, step string, t *tracker, r *refTracker) {
	tb.Helper()
	low := r.lowest()
	for _, floor := range []uint64{0, r.max / 2, r.max, r.max + 10} {
		if got, want := t.resume(floor), min(low, max(r.max, floor)+1); got != want {
			tb.Fatalf("%s: resume(%d) = %d, want %d (out %d)", step, floor, got, want, len(r.out))
		}
	}
	n := 0
	for _, w := range t.ring {
		n += bits.OnesCount64(w)
	}
	if n != t.live {
		tb.Fatalf("%s: live = %d, ring has %d bits", step, t.live, n)
	}
	if t.live > 0 && t.ring[t.lo&uint64(len(t.ring)-1)] == 0 {
		tb.Fatalf("%s: lo = %d is an empty word", step, t.lo)
	}
	if len(t.ring)*64 > trackerWindow {
		tb.Fatalf("%s: ring of %d words past the bound", step, len(t.ring))
	}
}

// The floor is right after every step of every order of settling a set
// of deliveries, including sequences on both sides of word boundaries.
func TestTrackerEverySettleOrder(t *testing.T) {
	seqs := []uint64{62, 63, 64, 65, 127, 200}
	perm := make([]int, len(seqs))
	for i := range perm {
		perm[i] = i
	}
	count := 0
	for {
		tr, ref := &tracker{}, newRef()
		for _, s := range seqs {
			tr.delivered(s)
			ref.delivered(s)
		}
		checkTracker(t, "delivered", tr, ref)
		for _, i := range perm {
			tr.settled(seqs[i])
			ref.settled(seqs[i])
			checkTracker(t, "settled", tr, ref)
		}
		if got := tr.resume(0); got != 201 {
			t.Fatalf("all settled: resume = %d, want 201", got)
		}
		count++
		if !nextPerm(perm) {
			break
		}
	}
	if count != 720 {
		t.Fatalf("%d orders tried", count)
	}
}

// nextPerm steps p to the next permutation in lexical order.
func nextPerm(p []int) bool {
	i := len(p) - 2
	for i >= 0 && p[i] >= p[i+1] {
		i--
	}
	if i < 0 {
		return false
	}
	j := len(p) - 1
	for p[j] <= p[i] {
		j--
	}
	p[i], p[j] = p[j], p[i]
	for a, b := i+1, len(p)-1; a < b; a, b = a+1, b-1 {
		p[a], p[b] = p[b], p[a]
	}
	return true
}

func TestTrackerCases(t *testing.T) {
	d := func(s uint64) trackerOp { return trackerOp{false, s} }
	st := func(s uint64) trackerOp { return trackerOp{true, s} }
	cases := []struct {
		name string
		ops  []trackerOp
	}{
		{"empty", nil},
		{"settled out of order", []trackerOp{d(1), d(2), d(3), st(2), st(3), st(1)}},
		{"settle of one never delivered", []trackerOp{d(5), st(4), st(6)}},
		{"wrap: the window slides over the ring many times", slide(1, 10*trackerWords*64, 3)},
		{"growth: many unsettled", slide(1, 5000, 5000)},
		{"past the window: the lowest go to the map", []trackerOp{d(1), d(2), d(3 + trackerWindow), d(10 * trackerWindow), st(2), st(1)}},
		{"far jump with an empty window", []trackerOp{d(1), st(1), d(1 << 40), d(1<<40 + 1), st(1 << 40)}},
		{"redelivery below the window", []trackerOp{d(1), d(200), st(1), d(1), d(300), st(200)}},
		{"redelivery of one moved to the map", []trackerOp{d(1), d(2 * trackerWindow), d(1), st(1)}},
		{"settled twice", []trackerOp{d(7), d(8), st(7), st(7), st(8)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, ref := &tracker{}, newRef()
			checkTracker(t, "start", tr, ref)
			for i, o := range c.ops {
				if o.settle {
					tr.settled(o.seq)
					ref.settled(o.seq)
				} else {
					tr.delivered(o.seq)
					ref.delivered(o.seq)
				}
				checkTracker(t, fmt.Sprintf("step %d", i), tr, ref)
			}
		})
	}
}

// trackerOp is a delivery, or a settlement, of a sequence.
type trackerOp struct {
	settle bool
	seq    uint64
}

// slide delivers from..to, settling each sequence lag deliveries later,
// then settles the rest.
func slide(from, to uint64, lag int) []trackerOp {
	var ops []trackerOp
	for s := from; s <= to; s++ {
		ops = append(ops, trackerOp{false, s})
		if s >= from+uint64(lag) {
			ops = append(ops, trackerOp{true, s - uint64(lag)})
		}
	}
	for s := max(from, to-uint64(lag)+1); s <= to; s++ {
		ops = append(ops, trackerOp{true, s})
	}
	return ops
}

// Random deliveries (mostly ascending, with gaps, jumps past the window
// and redeliveries) and settlements in random order, against the
// reference after every step.
func TestTrackerRandom(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 42))
		tr, ref := &tracker{}, newRef()
		next := uint64(1)
		var pending []uint64
		for step := range 20000 {
			switch k := rng.IntN(100); {
			case k < 45: // the next delivery
				switch j := rng.IntN(1000); {
				case j < 5:
					next += uint64(rng.IntN(4 * trackerWindow))
				case j < 100:
					next += uint64(rng.IntN(200))
				}
				tr.delivered(next)
				ref.delivered(next)
				pending = append(pending, next)
				next++
			case k < 90 && len(pending) > 0: // a settlement, any order
				i := rng.IntN(len(pending))
				if rng.IntN(4) > 0 { // mostly an early one
					i = rng.IntN(min(len(pending), 8))
				}
				s := pending[i]
				pending = append(pending[:i], pending[i+1:]...)
				tr.settled(s)
				ref.settled(s)
			case k < 95 && next > 1: // a redelivery, settled or not
				s := 1 + rng.Uint64N(next-1)
				tr.delivered(s)
				ref.delivered(s)
				pending = append(pending, s)
			default: // a settlement of something perhaps never delivered
				s := rng.Uint64N(next + 10)
				tr.settled(s)
				ref.settled(s)
			}
			checkTracker(t, fmt.Sprintf("seed %d step %d", seed, step), tr, ref)
		}
		for _, s := range pending {
			tr.settled(s)
			ref.settled(s)
		}
		checkTracker(t, "drained", tr, ref)
		if len(ref.out) != 0 || tr.live != 0 || len(tr.old) != 0 {
			t.Fatalf("seed %d: %d left, live %d, old %d", seed, len(ref.out), tr.live, len(tr.old))
		}
	}
}

// Sequences outside the window are forgotten only once they are older
// than trackerAge and the map holds more than trackerPrune of them.
func TestTrackerPrunesOldByAge(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	tr := &tracker{now: func() time.Time { return clock }}
	tr.delivered(10 * trackerWindow)
	for s := range uint64(trackerPrune) {
		tr.delivered(s + 1) // below the window: to the map
	}
	if got := tr.resume(0); got != 1 {
		t.Fatalf("resume = %d, want 1", got)
	}
	clock = clock.Add(trackerAge + time.Second)
	tr.delivered(trackerPrune + 5) // past trackerPrune: the old ones go
	if got, want := tr.resume(0), uint64(trackerPrune+5); got != want {
		t.Fatalf("after pruning: resume = %d, want %d", got, want)
	}
	if len(tr.old) != 1 {
		t.Fatalf("%d left in the map, want 1", len(tr.old))
	}
	// Recent entries are never dropped, however many.
	for s := range uint64(3 * trackerPrune) {
		tr.delivered(trackerPrune + 10 + s)
	}
	if got, want := tr.resume(0), uint64(trackerPrune+5); got != want {
		t.Fatalf("recent: resume = %d, want %d", got, want)
	}
}

// BenchmarkTracker is the tracker's cost per message on the consume path:
// a delivery, and its settlement a few deliveries later (out of order).
func BenchmarkTracker(b *testing.B) {
	var tr tracker
	var inflight [8]uint64
	for i := range b.N {
		seq := uint64(i + 1)
		tr.delivered(seq)
		j := (i * 5) % len(inflight)
		if inflight[j] != 0 {
			tr.settled(inflight[j])
		}
		inflight[j] = seq
	}
}
