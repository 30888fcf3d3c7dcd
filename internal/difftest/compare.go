package difftest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Diff describes how two observations of one sequence differ, or returns
// "" when they agree.
func Diff(a, b *Observation) string {
	var out strings.Builder
	n := max(len(a.Results), len(b.Results))
	for i := range n {
		x, y := at(a.Results, i), at(b.Results, i)
		if x != y {
			fmt.Fprintf(&out, "  result %d:\n    %s: %s\n    %s: %s\n", i, a.Backend, x, b.Backend, y)
		}
	}
	keys := slices.Sorted(maps.Keys(a.Deliveries))
	for k := range b.Deliveries {
		if _, ok := a.Deliveries[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, who := range keys {
		x, y := a.Deliveries[who], b.Deliveries[who]
		if slices.Equal(x, y) {
			continue
		}
		fmt.Fprintf(&out, "  %s handled:\n", who)
		onlyIn(&out, a.Backend, x, y)
		onlyIn(&out, b.Backend, y, x)
	}
	return out.String()
}

func at(xs []string, i int) string {
	if i < len(xs) {
		return xs[i]
	}
	return "(nothing)"
}

// onlyIn writes the keys of x (a sorted multiset) that y lacks.
func onlyIn(out *strings.Builder, name string, x, y []string) {
	rest := slices.Clone(y)
	for _, k := range x {
		if i := slices.Index(rest, k); i >= 0 {
			rest = slices.Delete(rest, i, i+1)
			continue
		}
		fmt.Fprintf(out, "    only on %s: %s\n", name, k)
	}
}

// Pair is the two backends a sequence is compared on, and how to name a
// run of it.
type Pair struct {
	A, B Backend
	// Name returns a run name unique among overlapping runs.
	Name func() string
}

// Check runs seq on both backends (at the same time) and returns their
// difference, "" when they agree, and what the first backend did.
func (p Pair) Check(ctx context.Context, seq Sequence) (string, *Observation) {
	var a, b *Observation
	done := make(chan struct{})
	go func() {
		defer close(done)
		a = Run(ctx, p.A, p.Name(), seq)
	}()
	b = Run(ctx, p.B, p.Name(), seq)
	<-done
	return Diff(a, b), a
}

// Minimise drops operations from a diverging sequence for as long as it
// still diverges, one at a time from the end, until no single operation
// can go (a 1-minimal sequence). It returns the sequence and its
// difference.
func (p Pair) Minimise(ctx context.Context, seq Sequence, diff string) (Sequence, string) {
	for changed := true; changed; {
		changed = false
		for i := len(seq.Ops) - 1; i >= 0; i-- {
			cand := seq.without(map[int]bool{i: true})
			if len(cand.Ops) == 0 {
				continue
			}
			if d, _ := p.Check(ctx, cand); d != "" {
				seq, diff, changed = cand, d, true
			}
		}
	}
	return seq, diff
}

// Stats counts what sequences exercised, to show that a passing run
// covered something.
type Stats struct {
	Sequences, Ops, Deliveries int
	// Results counts operation results by kind and outcome, e.g.
	// "publish: ErrInvalidHeader".
	Results map[string]int
}

// Add counts one observation.
func (s *Stats) Add(o *Observation) {
	if s.Results == nil {
		s.Results = map[string]int{}
	}
	s.Sequences++
	for _, r := range o.Results {
		if !strings.HasPrefix(r, "#") {
			continue
		}
		s.Ops++
		_, rest, _ := strings.Cut(r, " ")
		kind, res, _ := strings.Cut(rest, ": ")
		if i := strings.IndexAny(res, " :"); i > 0 && strings.HasPrefix(res, "answered") {
			res = res[:i]
		}
		if strings.HasPrefix(res, "remote error") {
			res = "remote error"
		}
		s.Results[kind+" "+res]++
	}
	for _, keys := range o.Deliveries {
		s.Deliveries += len(keys)
	}
}

func (s *Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sequences, %d operations, %d deliveries; results:", s.Sequences, s.Ops, s.Deliveries)
	for _, k := range slices.Sorted(maps.Keys(s.Results)) {
		fmt.Fprintf(&b, "\n  %6d  %s", s.Results[k], k)
	}
	return b.String()
}
