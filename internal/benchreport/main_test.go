package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleOutput is go test -bench output of two runs of one scenario.
const sampleOutput = `goos: linux
pkg: github.com/busway/busway/backends/natsbus
BenchmarkCoreSize/256B/bus-2            	  1000	  3000 ns/op	  300000 msgs/s	  22 allocs/op
BenchmarkCoreSize/256B/raw-same-bytes-2 	  1000	  2000 ns/op	  400000 msgs/s	  14 allocs/op
BenchmarkCoreSize/256B/bus-2            	  1000	  3000 ns/op	  340000 msgs/s	  22 allocs/op
BenchmarkCoreSize/256B/raw-same-bytes-2 	  1000	  2000 ns/op	  400000 msgs/s	  14 allocs/op
BenchmarkCoreRequest/bus-2              	  1000	  3000 ns/op	  80000 p50-ns
BenchmarkCoreRequest/raw-same-bytes-2   	  1000	  3000 ns/op	  72000 p50-ns
`

func TestReport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bench.txt")
	require.NoError(t, os.WriteFile(in, []byte(sampleOutput), 0o644))
	require.NoError(t, run(dir, []string{in}))

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	table := string(md)
	// Median of 300k and 340k is 320k, ±20k = 6%; per-run ratios 0.75 and
	// 0.85, median 0.80 < 0.85.
	assert.Contains(t, table, "| core publish -> handler, 256 B | 320.0k msgs/s ±6% | raw nats.go, same bytes: 400.0k msgs/s ±0% | 0.80 (0.75-0.85) | >= 0.85 | no |")
	// Latency: ref/bus = 72/80 = 0.90, which meets 0.9.
	assert.Contains(t, table, "| core request/reply p50 | p50 80 µs ±0% | raw nats.go Request: p50 72 µs ±0% | 0.90 | >= 0.90 | yes |")
	assert.Contains(t, table, "| JetStream batch publish | not measured |")
	assert.Contains(t, table, "Medians of 1-2 runs")

	svg, err := os.ReadFile(filepath.Join(dir, "ratios.svg"))
	require.NoError(t, err)
	chart := string(svg)
	assert.True(t, strings.HasPrefix(chart, "<svg "), "an SVG document")
	assert.Equal(t, 2, strings.Count(chart, "<rect x="), "one bar per measured ratio")
	assert.Contains(t, chart, "core publish -&gt; handler, 256 B vs raw nats.go, same bytes")
	assert.NotContains(t, chart, "NaN")
}

func TestReportNeedsInput(t *testing.T) {
	assert.Error(t, run(t.TempDir(), nil))
	assert.Error(t, run(t.TempDir(), []string{filepath.Join(t.TempDir(), "missing.txt")}))
}
