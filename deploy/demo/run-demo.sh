#!/bin/bash
# The fedval demo: a whole federation on this machine.
#   - a federation PKI (CA, coordinator, authority, vendor, three hospitals)
#   - three synthetic hospitals with different case mix and prevalence
#   - a vendor's frozen logistic-regression model, trained on its own development cohort
#   - the coordinator and three nodes as separate processes on loopback, over mutual TLS
#   - a benchmark, a run, the per-site and pooled table and a JSON report
#   - a second, regression benchmark (length of stay) with the vendor's linear model
# Everything is written under OUT (default ./demo-out), which is recreated on each run.
#
# usage: deploy/demo/run-demo.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
OUT=${2:-$ROOT/demo-out}
ROWS_A=${FEDVAL_DEMO_ROWS_A:-40000}
ROWS_B=${FEDVAL_DEMO_ROWS_B:-25000}
ROWS_C=${FEDVAL_DEMO_ROWS_C:-30000}
PORT=${FEDVAL_DEMO_PORT:-$((20000 + RANDOM % 20000))}
FEDVAL="$BUILD/fedval"
URL="tls+tcp://localhost:$PORT"
NODES="hospital-a hospital-b hospital-c"

for b in fedval fedval-coordinator fedval-node; do
	[ -x "$BUILD/$b" ] || { echo "demo: $BUILD/$b not built" >&2; exit 1; }
done

step() { printf '\n==> %s\n' "$*"; }
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"/{pki,logs,coordinator,vendor,vendor-beta,authority}
START=$(date +%s)

step "federation PKI (ECDSA P-256) in $OUT/pki"
"$FEDVAL" pki init --dir "$OUT/pki/ca" --name demo-federation-ca
"$FEDVAL" pki issue --ca "$OUT/pki/ca" --role coordinator --name coordinator --dns localhost --out "$OUT/pki"
"$FEDVAL" pki issue --ca "$OUT/pki/ca" --role authority --name national-authority --out "$OUT/pki"
"$FEDVAL" pki issue --ca "$OUT/pki/ca" --role vendor --name acme-ai --out "$OUT/pki"
"$FEDVAL" pki issue --ca "$OUT/pki/ca" --role vendor --name beta-health --out "$OUT/pki"
for n in $NODES; do
	"$FEDVAL" pki issue --ca "$OUT/pki/ca" --role node --name "$n" --out "$OUT/pki"
done

