package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	out := flag.String("o", "docs/bench", "output directory for report.md and ratios.svg")
	flag.Parse()
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(out string, files []string) error {
	if len(files) == 0 {
		return errors.New("usage: benchreport [-o dir] bench.txt...")
	}
	samples := samples{}
	for _, name := range files {
		if err := samples.read(name); err != nil {
			return err
		}
	}
	rows := evaluate(samples)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(out, "report.md"), func(w io.Writer) error { return writeTable(w, rows) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(out, "ratios.svg"), func(w io.Writer) error { return writeSVG(w, rows) })
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// samples holds every value by benchmark name and unit.
type samples map[string]map[string][]float64

// procSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

func (s samples) read(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := benchfmt.NewReader(f, name)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		bench := procSuffix.ReplaceAllString(res.Name.String(), "")
		bench = "Benchmark" + bench
		if s[bench] == nil {
			s[bench] = map[string][]float64{}
		}
		for _, v := range res.Values {
			unit, val := v.OrigUnit, v.OrigValue
			if unit == "" { // not tidied: Value is as read
				unit, val = v.Unit, v.Value
			}
			s[bench][unit] = append(s[bench][unit], val)
		}
	}
	return r.Err()
}

// stat is the median and range of one benchmark's metric.
type stat struct {
	n             int
	median        float64
	lo, hi        float64
	spreadPercent float64 // half the range, in percent of the median
}

func (s samples) stat(bench, unit string) (stat, bool) {
	vals := s[bench][unit]
	if len(vals) == 0 {
		return stat{}, false
	}
	sample := benchmath.NewSample(vals, &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, 0.95)
	lo, hi := sample.Values[0], sample.Values[len(sample.Values)-1]
	st := stat{n: len(vals), median: sum.Center, lo: lo, hi: hi}
	if sum.Center != 0 {
		st.spreadPercent = 100 * (hi - lo) / 2 / sum.Center
	}
	return st, true
}

// row is one evaluated scenario.
type row struct {
	scenario
	busSt, refSt stat
	ok           bool    // both sides measured
	ratio        float64 // bus relative to ref (more is better); the bus's value for an absolute target
	ratioLo      float64 // the lowest and highest ratio over the runs
	ratioHi      float64
	met          string // "yes", "no" or "" (reported only)
}

func evaluate(s samples) []row {
	var rows []row
	for _, sc := range scenarios {
		r := row{scenario: sc}
		var okBus, okRef bool
		r.busSt, okBus = s.stat(sc.bus, sc.unit)
		okRef = sc.ref == ""
		if !okRef {
			r.refSt, okRef = s.stat(sc.ref, sc.unit)
		}
		// A ratio needs two non-zero medians.
		r.ok = okBus && okRef && (sc.ref == "" || r.busSt.median > 0 && r.refSt.median > 0)
		if r.ok {
			r.ratio, r.met = judge(sc, r.busSt.median, r.refSt.median)
			r.ratioLo, r.ratioHi = r.ratio, r.ratio
			if sc.ref != "" {
				r.pairedRatio(s[sc.bus][sc.unit], s[sc.ref][sc.unit])
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// pairedRatio sets the ratio to the median of the per-run ratios when
// bus and reference ran the same number of times: scripts/bench-report.sh
// runs rounds of go test (not -count, which repeats each sub-benchmark
// back to back), so the k-th runs of both ran one right after the other
// and a burst of load elsewhere on the machine hits both sides of a pair
// rather than one side of the medians. Otherwise the
// ratio of the medians stays, with the widest range the runs allow.
func (r *row) pairedRatio(bus, ref []float64) {
	if len(bus) != len(ref) {
		if r.higherIsBetter() {
			r.ratioLo, r.ratioHi = r.busSt.lo/r.refSt.hi, r.busSt.hi/r.refSt.lo
		} else {
			r.ratioLo, r.ratioHi = r.refSt.lo/r.busSt.hi, r.refSt.hi/r.busSt.lo
		}
		return
	}
	ratios := make([]float64, len(bus))
	for i := range bus {
		ratios[i], _ = judge(r.scenario, bus[i], ref[i])
	}
	sample := benchmath.NewSample(ratios, &benchmath.DefaultThresholds)
	r.ratio, r.met = judge(scenario{target: r.target, unit: "msgs/s", ref: "x"}, benchmath.AssumeNothing.Summary(sample, 0.95).Center, 1)
	r.ratioLo, r.ratioHi = sample.Values[0], sample.Values[len(sample.Values)-1]
}

// judge returns the scenario's ratio (or the bus's value for an absolute
// target) and whether the target is met.
func judge(sc scenario, bus, ref float64) (float64, string) {
	var v float64
	switch {
	case sc.ref == "":
		v = bus
	case sc.higherIsBetter():
		v = bus / ref
	default:
		v = ref / bus
	}
	if sc.target == 0 {
		return v, ""
	}
	better := v >= sc.target
	if sc.ref == "" && !sc.higherIsBetter() {
		better = v <= sc.target
	}
	if better {
		return v, "yes"
	}
	return v, "no"
}
