#!/bin/sh
# AUROC + DeLong variance over 10M scores on one core: lib/stats's fv_stats_auc_delong (float64
# scores) and the node's own path (node_summarise in node/summary.c: float32 scores, label in
# the sign bit, radix sort) against scikit-learn's roc_auc_score, a numpy argsort rank formula
# and a numpy fast DeLong, on the same scores in the same run; with ties and without. Checks
# that the AUROCs agree (1e-12). See benchmarks/README.md.
#
# usage: benchmarks/stats/run.sh            (environment, all optional:)
#   FV_BENCH_BUILD    build directory (RelWithDebInfo; configured here if needed)
#                     default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR      work directory; the data go to $FV_BENCH_DIR/stats
#                     default ${TMPDIR:-/tmp}/fedval-bench
#   FV_BENCH_SCORES   scores per data set (default 10000000)
#   FV_BENCH_REPEATS  best of this many runs (default 3)
#   FV_BENCH_REUSE=1  keep the scores of an earlier run with the same size
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
WORK=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}/stats
N=${FV_BENCH_SCORES:-10000000}
REPEATS=${FV_BENCH_REPEATS:-3}
PY=/usr/bin/python3 # Debian's, with python3-sklearn and python3-threadpoolctl
# One core for everything: no BLAS/OpenMP pools in the Python process.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

mkdir -p "$WORK"
echo "== building fv_stats, fv_util (RelWithDebInfo) in $BUILD" >&2
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF >/dev/null
fi
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=RelWithDebInfo$' "$BUILD/CMakeCache.txt"; then
	echo "run.sh: $BUILD is not a RelWithDebInfo build" >&2
	exit 1
fi
# fv_proto only for the generated header that node/node.h includes (through fedval/wire.h).
make -C "$BUILD" -j"$(nproc)" fv_stats fv_util fv_proto >/dev/null
# node/summary.c is compiled into the driver with the flags of a RelWithDebInfo build.
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -I"$SRC/include" -I"$SRC/node" \
	-I"$BUILD/gen" $(pkg-config --cflags jansson libprotobuf-c) \
	-o "$WORK/bench_auc" "$SRC/benchmarks/stats/bench_auc.c" "$SRC/node/summary.c" \
	"$BUILD/libfv_stats.a" "$BUILD/libfv_util.a" -lm

want=$((N * 8))
have=$(stat -c %s "$WORK/ties_s.f64" 2>/dev/null || echo 0)
if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ "$have" = "$want" ] && [ -f "$WORK/noties_s.f64" ]; then
	echo "== reusing the scores in $WORK" >&2
else
	echo "== generating $N scores (bench_auc.py make)" >&2
	$PY "$SRC/benchmarks/stats/bench_auc.py" make "$WORK" --n "$N" >&2
fi

results="$WORK/results.jsonl"
: >"$results"
for set in ties noties; do
	echo "== $set: scikit-learn, numpy (one core)" >&2
	$PY "$SRC/benchmarks/stats/bench_auc.py" time "$WORK" --set "$set" --repeats "$REPEATS" \
		>"$WORK/py_$set.json"
	echo "== $set: fedval (one thread)" >&2
	"$WORK/bench_auc" "$WORK/${set}_s.f64" "$WORK/labels.u8" "$REPEATS" >"$WORK/c_$set.json"
	$PY -c 'import json,sys; p=json.load(open(sys.argv[1])); c=json.load(open(sys.argv[2])); p["fedval"]=c; print(json.dumps(p))' \
		"$WORK/py_$set.json" "$WORK/c_$set.json" >>"$results"
done

$PY - "$results" "$WORK/results.json" <<'EOF'
import json, sys, datetime, os, platform
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = True
out = []
print(f"{'scores':<7} {'engine':<36} {'seconds':>8} {'Mscores/s':>10} {'sklearn/x':>10}  AUROC")
for r in rows:
    sk = r["sklearn"]["seconds"]
    st, nd = r["fedval"]["stats"], r["fedval"]["node"]
    lines = [("fv_stats_auc_delong (f64, +var)", st["seconds"], st["auc"]),
             ("node_summarise (f32 radix, +var)", nd["seconds"], nd["auc"]),
             ("sklearn roc_auc_score", sk, r["sklearn"]["auc"]),
             ("numpy argsort rank formula", r["rank"]["seconds"], r["rank"]["auc"]),
             ("numpy fast DeLong (+var)", r["delong"]["seconds"], r["delong"]["auc"])]
    label = f"{r['set']}"
    for name, sec, auc in lines:
        print(f"{label:<7} {name:<36} {sec:>8.3f} {r['n'] / sec / 1e6:>10.2f} {sk / sec:>10.2f}  {auc:.15f}")
        label = ""
    # agreement: float64 paths to 1e-12; the node's float32 path against lib/stats on the same
    # float32-rounded scores to 1e-12 (its AUROC moves from the float64 one by the rounding)
    d_auc = max(abs(st["auc"] - r["sklearn"]["auc"]), abs(st["auc"] - r["rank"]["auc"]),
                abs(st["auc"] - r["delong"]["auc"]))
    d_var = abs(st["var"] - r["delong"]["var"]) / r["delong"]["var"]
    d_node = abs(nd["auc"] - nd["check_auc"])
    d_nvar = abs(nd["var"] - nd["check_var"]) / nd["check_var"]
    good = d_auc <= 1e-12 and d_node <= 1e-12 and d_var <= 1e-9 and d_nvar <= 1e-9
    ok &= good
    print(f"        {r['distinct']} distinct scores; |AUROC diff| f64 paths {d_auc:.1e}, node vs "
          f"lib/stats on f32 scores {d_node:.1e} (node f32 vs f64 {abs(nd['auc'] - st['auc']):.1e}); "
          f"var rel diff {d_var:.1e} / {d_nvar:.1e}: {'ok' if good else 'DISAGREE'}")
    verdict = "met" if st["seconds"] <= 1.0 else f"not met ({st['seconds']:.2f} s, {st['seconds']:.1f}x the goal)"
    print(f"        goal <= 1 s: fv_stats_auc_delong {verdict}; node_summarise "
          f"{'met' if nd['seconds'] <= 1.0 else 'not met'} ({nd['seconds']:.2f} s); "
          f"goal >= 4x sklearn: {sk / st['seconds']:.2f}x / {sk / nd['seconds']:.2f}x"
          + ("" if r["n"] == 10_000_000 else " (the goals are for 10M scores)"))
    out.append({"set": r["set"], "n": r["n"], "distinct": r["distinct"],
                "fv_stats_auc_delong_s": st["seconds"], "node_summarise_s": nd["seconds"],
                "node_pack_s": nd["pack_seconds"], "sklearn_s": sk,
                "numpy_rank_s": r["rank"]["seconds"], "numpy_fast_delong_s": r["delong"]["seconds"],
                "ratio_stats_vs_sklearn": round(sk / st["seconds"], 3),
                "ratio_node_vs_sklearn": round(sk / nd["seconds"], 3),
                "ratio_stats_vs_rank": round(r["rank"]["seconds"] / st["seconds"], 3),
                "ratio_node_vs_rank": round(r["rank"]["seconds"] / nd["seconds"], 3),
                "auc": st["auc"], "var": st["var"], "max_auc_diff": d_auc, "agree": good})
json.dump({"date": datetime.date.today().isoformat(), "host": platform.node(),
           "load": os.getloadavg(), "results": out}, open(sys.argv[2], "w"), indent=2)
print(f"(results also in {sys.argv[2]})")
sys.exit(0 if ok else 1)
EOF
