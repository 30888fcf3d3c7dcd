#!/usr/bin/env bash
# bench-otel-noop.sh: cost of otelbus.Tracing + otelbus.Metrics with no
# OpenTelemetry SDK configured (global no-op providers), core NATS publish
# -> handler on the embedded server. Go runs the sub-benchmarks in turn
# within each count, so "plain" and "otel-noop" are interleaved; the
# ratio is of the medians.
#
#   scripts/bench-otel-noop.sh [count] [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-8}
benchtime=${2:-200000x}
out=$(go test ./otelbus -run '^$' -bench 'NoopOverhead/(plain|otel-noop|raw-nats)$' \
	-benchtime "$benchtime" -count "$count" -benchmem)
echo "$out" | grep '^Benchmark'
echo "$out" | awk '
	/^BenchmarkNoopOverhead\/plain/     { p[++np] = $3 }
	/^BenchmarkNoopOverhead\/otel-noop/ { o[++no] = $3 }
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		mp = median(p, np); mo = median(o, no)
		printf "median ns/op: plain %.0f, otel-noop %.0f, ratio otel-noop/plain %.3f\n", mp, mo, mo / mp
	}'
