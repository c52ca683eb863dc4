#!/bin/sh
# Batch prediction throughput: fedval's model runtime against scikit-learn's and xgboost's
# predict_proba on the same rows and the same models, in the same run. See
# benchmarks/README.md.
#
# usage: benchmarks/model/run.sh            (environment, all optional:)
#   FV_BENCH_BUILD  build directory (RelWithDebInfo; configured here if needed)
#                   default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR    work directory for the models, rows and results
#                   default ${TMPDIR:-/tmp}/fedval-bench
#   FV_BENCH_ROWS   rows scored (default 1000000), FV_BENCH_TRAIN training rows (5000)
#   FV_BENCH_REPEATS  best of this many runs (default 3)
#   FV_BENCH_REUSE=1  keep the models and rows of an earlier run with the same sizes
#   FV_BENCH_BIG_ROWS rows of the large LR benchmark (default 10000000; 0 skips it): the
#                     50-feature LR on one core against numpy 1/(1+exp(-(X@w+b))) and
#                     scikit-learn, with the memory-read limit measured in the same run. Its
#                     rows (XL.bin, 2 GB at 10M) are generated once and kept while the size
#                     matches.
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
WORK=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}
ROWS=${FV_BENCH_ROWS:-1000000}
TRAIN=${FV_BENCH_TRAIN:-5000}
REPEATS=${FV_BENCH_REPEATS:-3}
BIG=${FV_BENCH_BIG_ROWS:-10000000}
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
if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ "$have" = "$want" ] && [ -f "$WORK/xgb.onnx" ]; then
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
	for m in lr lr_gemm gbt xgb; do
		ref=$m
		[ "$m" = lr_gemm ] && ref=lr
		echo "== fedval $m, threads=$t" >&2
		# fedval's threads are the driver's; keep OpenBLAS from adding its own.
		OPENBLAS_NUM_THREADS=1 "$WORK/bench_predict" "$WORK/$m.onnx" "$WORK/X.bin" "$NF" \
			"$t" "$REPEATS" "$WORK/p_$ref.bin" |
			sed "s/^{/{\"engine\": \"fedval\", \"nthreads\": $t, \"name\": \"$m\", \"ref\": \"$ref\", /" >>"$results"
	done
done

big="$WORK/results_big.jsonl"
: >"$big"
if [ "$BIG" -gt 0 ]; then
	want=$((BIG * NF * 4))
	have=$(stat -c %s "$WORK/XL.bin" 2>/dev/null || echo 0)
	if [ "$have" = "$want" ]; then
		echo "== reusing the $BIG rows of XL.bin" >&2
	else
		echo "== generating $BIG rows x $NF float32 (make_bench.py make-big)" >&2
		$PY "$SRC/benchmarks/model/make_bench.py" make-big "$WORK" --rows "$BIG"
	fi
	echo "== $BIG rows: numpy 1/(1+exp(-(X@w+b))), scikit-learn predict_proba, X.sum(), one core" >&2
	OPENBLAS_NUM_THREADS=1 $PY "$SRC/benchmarks/model/make_bench.py" time-big "$WORK" \
		--repeats "$REPEATS" | sed 's/^{/{"engine": "python", /' >>"$big"
	for m in lr_gemm lr; do
		echo "== $BIG rows: fedval $m, one thread (+ memory read)" >&2
		OPENBLAS_NUM_THREADS=1 "$WORK/bench_predict" "$WORK/$m.onnx" "$WORK/XL.bin" "$NF" \
			1 "$REPEATS" "$WORK/p_np_big.bin" |
			sed "s/^{/{\"engine\": \"fedval\", \"name\": \"$m\", /" >>"$big"
	done
fi

$PY - "$results" "$WORK/results.json" "$big" <<'EOF'
import json, sys, platform, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
bigrows = [json.loads(l) for l in open(sys.argv[3])]
sk = {(r["model"], r["nthreads"]): r for r in rows if r["engine"] == "sklearn"}
out = []
print(f"{'model':<9} {'threads':>7} {'fedval rows/s':>14} {'reference rows/s':>17} "
      f"{'fedval/ref':>11} {'max rel err':>12} {'of mem read':>12}  reference")
