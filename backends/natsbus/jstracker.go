package natsbus

import (
	"math/bits"
	"sync"
	"time"
)

// Bounds of the tracker. The window holds up to trackerWindow sequences
// as one bit each; a sequence that falls out of it (the window moved past
// it because much later ones were delivered) or comes back below it (a
// redelivery of one settled here already) is kept in a map with the time
// it went there. Past trackerPrune map entries, those older than
// trackerAge are dropped: another process of the group took the message,
// most likely.
const (
	trackerWords  = 16 // initial window, in 64-bit words
	trackerWindow = 1 << 16
	trackerPrune  = 4096
	trackerAge    = 10 * time.Minute
)

// tracker follows, for one consumer in this process, the stream sequences
// delivered and not yet acked or terminated here (handed-back ones
// included), and the highest delivered: where a recreated consumer must
// start so that nothing this process had not finished is skipped.
//
// Deliveries come in nearly ascending order and are settled soon after,
// so the set is a bitmap over a sliding window of sequences: a ring of
// words, word w (sequences 64w to 64w+63) at index w mod len(ring), for w
// in [lo, lo+len(ring)). lo is kept at the lowest word with a bit set, so
// the lowest unsettled sequence is found in its first word. Delivering
// and settling take no allocation and no clock reading; only the rare
// sequences outside the window go to the map (old).
type tracker struct {
	mu   sync.Mutex
	ring []uint64 // len is a power of two, or 0 before the first delivery
	lo   uint64   // word number of the window's first word
	live int      // bits set in ring
	max  uint64   // highest sequence delivered

	old     map[uint64]int64 // sequences outside the window -> since (unix ns)
	pruneAt int              // len(old) past which old is pruned
	now     func() time.Time // time.Now; a test sets its own clock
}

// delivered records seq as delivered and not settled.
func (t *tracker) delivered(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.max = max(t.max, seq)
	w := seq / 64
	if t.ring == nil {
		t.ring = make([]uint64, trackerWords)
	}
	if t.live == 0 {
		t.lo = w // an empty window starts anywhere
	}
	if w < t.lo {
		t.keepOld(seq)
		return
	}
	if w >= t.lo+uint64(len(t.ring)) {
		t.fit(w)
	}
	i, bit := w&uint64(len(t.ring)-1), uint64(1)<<(seq%64)
	if t.ring[i]&bit == 0 {
		t.ring[i] |= bit
		t.live++
	}
}

// fit makes the window reach word w: it grows the ring up to
// trackerWindow sequences, then moves the lowest words' sequences to old
// until w fits.
func (t *tracker) fit(w uint64) {
	for w >= t.lo+uint64(len(t.ring)) && len(t.ring)*64 < trackerWindow {
		t.grow()
	}
	for w >= t.lo+uint64(len(t.ring)) && t.live > 0 {
		i := t.lo & uint64(len(t.ring)-1)
		for b := t.ring[i]; b != 0; b &= b - 1 {
			t.keepOld(t.lo*64 + uint64(bits.TrailingZeros64(b)))
		}
		t.live -= bits.OnesCount64(t.ring[i])
		t.ring[i] = 0
		t.lo++
	}
	if t.live == 0 {
		t.lo = w // all moved out: the window starts at w
	}
	t.advance()
}

// grow doubles the ring, keeping each word of the window.
func (t *tracker) grow() {
	ring := make([]uint64, 2*len(t.ring))
	for w := t.lo; w < t.lo+uint64(len(t.ring)); w++ {
		ring[w&uint64(len(ring)-1)] = t.ring[w&uint64(len(t.ring)-1)]
	}
	t.ring = ring
}

// advance moves lo to the lowest word with a bit set.
func (t *tracker) advance() {
	if t.live == 0 {
		return
	}
	for t.ring[t.lo&uint64(len(t.ring)-1)] == 0 {
		t.lo++
	}
}

// keepOld records seq in old, pruning old when it grew past pruneAt.
func (t *tracker) keepOld(seq uint64) {
	now := t.clock().UnixNano()
	if t.old == nil {
		t.old, t.pruneAt = map[uint64]int64{}, trackerPrune
	}
	t.old[seq] = now
	if len(t.old) <= t.pruneAt {
		return
	}
	for s, at := range t.old {
		if now-at > int64(trackerAge) {
			delete(t.old, s)
		}
	}
	// Prune again only once old has doubled: the entries kept are recent,
	// and scanning them on every delivery would cost O(len(old)) each.
	t.pruneAt = max(trackerPrune, 2*len(t.old))
}

func (t *tracker) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// settled records that seq was acked or terminated here.
func (t *tracker) settled(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.old) > 0 {
		delete(t.old, seq)
	}
	w := seq / 64
	if t.live == 0 || w < t.lo || w >= t.lo+uint64(len(t.ring)) {
		return
	}
	i, bit := w&uint64(len(t.ring)-1), uint64(1)<<(seq%64)
	if t.ring[i]&bit != 0 {
		t.ring[i] &^= bit
		t.live--
		t.advance()
	}
}

// resume is the stream sequence a recreated consumer starts at: the
// lowest one delivered here and not finished, or the one after the
// highest delivered here (or after floor, the consumer's ack floor when
// last looked up, if that is higher).
func (t *tracker) resume(floor uint64) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	start := max(t.max, floor) + 1
	if t.live > 0 {
		b := t.ring[t.lo&uint64(len(t.ring)-1)] // not 0: see advance
		start = min(start, t.lo*64+uint64(bits.TrailingZeros64(b)))
	}
	for s := range t.old {
		start = min(start, s)
	}
	return start
}
