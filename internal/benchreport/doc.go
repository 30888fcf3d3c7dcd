// Command benchreport turns `go test -bench` output (several runs, e.g.
// -count 5) into the performance report in docs/bench: a Markdown table
// with the median and spread of every scenario, the bus's ratio to its
// reference and the target, and an SVG chart of the ratios.
//
//	go run ./internal/benchreport -o docs/bench bench.txt
//
// scripts/bench-report.sh runs the benchmarks and then this. Parsing
// uses golang.org/x/perf/benchfmt and the medians golang.org/x/perf/benchmath
// (the library behind benchstat); the chart is drawn here, from the data.
// It is a tool of this repository, not part of the library's API.
package main
