#!/bin/sh
# fedval against onnxruntime-node (issue 4's speed peer) on the same ONNX files, in the same
# run: xgboost's 300-tree ensemble over 1M rows, and a ResNet-18-shaped CNN on a batch of 8
# images of 224x224, each on 1 and 2 threads. See benchmarks/README.md.
#
# onnxruntime-node is a benchmark-only npm dependency: installed here, if missing, into
# $FV_BENCH_DIR/ort/node (ONNXRUNTIME_NODE_INSTALL=skip: its install script would otherwise
# fetch a CUDA add-on). Never part of the product or the test suite.
#
# usage: benchmarks/ort/run.sh            (environment, all optional:)
#   FV_BENCH_BUILD    RelWithDebInfo build directory (configured here if needed)
#                     default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR      work directory; this script uses $FV_BENCH_DIR/ort
#                     default ${TMPDIR:-/tmp}/fedval-bench
#   FV_BENCH_ROWS     rows for the tree ensemble (default 1000000)
#   FV_BENCH_BATCH    images per CNN batch (default 8)
#   FV_BENCH_REPEATS  timed runs per engine and thread count after one untimed (default 5);
#                     the median is reported
#   FV_BENCH_REUSE=1  keep the models and inputs of an earlier run with the same sizes
#   FV_BENCH_ONLY     "trees" or "cnn" to run only one of the two
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
WORK=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}/ort
ROWS=${FV_BENCH_ROWS:-1000000}
BATCH=${FV_BENCH_BATCH:-8}
REPEATS=${FV_BENCH_REPEATS:-5}
ONLY=${FV_BENCH_ONLY:-}
PY=/usr/bin/python3 # Debian's, with python3-onnx, -sklearn, -xgboost
HERE=$SRC/benchmarks/ort
NF=50

mkdir -p "$WORK"

# ---- onnxruntime-node, local to the benchmark directory ----
ORTDIR=$WORK/node
if ! [ -d "$ORTDIR/node_modules/onnxruntime-node" ]; then
	echo "== installing onnxruntime-node into $ORTDIR (npm, benchmark only)" >&2
	mkdir -p "$ORTDIR"
	# A throwaway package.json: nothing of this is committed, no lockfile is kept.
	printf '{"name": "fedval-ort-bench", "private": true, "version": "0.0.0"}\n' \
		>"$ORTDIR/package.json"
	(cd "$ORTDIR" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-package-lock \
		--no-audit --no-fund onnxruntime-node >&2)
fi
export NODE_PATH=$ORTDIR/node_modules
ORTVER=$(node -e 'console.log(require("onnxruntime-node").env.versions.node)')

# ---- fedval's driver ----
echo "== building fv_model (RelWithDebInfo) in $BUILD" >&2
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF >/dev/null
fi
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=RelWithDebInfo$' "$BUILD/CMakeCache.txt"; then
	echo "run.sh: $BUILD is not a RelWithDebInfo build" >&2
	exit 1
fi
make -C "$BUILD" -j"$(nproc)" fv_model >/dev/null
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -I"$SRC/include" \
	-o "$WORK/bench_ort" "$HERE/bench_ort.c" \
	"$BUILD/libfv_model.a" "$BUILD/libfv_onnxproto.a" "$BUILD/libfv_util.a" \
	$(pkg-config --libs libprotobuf-c openblas inih) -lpthread -lm

results=$WORK/results.jsonl
: >"$results"
# Both engines in turn for each thread count, so that a change of machine load hits both.
# fedval: the driver's threads each score a slice (as node/eval.c), OpenBLAS on one thread.
# onnxruntime: intra-op = inter-op = T threads, sequential execution, one session.run.
bench() { # tag mode model input dims output_name cols
	tag=$1 mode=$2 model=$3 input=$4 dims=$5 oname=$6 cols=$7
	for t in 1 2; do
		echo "== $tag: fedval, $t thread(s)" >&2
		OPENBLAS_NUM_THREADS=1 "$WORK/bench_ort" "$mode" "$WORK/$model" "$WORK/$input" \
			"$dims" "$t" "$REPEATS" "$WORK/fv_$tag.bin" |
			sed "s/^{/{\"bench\": \"$tag\", /" >>"$results"
		echo "== $tag: onnxruntime-node $ORTVER, $t thread(s)" >&2
		node "$HERE/ort_time.js" "$WORK/$model" "$WORK/$input" "$dims" "$t" "$REPEATS" \
			"$oname" "$WORK/ort_$tag.bin" | sed "s/^{/{\"bench\": \"$tag\", /" >>"$results"
		echo "== $tag: fedval's outputs against onnxruntime's ($t thread(s))" >&2
		$PY "$HERE/make_ort.py" compare "$WORK/fv_$tag.bin" "$WORK/ort_$tag.bin" \
			--cols "$cols" --col $((cols - 1)) |
			sed "s/^{/{\"bench\": \"$tag\", \"engine\": \"check\", \"threads\": $t, /" \
				>>"$results" || {
			echo "run.sh: $tag: fedval and onnxruntime disagree (see $results)" >&2
			exit 1
		}
	done
}

