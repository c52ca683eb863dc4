#!/bin/sh
# Peak memory of the node's evaluation (`fedval eval`: CSV parse, mapping, LR model, AUROC +
# DeLong, threshold counts) for growing record counts: peak RSS from /usr/bin/time, records/s,
# and bytes per record. Issue 5 asks that memory stay bounded while rows stream (scores are
# kept: 2 bytes a record in the compact store of a one-model job; see node/summary.c).
#
# usage: benchmarks/memory/run.sh [BUILD_DIR] [ROWS ...]   (default build, 1000000 10000000)
#   the CSV files (about 72 bytes a record) are written to ${TMPDIR:-/tmp}/fedval-bench-mem
#   and removed at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
[ $# -gt 0 ] && shift
SIZES=${*:-1000000 10000000}
W=${TMPDIR:-/tmp}/fedval-bench-mem
FEDVAL=$BUILD/fedval
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT

"$FEDVAL" demo data --profile 0 --rows 20000 --seed 1 --out "$W/dev.csv" >/dev/null
"$FEDVAL" demo train --data "$W/dev.csv" --out-dir "$W/model" >/dev/null
printf '%-10s %-8s %10s %12s %12s %14s\n' records threads seconds records/s "peak RSS MB" "bytes/record"
for n in $SIZES; do
	"$FEDVAL" demo data --profile 1 --rows "$n" --seed 2 --out "$W/data.csv" >/dev/null
	for t in 1 "$(nproc)"; do
		/usr/bin/time -f "%e %M" -o "$W/time" "$FEDVAL" eval --model "$W/model/model.onnx" \
			--manifest "$W/model/manifest.json" --benchmark "$ROOT/deploy/demo/benchmark.json" \
			--data "$W/data.csv" --threads "$t" --json >/dev/null
		read -r secs kb <"$W/time"
		awk -v n="$n" -v t="$t" -v s="$secs" -v kb="$kb" 'BEGIN {
			printf "%-10d %-8d %10.2f %12.0f %12.1f %14.1f\n", n, t, s, n / s, kb / 1024,
			       kb * 1024 / n }'
	done
	rm -f "$W/data.csv"
done
