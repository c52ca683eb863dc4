#!/bin/sh
# Batch prediction throughput: fedval's model runtime against scikit-learn's predict_proba on
# the same rows and the same models, in the same run. See benchmarks/README.md.
#
# usage: benchmarks/model/run.sh            (environment, all optional:)
#   FV_BENCH_BUILD  build directory (RelWithDebInfo; configured here if needed)
#                   default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR    work directory for the models, rows and results
#                   default ${TMPDIR:-/tmp}/fedval-bench
#   FV_BENCH_ROWS   rows scored (default 1000000), FV_BENCH_TRAIN training rows (5000)
#   FV_BENCH_REPEATS  best of this many runs (default 3)
#   FV_BENCH_REUSE=1  keep the models and rows of an earlier run with the same sizes
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
WORK=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}
ROWS=${FV_BENCH_ROWS:-1000000}
TRAIN=${FV_BENCH_TRAIN:-5000}
REPEATS=${FV_BENCH_REPEATS:-3}
PY=/usr/bin/python3 # Debian's, with python3-sklearn and python3-onnx
NT=$(nproc)
NF=50

mkdir -p "$WORK"

echo "== building fv_model (RelWithDebInfo) in $BUILD" >&2
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF >/dev/null
fi
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=RelWithDebInfo$' "$BUILD/CMakeCache.txt"; then
	echo "run.sh: $BUILD is not a RelWithDebInfo build" >&2
	exit 1
fi
make -C "$BUILD" -j"$NT" fv_model >/dev/null
# The driver links the module's static libraries directly (as CMake links fv_model: fv_util,
# the generated ONNX schema, protobuf-c, OpenBLAS).
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -I"$SRC/include" \
	-o "$WORK/bench_predict" "$SRC/benchmarks/model/bench_predict.c" \
	"$BUILD/libfv_model.a" "$BUILD/libfv_onnxproto.a" "$BUILD/libfv_util.a" \
	$(pkg-config --libs libprotobuf-c openblas inih) -lpthread -lm

want=$((ROWS * NF * 4))
have=$(stat -c %s "$WORK/X.bin" 2>/dev/null || echo 0)
if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ "$have" = "$want" ] && [ -f "$WORK/gbt.onnx" ]; then
	echo "== reusing the models and rows in $WORK" >&2
else
	echo "== training and exporting the models, $ROWS rows (make_bench.py make)" >&2
	$PY "$SRC/benchmarks/model/make_bench.py" make "$WORK" --rows "$ROWS" --train "$TRAIN"
fi

results="$WORK/results.jsonl"
: >"$results"
for t in 1 "$NT"; do
	label=$t
	[ "$t" = 1 ] || label=all
	echo "== scikit-learn predict_proba, threads=$label" >&2
	$PY "$SRC/benchmarks/model/make_bench.py" time "$WORK" --threads "$label" \
		--repeats "$REPEATS" | sed "s/^{/{\"engine\": \"sklearn\", \"nthreads\": $t, /" >>"$results"
	for m in lr lr_gemm gbt; do
		ref=$m
		[ "$m" = lr_gemm ] && ref=lr
		echo "== fedval $m, threads=$t" >&2
		# fedval's threads are the driver's; keep OpenBLAS from adding its own.
		OPENBLAS_NUM_THREADS=1 "$WORK/bench_predict" "$WORK/$m.onnx" "$WORK/X.bin" "$NF" \
			"$t" "$REPEATS" "$WORK/p_$ref.bin" |
			sed "s/^{/{\"engine\": \"fedval\", \"nthreads\": $t, \"name\": \"$m\", \"ref\": \"$ref\", /" >>"$results"
	done
done

$PY - "$results" "$WORK/results.json" <<'EOF'
import json, sys, platform, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
sk = {(r["model"], r["nthreads"]): r for r in rows if r["engine"] == "sklearn"}
out = []
print(f"{'model':<9} {'threads':>7} {'fedval rows/s':>14} {'sklearn rows/s':>15} "
      f"{'fedval/sklearn':>15} {'max rel err':>12}")
for r in rows:
    if r["engine"] != "fedval":
        continue
    s = sk[(r["ref"], r["nthreads"])]
    ratio = r["rows_per_s"] / s["rows_per_s"]
    out.append({"model": r["name"], "threads": r["nthreads"], "rows": r["rows"],
                "fedval_rows_per_s": r["rows_per_s"], "sklearn_rows_per_s": s["rows_per_s"],
                "ratio": round(ratio, 3), "max_rel_err": r["max_rel_err"]})
    print(f"{r['name']:<9} {r['nthreads']:>7} {r['rows_per_s']:>14,.0f} "
          f"{s['rows_per_s']:>15,.0f} {ratio:>15.2f} {r['max_rel_err']:>12.2g}")
json.dump({"date": datetime.date.today().isoformat(), "host": platform.node(),
           "cpus": os.cpu_count(), "results": out}, open(sys.argv[2], "w"), indent=2)
print(f"(results also in {sys.argv[2]})")
EOF
