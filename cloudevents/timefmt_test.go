package cloudevents

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimeFastPaths checks appendTime and parseCanonicalTime against
// package time over the whole range Encode accepts.
func TestTimeFastPaths(t *testing.T) {
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	r := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 500, time.FixedZone("", -3600)),
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 200000 {
		ns := 0
		switch r.IntN(3) {
		case 1:
			ns = r.IntN(1e9)
		case 2:
			ns = r.IntN(1000) * 1e6
		}
		times = append(times, time.Unix(lo+r.Int64N(hi-lo), int64(ns)))
	}
	for _, tm := range times {
		want := tm.UTC().Format(time.RFC3339Nano)
		got := string(appendTime(nil, tm))
		if got != want {
			t.Fatalf("appendTime(%v) = %q, want %q", tm, got, want)
		}
		p, ok := parseCanonicalTime(got)
		if !ok || p != tm.UTC() {
			t.Fatalf("parseCanonicalTime(%q) = %v, %v; want %v", got, p, ok, tm.UTC())
		}
	}
}

// TestParseCanonicalTimeRejects checks that forms time.Parse would judge
// (or reject) are left to it.
func TestParseCanonicalTimeRejects(t *testing.T) {
	for _, s := range []string{
		"", "2024-05-06T07:08:09", "2024-05-06T07:08:09.Z", "2024-05-06t07:08:09Z",
		"2024-05-06T07:08:09z", "2024-05-06T07:08:09+00:00", "2024-02-30T07:08:09Z",
		"2023-02-29T07:08:09Z", "2024-13-06T07:08:09Z", "2024-00-06T07:08:09Z",
		"2024-05-00T07:08:09Z", "2024-05-06T24:08:09Z", "2024-05-06T07:60:09Z",
		"2024-05-06T07:08:60Z", "2024-05-06T07:08:09.1234567890Z", "2024-05-06T07:08:09,5Z",
		"2024-05-06T07:08:09.-5Z", "+024-05-06T07:08:09Z", "2024-05-06T07:08:09.5 Z",
	} {
		if _, ok := parseCanonicalTime(s); ok {
			t.Errorf("parseCanonicalTime(%q) accepted", s)
		}
	}
}
