#!/bin/sh
# CSV ingest + parse throughput alone (issue 5: one core >= 500 MB/s and >= 5x pandas, every
# decimal equal to strtod's; two cores >= 1.8x one). fedval's CSV reader (lib/data/csv.c:
# records cut into fields, every field converted by fv_csv_parse_double, nothing scored; with
# 2 threads the file is first cut into parts by fv_csv_split, as the node does) against
# pandas.read_csv (default dtypes, and float32 dtypes) on the same file in the same run.
# Also checks that every one of the file's decimals converts to exactly strtod's double.
#
# usage: benchmarks/ingest/run.sh [ROWS]     (default 2500000 rows, about 235 MB; 10000000
#                                            for the issue's 1 GB file)
# environment (optional):
#   FV_BENCH_BUILD    RelWithDebInfo build directory (configured here if needed)
#                     default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR      work directory; the file goes to $FV_BENCH_DIR/ingest
#                     default ${TMPDIR:-/tmp}/fedval-bench
#   FV_BENCH_REPEATS  best of this many runs (default 3)
#   FV_BENCH_REUSE=1  keep the file of an earlier run with the same ROWS
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
WORK=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}/ingest
ROWS=${1:-2500000}
REPEATS=${FV_BENCH_REPEATS:-3}
PY=/usr/bin/python3 # Debian's, with python3-pandas
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

mkdir -p "$WORK"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF >/dev/null
fi
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=RelWithDebInfo$' "$BUILD/CMakeCache.txt"; then
	echo "run.sh: $BUILD is not a RelWithDebInfo build" >&2
	exit 1
fi
echo "== building bench_ingest in $BUILD" >&2
cmake --build "$BUILD" --target bench_ingest -j2 >/dev/null
B="$BUILD/bench_ingest"
CSV="$WORK/data-$ROWS.csv"
if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ -s "$CSV" ]; then
	echo "== reusing $CSV" >&2
else
	echo "== writing $ROWS rows x 13 numeric columns to $CSV" >&2
	"$B" make "$CSV" "$ROWS"
fi
echo "== checking every decimal against strtod" >&2
"$B" verify "$CSV" >"$WORK/verify.json"
echo "== fedval, 1 and 2 threads (best of $REPEATS)" >&2
"$B" time "$CSV" 1 "$REPEATS" >"$WORK/fedval-1.json"
"$B" time "$CSV" 2 "$REPEATS" >"$WORK/fedval-2.json"
echo "== pandas.read_csv, default and float32 dtypes (best of $REPEATS)" >&2
$PY - "$CSV" "$REPEATS" >"$WORK/pandas.json" <<'PY'
import json, os, sys, time
import numpy as np, pandas as pd
path, repeats = sys.argv[1], int(sys.argv[2])
cols = pd.read_csv(path, nrows=1).columns
out = {"pandas": pd.__version__, "bytes": os.path.getsize(path)}
for name, kw in (("default", {}), ("float32", {"dtype": {c: np.float32 for c in cols}})):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        df = pd.read_csv(path, **kw)
        best = min(best, time.perf_counter() - t0)
    out[name] = {"seconds": best, "rows": len(df), "sum": float(df.to_numpy(dtype=np.float64).sum())}
    del df
print(json.dumps(out))
PY

$PY - "$WORK" "$(getconf _NPROCESSORS_ONLN)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
w, cores, load = sys.argv[1], sys.argv[2], sys.argv[3]
v = json.load(open(f"{w}/verify.json"))
f1 = json.load(open(f"{w}/fedval-1.json")); f2 = json.load(open(f"{w}/fedval-2.json"))
p = json.load(open(f"{w}/pandas.json"))
mb = p["bytes"] / 1e6
pd_d = mb / p["default"]["seconds"]; pd_f = mb / p["float32"]["seconds"]
print(f"file: {f1['rows']} rows x {f1['cols']} columns, {mb:.0f} MB; {cores} cores, load {load}")
print(f"exactness: {v['fields']} fields, {v['mismatches']} differ from strtod, {v['bad']} not numbers")
print(f"fedval CSV parse, 1 thread   {f1['mb_s']:8.1f} MB/s  ({f1['seconds']:.3f} s)")
print(f"fedval CSV parse, 2 threads  {f2['mb_s']:8.1f} MB/s  ({f2['seconds']:.3f} s)  {f2['mb_s']/f1['mb_s']:.2f}x 1 thread")
print(f"pandas {p['pandas']} read_csv      {pd_d:8.1f} MB/s  ({p['default']['seconds']:.3f} s)")
print(f"pandas read_csv float32      {pd_f:8.1f} MB/s  ({p['float32']['seconds']:.3f} s)")
print(f"ratio fedval(1 thread) / pandas: {f1['mb_s']/pd_d:.2f}x (float32 dtypes: {f1['mb_s']/pd_f:.2f}x)")
for k in ("default", "float32"):
    assert p[k]["rows"] == f1["rows"] == f2["rows"], "row counts disagree"
assert abs(p["default"]["sum"] - f1["sum"]) <= 1e-9 * abs(f1["sum"]), "sums disagree"
assert v["mismatches"] == 0 and f1["bad"] == 0, "a decimal differs from strtod"
PY
