#!/usr/bin/env bash
# bench-otel-noop.sh: cost of otelbus.Tracing + otelbus.Metrics with no
# OpenTelemetry SDK configured (global no-op providers), core NATS publish
# -> handler on the embedded server, beside raw nats.go. The test binary
# is built once and run alternately with and without the observers, so
# both see the same machine load; the ratio is of the medians.
#
#   scripts/bench-otel-noop.sh [rounds] [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-8}
benchtime=${2:-200000x}
bin=$(mktemp -d)/otelbus.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./otelbus
out=""
for _ in $(seq "$rounds"); do
	for sub in plain otel-noop; do
		out+=$'\n'$(cd otelbus && "$bin" -test.run '^$' -test.bench "NoopOverhead/$sub\$" \
			-test.benchtime "$benchtime" -test.benchmem | grep '^Benchmark')
	done
done
out+=$'\n'$(cd otelbus && "$bin" -test.run '^$' -test.bench 'NoopOverhead/raw-nats$' \
	-test.benchtime "$benchtime" -test.benchmem | grep '^Benchmark')
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
		printf "median ns/op over %d rounds: plain %.0f, otel-noop %.0f, ratio otel-noop/plain %.3f\n", np, mp, mo, mo / mp
	}'
