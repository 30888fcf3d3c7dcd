package main

import (
	"fmt"
	"io"
	"strconv"
)

// writeTable writes the Markdown table of rows.
func writeTable(w io.Writer, rows []row) error {
	p := &errWriter{w: w}
	p.printf("| scenario | bus | reference | ratio | target | met |\n")
	p.printf("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if !r.ok {
			p.printf("| %s | not measured | %s | | | |\n", r.label, r.refTag)
			continue
		}
		ref, ratio, target := r.refTag+": "+formatStat(r.refSt, r.unit), formatRatioRange(r), ""
		if r.ref == "" {
			ref, ratio = "-", formatValue(r.ratio, r.unit)
		}
		if r.target != 0 {
			target = ">= " + formatRatio(r.target)
			if r.ref == "" {
				target = formatValue(r.target, r.unit)
				if r.higherIsBetter() {
					target = ">= " + target
				} else {
					target = "<= " + target
				}
			}
		}
		p.printf("| %s | %s | %s | %s | %s | %s |\n", r.label, formatStat(r.busSt, r.unit), ref, ratio, target, r.met)
	}
	p.printf("\nMedians of %s runs, ± half the range between the fastest and the slowest run. "+
		"Ratio: the bus relative to the reference, more is better (bus/ref for msgs/s, ref/bus for latency): "+
		"the median of the per-run ratios (bus and reference ran back to back in each run), with their range.\n", runs(rows))
	return p.err
}

func runs(rows []row) string {
	lo, hi := 0, 0
	for _, r := range rows {
		if !r.ok {
			continue
		}
		if lo == 0 || r.busSt.n < lo {
			lo = r.busSt.n
		}
		hi = max(hi, r.busSt.n)
	}
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

func formatStat(s stat, unit string) string {
	return fmt.Sprintf("%s ±%.0f%%", formatValue(s.median, unit), s.spreadPercent)
}

// formatValue prints v in unit: msgs/s in k or M, latency in µs.
func formatValue(v float64, unit string) string {
	switch unit {
	case "msgs/s":
		if v >= 1e6 {
			return fmt.Sprintf("%.2fM msgs/s", v/1e6)
		}
		return fmt.Sprintf("%.1fk msgs/s", v/1e3)
	case "p50-ns", "p99-ns":
		return fmt.Sprintf("%s %.0f µs", unit[:3], v/1e3)
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}

// formatRatioRange is the ratio and, over several runs, its range.
func formatRatioRange(r row) string {
	if r.ratioLo == r.ratioHi {
		return formatRatio(r.ratio)
	}
	return fmt.Sprintf("%s (%s-%s)", formatRatio(r.ratio), formatRatio(r.ratioLo), formatRatio(r.ratioHi))
}

func formatRatio(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (p *errWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