step "synthetic cohorts: vendor development data and three hospitals"
"$FEDVAL" demo data --profile 0 --rows 30000 --seed 7 --out "$OUT/vendor/development.csv"
i=1
for n in $NODES; do
	mkdir -p "$OUT/$n"
	rows_var="ROWS_$(echo "${n##*-}" | tr a-z A-Z)"
	"$FEDVAL" demo data --profile $i --rows "${!rows_var}" --seed $((100 + i)) --out "$OUT/$n/records.csv"
	i=$((i + 1))
done
# Hospital C's export names BNP its own way and reports creatinine in µmol/L; its node maps
# both (see its config: a renamed column and a unit conversion).
awk -F, -v OFS=, 'NR == 1 { sub(/^bnp$/, "bnp_pg_ml", $10); $9 = "creat_umol_l"; print; next }
	{ $9 = sprintf("%.1f", $9 * 88.4); print }' "$OUT/hospital-c/records.csv" >"$OUT/hospital-c/records.tmp"
mv "$OUT/hospital-c/records.tmp" "$OUT/hospital-c/records.csv"

step "two vendors train and freeze their models"
"$FEDVAL" demo train --data "$OUT/vendor/development.csv" --out-dir "$OUT/vendor" \
	--name hf-readmit-lr --version 1.0.0
# beta-health's simpler score uses ten variables, fitted on its own development sample.
"$FEDVAL" demo data --profile 0 --rows 8000 --seed 11 --out "$OUT/vendor-beta/development.csv"
"$FEDVAL" demo train --data "$OUT/vendor-beta/development.csv" --out-dir "$OUT/vendor-beta" \
	--name hf-risk-10 --version 2.1.0 \
	--variables age,ejection_fraction,nyha_class,sodium,creatinine,bnp,prior_admissions_12m,length_of_stay,ckd,diabetes

# acme-ai's second product: a linear regression of the length of stay (a regression task).
"$FEDVAL" demo train --data "$OUT/vendor/development.csv" --out-dir "$OUT/vendor/los" \
	--name hf-los-linear --version 1.0.0 --target length_of_stay

step "configuration files"
cat >"$OUT/coordinator/coordinator.ini" <<INI
[coordinator]
listen = tls+tcp://127.0.0.1:$PORT
ca = ../pki/ca/ca.crt
cert = ../pki/coordinator.crt
key = ../pki/coordinator.key
store = coordinator.db
models_dir = models
log_level = info
INI
profile() { # profile NAME FILE
	cat >"$2" <<INI
[client]
url = $URL
ca = ../pki/ca/ca.crt
cert = ../pki/$1.crt
key = ../pki/$1.key
INI
}
profile national-authority "$OUT/authority/client.ini"
profile acme-ai "$OUT/vendor/client.ini"
profile beta-health "$OUT/vendor-beta/client.ini"
for n in $NODES; do
	cat >"$OUT/$n/node.ini" <<INI
[node]
coordinator = $URL
ca = ../pki/ca/ca.crt
cert = ../pki/$n.crt
key = ../pki/$n.key
cache_dir = cache
state_dir = state

[data]
source = csv
path = records.csv

[policy]
min_cell_count = 5
min_cohort_size = 50
INI
done
cat >>"$OUT/hospital-c/node.ini" <<INI

[mapping]
bnp = bnp_pg_ml
creatinine = convert(creat_umol_l, "umol/L", "mg/dL", "creatinine")
INI
for n in $NODES; do
	"$BUILD/fedval-node" --config "$OUT/$n/node.ini" --check-config >"$OUT/logs/$n.check" ||
		{ cat "$OUT/logs/$n.check"; exit 1; }
done

step "start the coordinator on $URL and three hospital nodes (logs in $OUT/logs)"
(cd "$OUT/coordinator" && exec "$BUILD/fedval-coordinator" --config coordinator.ini) \
	2>"$OUT/logs/coordinator.log" &
PIDS+=($!)
export FEDVAL_CONFIG="$OUT/authority/client.ini"
for _ in $(seq 1 100); do
	"$FEDVAL" run status >/dev/null 2>&1 && break
	sleep 0.2
done
"$FEDVAL" run status >/dev/null
for n in $NODES; do
	(cd "$OUT/$n" && exec "$BUILD/fedval-node" --config node.ini) 2>"$OUT/logs/$n.log" &
	PIDS+=($!)
done
for _ in $(seq 1 100); do
	[ "$(grep -l 'event=enrolled' "$OUT"/logs/hospital-*.log 2>/dev/null | wc -l)" = 3 ] && break
	sleep 0.2
done

step "vendors submit their frozen models (signed, immutable versions)"
VID=$("$FEDVAL" model submit --config "$OUT/vendor/client.ini" \
	--model "$OUT/vendor/model.onnx" --manifest "$OUT/vendor/manifest.json")
VID2=$("$FEDVAL" model submit --config "$OUT/vendor-beta/client.ini" \
	--model "$OUT/vendor-beta/model.onnx" --manifest "$OUT/vendor-beta/manifest.json")

step "authority reviews the submissions and creates the benchmark (acceptance required)"
"$FEDVAL" model accept "$VID" --reason "manifest reviewed: intended use, population, MDR class"
"$FEDVAL" model accept "$VID2" --reason "manifest reviewed: intended use, population, MDR class"
sed 's/"primary_endpoint"/"model_acceptance": "required",\n  "primary_endpoint"/' \
	"$ROOT/deploy/demo/benchmark.json" >"$OUT/benchmark.json"
"$FEDVAL" benchmark create "$OUT/benchmark.json"
step "authority starts a head-to-head run"
RUN=$("$FEDVAL" run start --benchmark hf-readmission-30d --model "$VID" --compare "$VID2")
"$FEDVAL" run status "$RUN" --wait 300

step "results: verified per-site and pooled"
"$FEDVAL" results "$RUN" --json "$OUT/report.json" | tee "$OUT/results.txt"
"$FEDVAL" report html "$OUT/report.json" --out "$OUT/report.html" --hk
step "re-verify the report offline (signatures, certificates, digests)"
"$FEDVAL" verify "$OUT/report.json" --ca "$OUT/pki/ca/ca.crt" --model "$OUT/vendor/model.onnx" | tail -1

step "a regression benchmark: length of stay (MAE, RMSE, R2 pooled exactly from site sums)"
VID3=$("$FEDVAL" model submit --config "$OUT/vendor/client.ini" \
	--model "$OUT/vendor/los/model.onnx" --manifest "$OUT/vendor/los/manifest.json")
"$FEDVAL" benchmark create "$ROOT/deploy/demo/los-benchmark.json"
RUN3=$("$FEDVAL" run start --benchmark hf-length-of-stay --model "$VID3")
"$FEDVAL" run status "$RUN3" --wait 300 >/dev/null
"$FEDVAL" results "$RUN3" --json "$OUT/report-los.json" | tee "$OUT/results-los.txt" | tail -5

step "monitoring: a second period in which hospital B's population has shifted"
# Hospital B's new export comes from a population like the tertiary centre's (a different
# risk relationship); the same model is evaluated again and the periods are compared.
"$FEDVAL" demo data --profile 3 --rows "$ROWS_B" --seed 202 --out "$OUT/hospital-b/records.csv"
RUN2=$("$FEDVAL" run start --benchmark hf-readmission-30d --model "$VID")
"$FEDVAL" run status "$RUN2" --wait 300 >/dev/null
"$FEDVAL" results "$RUN2" --json "$OUT/report-period2.json" >/dev/null
if "$FEDVAL" monitor check --baseline "$OUT/report.json" "$OUT/report-period2.json" \
	>"$OUT/monitoring.txt" 2>&1; then
	echo "  no drift detected"
else
	grep ALERT "$OUT/monitoring.txt" | head -4 | sed 's/^/  /'
	echo "  ... $(grep -c ALERT "$OUT/monitoring.txt") alerts in all (performance, case mix, variables)"
fi

step "stop the federation"
cleanup
PIDS=()
grep -h 'event=stopped' "$OUT"/logs/*.log | sed 's/^/  /'

step "verify every audit log (hash chains)"
for f in "$OUT"/coordinator/coordinator-audit.log "$OUT"/hospital-*/state/node-audit.log; do
	printf '  %-60s ' "${f#"$OUT"/}"
	"$FEDVAL" audit verify "$f"
done
echo
echo "demo finished in $(($(date +%s) - START)) s"
echo "  report:  $OUT/report.html (self-contained HTML; print to PDF from a browser)"
echo "  data:    $OUT/report.json (schema fedval.report/1, docs/report-format.md)"
echo "  table:   $OUT/results.txt"
echo "  length of stay (regression): $OUT/results-los.txt, $OUT/report-los.json"
echo "  monitor: $OUT/monitoring.txt (CUSUM on AUROC and O/E, case mix, variables)"
echo "  logs:    $OUT/logs/"
echo "  audit:   $OUT/coordinator/coordinator-audit.log, $OUT/hospital-*/state/node-audit.log"