for r in rows:
    if r["engine"] != "fedval":
        continue
    s = sk[(r["ref"], r["nthreads"])]
    ratio = r["rows_per_s"] / s["rows_per_s"]
    out.append({"model": r["name"], "threads": r["nthreads"], "rows": r["rows"],
                "fedval_rows_per_s": r["rows_per_s"],
                "reference": "xgboost" if r["ref"] == "xgb" else "sklearn",
                "reference_rows_per_s": s["rows_per_s"],
                "ratio": round(ratio, 3), "max_rel_err": r["max_rel_err"],
                "read_rows_per_s": r["read_rows_per_s"]})
    print(f"{r['name']:<9} {r['nthreads']:>7} {r['rows_per_s']:>14,.0f} "
          f"{s['rows_per_s']:>17,.0f} {ratio:>11.2f} {r['max_rel_err']:>12.2g} "
          f"{r['rows_per_s'] / r['read_rows_per_s']:>12.1%}  "
          f"{'xgboost' if r['ref'] == 'xgb' else 'scikit-learn'}")
big = {}
py = [r for r in bigrows if r["engine"] == "python"]
if py:
    py = py[0]
    npy, skl, npsum = py["numpy"]["rows_per_s"], py["sklearn"]["rows_per_s"], py["sum"]["rows_per_s"]
    print(f"\nLR, 50 float32 features, {py['rows']:,} rows in memory, one core "
          f"(issue 4 goal: >= 1.3x numpy):")
    print(f"{'engine':<34} {'rows/s':>13} {'/numpy':>7} {'/sklearn':>9} {'of mem read':>12} "
          f"{'max rel err':>12}")
    big = {"rows": py["rows"], "numpy_rows_per_s": npy, "sklearn_rows_per_s": skl,
           "numpy_sum_rows_per_s": npsum, "numpy_sum_gb_per_s": py["sum"]["gb_per_s"],
           "fedval": []}
    read = None
    for r in bigrows:
        if r["engine"] != "fedval":
            continue
        read = r["read_rows_per_s"] if read is None else max(read, r["read_rows_per_s"])
    for r in bigrows:
        if r["engine"] != "fedval":
            continue
        x = r["rows_per_s"]
        print(f"{'fedval ' + r['name']:<34} {x:>13,.0f} {x / npy:>7.2f} {x / skl:>9.2f} "
              f"{x / read:>12.1%} {r['max_rel_err']:>12.2g}   "
              f"goal {'met' if x / npy >= 1.3 else 'not met'}")
        big["fedval"].append({"model": r["name"], "rows_per_s": x, "ratio_numpy": round(x / npy, 3),
                              "ratio_sklearn": round(x / skl, 3),
                              "fraction_of_read": round(x / read, 3),
                              "max_rel_err_vs_numpy": r["max_rel_err"]})
    print(f"{'numpy 1/(1+exp(-(X@w+b)))':<34} {npy:>13,.0f} {1:>7.2f} {npy / skl:>9.2f} "
          f"{npy / read:>12.1%}")
    print(f"{'sklearn predict_proba':<34} {skl:>13,.0f} {skl / npy:>7.2f} {1:>9.2f} "
          f"{skl / read:>12.1%}")
    print(f"{'memory read (C sum, the limit)':<34} {read:>13,.0f} {read / npy:>7.2f} "
          f"{read / skl:>9.2f} {1:>12.1%}   {read * 200 / 1e9:.1f} GB/s")
    print(f"{'numpy X.sum()':<34} {npsum:>13,.0f} {npsum / npy:>7.2f} {npsum / skl:>9.2f} "
          f"{npsum / read:>12.1%}   {py['sum']['gb_per_s']:.1f} GB/s")
    big["read_rows_per_s"] = read
    big["read_gb_per_s"] = round(read * 4 * 50 / 1e9, 3)
json.dump({"date": datetime.date.today().isoformat(), "host": platform.node(),
           "cpus": os.cpu_count(), "load": os.getloadavg(), "results": out, "big_lr": big},
          open(sys.argv[2], "w"), indent=2)
print(f"(results also in {sys.argv[2]})")
EOF
