package main

import (
	"html"
	"io"
	"math"
)

// Chart geometry, in SVG user units.
const (
	svgLabelW = 420 // width of the label column
	svgBarW   = 360 // width of the bar area
	svgRowH   = 22
	svgTop    = 40
	svgBottom = 30
)

// writeSVG draws one horizontal bar per ratio row (rows with an absolute
// target are left out): the bar is the median ratio, the whisker the
// ratio's range over the runs, the tick the target,
// and a dashed line marks parity (1.0).
func writeSVG(w io.Writer, rows []row) error {
	var bars []row
	scale := 1.5
	for _, r := range rows {
		if r.ok && r.ref != "" {
			bars = append(bars, r)
			scale = math.Max(scale, math.Ceil(whisker(r)[1]*2)/2)
		}
	}
	x := func(v float64) float64 { return svgLabelW + svgBarW*math.Min(v, scale)/scale }
	width, height := svgLabelW+svgBarW+20, svgTop+svgRowH*len(bars)+svgBottom
	p := &errWriter{w: w}
	p.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	p.printf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p.printf(`<text x="10" y="20" font-size="14" font-weight="bold">Busway relative to its reference (median; more is better; tick = target)</text>` + "\n")
	for i, r := range bars {
		y := float64(svgTop + i*svgRowH)
		label := r.label + " vs " + r.refTag
		p.printf(`<text x="%d" y="%.0f" text-anchor="end">%s</text>`+"\n", svgLabelW-8, y+15, html.EscapeString(label))
		color := "#4a7ebb"
		if r.met == "no" {
			color = "#d9822b"
		}
		p.printf(`<rect x="%d" y="%.0f" width="%.1f" height="%d" fill="%s"/>`+"\n", svgLabelW, y+4, x(r.ratio)-svgLabelW, svgRowH-8, color)
		wk := whisker(r)
		p.printf(`<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="black"/>`+"\n", x(wk[0]), x(wk[1]), y+11, y+11)
		if r.target != 0 {
			p.printf(`<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="red" stroke-width="2"/>`+"\n", x(r.target), x(r.target), y+2, y+20)
		}
		p.printf(`<text x="%.1f" y="%.0f">%s</text>`+"\n", x(wk[1])+4, y+15, formatRatio(r.ratio))
	}
	bottom := float64(svgTop + svgRowH*len(bars))
	p.printf(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%.0f" stroke="gray" stroke-dasharray="4 3"/>`+"\n", x(1), x(1), svgTop, bottom)
	for v := 0.0; v <= scale+1e-9; v += 0.5 {
		p.printf(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="gray">%.1f</text>`+"\n", x(v), bottom+16, v)
	}
	p.printf("</svg>\n")
	return p.err
}

// whisker is the lowest and highest ratio over the runs.
func whisker(r row) [2]float64 { return [2]float64{r.ratioLo, r.ratioHi} }
