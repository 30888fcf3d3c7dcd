package natsbus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
)

func TestStreamSubsetOf(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a.b", "a.*", true},
		{"a.*", "a.*", true},
		{"a.*", "a.b", false},
		{"a.>", "a.>", true},
		{"a.b.c", "a.>", true},
		{"a.*.c", "a.>", true},
		{"a.>", "a.*", false},
		{"a.>", "a.*.>", false},
		{"a.*.>", "a.>", true},
		{"a", "a.>", false},
		{"a.b", "a.b.>", false},
		{">", "a.>", false},
		{"a.>", ">", true},
		{"a", ">", true},
		{"*", ">", true},
		{"a.b", "*.b", true},
		{"a.b", "*.c", false},
		{"a.b.c", "a.*", false},
		// '*' and '>' inside a longer token are literal characters.
		{"a.>x", "a.>", true},
		{"a.>x", "a.*", true},
		{"a.>x", "a.>x", true},
		{"a.>x", "a.x", false},
		{"a.*a", "a.*a", true},
		{"a.*a", "a.*", true},
		{"a.b", "a.*a", false},
		{"a.*", "a.*a", false},
		{"a.>", "a.>x", false},
		{"a.*a.c", "a.*.c", true},
	}
	for _, c := range cases {
		if got := subsetOf(c.a, c.b); got != c.want {
			t.Errorf("subsetOf(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestStreamOverlap(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a.*", "a.b", true},
		{"a.*", "b.*", false},
		{">", "a.b", true},
		{"a.>", "a", false},
		{"a.>", "a.b.c", true},
		{"*.b", "a.*", true},
		{"*.b", "a.c", false},
		{"a.*", "a.b.c", false},
		{"a.*.>", "a.b", false},
		{"a.*.>", "a.b.c", true},
		// Literal tokens.
		{"a.>x", "a.*", true},
		{"a.>x", "a.>", true},
		{"a.>x", "a.x", false},
		{"a.*a", "a.b", false},
		{"a.*a", "a.*a", true},
		{"*a.b", "*.b", true},
		{"*a.b", "a.b", false},
	}
	for _, c := range cases {
		if got := overlap(c.a, c.b); got != c.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := overlap(c.b, c.a); got != c.want {
			t.Errorf("overlap(%q, %q) = %v, want %v (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

// TestStreamSubsetImpliesOverlap: every pair that is a subset also
// overlaps (a pattern matches at least one subject).
func TestStreamSubsetImpliesOverlap(t *testing.T) {
	pats := []string{"a", "b", "a.b", "a.*", "a.>", ">", "*", "*.b", "a.*.c", "a.>x", "a.*a", "*a", ">x", "a.b.c"}
	for _, a := range pats {
		for _, b := range pats {
			if subsetOf(a, b) && !overlap(a, b) {
				t.Errorf("subsetOf(%q, %q) but not overlap", a, b)
			}
		}
	}
}

func TestStreamClassify(t *testing.T) {
	s := &streamInfo{name: "ORDERS", subjects: []string{"orders.>", "audit.*", "lit.*x"}}
	cases := []struct {
		pattern string
		inside  bool
		partial bool
	}{
		{"orders.created", true, false},
		{"orders.>", true, false},
		{"orders.*.eu", true, false},
		{"audit.login", true, false},
		{"audit.*", true, false},
		{"audit.>", false, true},
		{"audit.a.b", false, false},
		{">", false, true},
		{"*.created", false, true},
		{"orders", false, false},
		{"rpc.get", false, false},
		{"rpc.>", false, false},
		{"lit.*x", true, false},
		{"lit.*", false, true},
		{"lit.ax", false, false},
		{">x", false, false},
		{"*a", false, false},
		{"orders.>x", true, false},
	}
	r := &routes{streams: []*streamInfo{s}, core: []string{">"}, refreshed: time.Now()}
	for _, c := range cases {
		inside, overlaps := s.classify(c.pattern)
		if inside != c.inside || overlaps != c.partial {
			t.Errorf("classify(%q) = %v, %v; want %v, %v", c.pattern, inside, overlaps, c.inside, c.partial)
		}
		got, err := r.classify(t.Context(), c.pattern)
		if c.partial {
			if !errors.Is(err, driver.ErrInvalidSubject) || !strings.Contains(err.Error(), c.pattern) {
				t.Errorf("routes.classify(%q) error = %v, want ErrInvalidSubject naming the pattern", c.pattern, err)
			}
			continue
		}
		if err != nil || (got != nil) != c.inside {
			t.Errorf("routes.classify(%q) = %v, %v; want inside=%v, nil", c.pattern, got, err, c.inside)
		}
	}
}

func TestStreamCaptures(t *testing.T) {
	s := &streamInfo{name: "ORDERS", subjects: []string{"orders.>", "audit.*"}}
	for subject, want := range map[string]bool{
		"orders.a": true, "orders.a.b": true, "orders": false,
		"audit.x": true, "audit.x.y": false, "rpc.x": false,
	} {
		if got := s.captures(subject); got != want {
			t.Errorf("captures(%q) = %v, want %v", subject, got, want)
		}
	}
}