if [ "$ONLY" != cnn ]; then
	want=$((ROWS * NF * 4))
	have=$(stat -c %s "$WORK/Xt.bin" 2>/dev/null || echo 0)
	if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ "$have" = "$want" ] && [ -f "$WORK/xgb.onnx" ]; then
		echo "== reusing xgb.onnx and Xt.bin in $WORK" >&2
	else
		echo "== training xgboost (300 trees, depth 6) and exporting it (make_ort.py trees)" >&2
		$PY "$HERE/make_ort.py" trees "$WORK" --rows "$ROWS"
	fi
	for t in 1 2; do
		echo "== trees: xgboost inplace_predict and predict_proba, $t thread(s)" >&2
		$PY "$HERE/make_ort.py" time-xgb "$WORK" --threads "$t" --repeats "$REPEATS" |
			sed "s/^{/{\"bench\": \"trees\", \"engine\": \"xgboost\", /" >>"$results"
	done
	# The classifier's "probabilities" are [N, 2]; fv_model_predict gives column 1.
	bench trees predict xgb.onnx Xt.bin "$ROWS,$NF" probabilities 2
fi

if [ "$ONLY" != trees ]; then
	want=$((BATCH * 3 * 224 * 224 * 4))
	have=$(stat -c %s "$WORK/img.bin" 2>/dev/null || echo 0)
	if [ "${FV_BENCH_REUSE:-0}" = 1 ] && [ "$have" = "$want" ] && [ -f "$WORK/resnet18.onnx" ]; then
		echo "== reusing resnet18.onnx and img.bin in $WORK" >&2
	else
		echo "== building the ResNet-18-shaped CNN (make_ort.py cnn)" >&2
		$PY "$HERE/make_ort.py" cnn "$WORK" --batch "$BATCH"
	fi
	bench cnn run resnet18.onnx img.bin "$BATCH,3,224,224" logits 1
fi

$PY - "$results" "$WORK/results.json" "$ORTVER" <<'EOF'
import datetime, json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
get = lambda b, e, t: next((r for r in rows if r["bench"] == b and r["engine"] == e
                            and r["threads"] == t), None)
out = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "host": platform.node(),
       "cpus": os.cpu_count(), "load": os.getloadavg(), "onnxruntime_node": sys.argv[3],
       "results": {}}
print(f"onnxruntime-node {sys.argv[3]}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
for bench, unit, goal in (("trees", "rows/s", 1.0), ("cnn", "images/s", 0.5)):
    if not get(bench, "fedval", 1):
        continue
    print(f"\n{bench}: {unit}, median of runs (issue 4 goal: fedval / onnxruntime >= {goal})")
    print(f"{'threads':>7} {'fedval':>12} {'onnxruntime':>12} {'fedval/ort':>11} "
          f"{'scaling fv':>11} {'scaling ort':>12} {'max rel err':>12}")
    res = []
    for t in (1, 2):
        f, o, c = get(bench, "fedval", t), get(bench, "onnxruntime-node", t), get(bench, "check", t)
        fr, orr = f["batch"] / f["seconds_median"], o["batch"] / o["seconds_median"]
        f1 = get(bench, "fedval", 1)
        o1 = get(bench, "onnxruntime-node", 1)
        sf = fr / (f1["batch"] / f1["seconds_median"])
        so = orr / (o1["batch"] / o1["seconds_median"])
        print(f"{t:>7} {fr:>12,.1f} {orr:>12,.1f} {fr / orr:>11.2f} {sf:>11.2f} {so:>12.2f} "
              f"{c['max_rel_err']:>12.2g}")
        res.append({"threads": t, "fedval_per_s": fr, "ort_per_s": orr, "ratio": fr / orr,
                    "fedval_scaling": sf, "ort_scaling": so, "fedval": f, "ort": o, "check": c})
    if bench == "trees":
        for t in (1, 2):
            x = get("trees", "xgboost", t)
            if x:
                fr = res[t - 1]["fedval_per_s"]
                ip = x["inplace_predict"]["rows_per_s"]
                pp = x["predict_proba"]["rows_per_s"]
                print(f"  {t} thread(s): xgboost inplace_predict {ip:,.0f} rows/s "
                      f"(fedval {fr / ip:.2f}x, goal 2x), predict_proba {pp:,.0f} "
                      f"(fedval {fr / pp:.2f}x)")
                res[t - 1]["xgboost"] = x
    out["results"][bench] = res
json.dump(out, open(sys.argv[2], "w"), indent=2)
print(f"(results also in {sys.argv[2]})")
EOF
