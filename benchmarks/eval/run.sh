#!/bin/bash
# Evaluation throughput: fedval's node pipeline (`fedval eval`: CSV parse, mapping checks,
# ONNX model, AUROC + DeLong variance, confusion counts) against the usual Python stack on the
# same file in the same run: pandas.read_csv + the same logistic model in numpy +
# sklearn.metrics.roc_auc_score + confusion counts. Prints records/s of each and the ratio.
#
# usage: benchmarks/eval/run.sh [BUILD_DIR] [ROWS]   (default build, 2000000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
ROWS=${2:-2000000}
WORK=$(mktemp -d /tmp/fedval-bench-eval-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FEDVAL="$BUILD/fedval"

"$FEDVAL" demo data --profile 0 --rows 20000 --seed 1 --out "$WORK/dev.csv"
"$FEDVAL" demo train --data "$WORK/dev.csv" --out-dir "$WORK/model" >/dev/null
"$FEDVAL" demo data --profile 1 --rows "$ROWS" --seed 2 --out "$WORK/data.csv"
echo "data: $ROWS records, $(du -h "$WORK/data.csv" | cut -f1) CSV, $(nproc) cores"

run_fedval() { # threads
	"$FEDVAL" eval --model "$WORK/model/model.onnx" --manifest "$WORK/model/manifest.json" \
		--benchmark "$ROOT/deploy/demo/benchmark.json" --data "$WORK/data.csv" \
		--threads "$1" --json >"$WORK/fedval-$1.json"
	/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['seconds'], j['auc'])" "$WORK/fedval-$1.json"
}

read -r F1 AUC1 < <(run_fedval 1)
read -r FN AUCN < <(run_fedval "$(nproc)")

# The reference: same model (weights read from the ONNX file with python3-onnx), same
# metrics, timed from reading the CSV to the last count.
read -r P AUCP < <(/usr/bin/python3 - "$WORK" "$ROOT/deploy/demo/benchmark.json" <<'PY'
import json, sys, time
import numpy as np, onnx, pandas as pd
from onnx import numpy_helper
from sklearn.metrics import roc_auc_score
work, bench = sys.argv[1], json.load(open(sys.argv[2]))
man = json.load(open(f"{work}/model/manifest.json"))
m = onnx.load(f"{work}/model/model.onnx")
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
W = [v for v in init.values() if v.ndim == 2][0].astype(np.float32)
B = [v for v in init.values() if v.ndim <= 1][0].astype(np.float32)
t0 = time.perf_counter()
df = pd.read_csv(f"{work}/data.csv")
X = df[man["input"]["variables"]].to_numpy(dtype=np.float32)
y = df[bench["label"]].to_numpy()
p = 1 / (1 + np.exp(-(X @ W + B).ravel()))
auc = roc_auc_score(y, p)
for t in bench["thresholds"]:
    pos = p >= t
    tp = int((pos & (y == 1)).sum()); fp = int((pos & (y == 0)).sum())
brier = float(((p - y) ** 2).mean())
print(time.perf_counter() - t0, auc)
PY
)

/usr/bin/python3 - "$ROWS" "$F1" "$FN" "$P" "$AUC1" "$AUCN" "$AUCP" "$(nproc)" <<'PY'
import sys
rows = int(sys.argv[1]); f1, fn, p = map(float, sys.argv[2:5]); a1, an, ap = map(float, sys.argv[5:8])
cores = sys.argv[8]
print(f"fedval eval, 1 thread      {rows/f1:12.0f} records/s  ({f1:.2f} s)  AUROC {a1:.6f}")
print(f"fedval eval, {cores} threads     {rows/fn:12.0f} records/s  ({fn:.2f} s)  AUROC {an:.6f}")
print(f"pandas+numpy+sklearn       {rows/p:12.0f} records/s  ({p:.2f} s)  AUROC {ap:.6f}")
print(f"ratio fedval({cores} threads) / python: {p/fn:.2f}x")
assert abs(a1 - ap) < 1e-4 and a1 == an, "the AUROCs disagree"
PY
