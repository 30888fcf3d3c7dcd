#!/usr/bin/env bash
# Runs the benchmark suite COUNT times (default 5) and writes the report:
# docs/bench/bench.txt (raw go test output), docs/bench/report.md (median
# and spread per scenario, ratio to the reference, target) and
# docs/bench/ratios.svg (the ratios, drawn by internal/benchreport).
#
#   scripts/bench-report.sh            # COUNT=5 BENCHTIME=1s, about 8 minutes on 2 cores
#   COUNT=3 BENCHTIME=0.5s scripts/bench-report.sh
#
# The NATS benchmarks run against embedded servers; nothing else is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
out=${OUT:-docs/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# One go test per round, not -count: -count repeats each sub-benchmark
# back to back, so the bus's runs and the reference's runs would sit minutes
# apart; a round runs every scenario once, bus beside its reference, and
# benchreport pairs the k-th runs of both.
go test -c -o "$out/natsbus.test" ./backends/natsbus/
go test -c -o "$out/busway.test" .
: >"$out/bench.txt"
for i in $(seq "$count"); do
  echo "round $i of $count" >&2
  (cd backends/natsbus && "$out/natsbus.test" -test.run '^$' -test.bench 'Core|JetStream' -test.benchmem -test.benchtime "$benchtime") >>"$out/bench.txt"
  "$out/busway.test" -test.run '^$' -test.bench 'Mem|Watermill' -test.benchmem -test.benchtime "$benchtime" >>"$out/bench.txt"
done
rm -f "$out/natsbus.test" "$out/busway.test"
{
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "go: $(go env GOVERSION)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"
go run ./internal/benchreport -o "$out" "$out/bench.txt"
cat "$out/report.md"
