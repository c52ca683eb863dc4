#!/bin/sh
# Coordinator under load: N simulated hospital nodes (benchmarks/load/load_nodes.c, one process,
# each node a real principal with its own certificate and TLS connection) against a real
# fedval-coordinator on loopback; runs started with the real `fedval` CLI; a plain nng REQ/REP
# echo (tcp, then tls+tcp) with the same number of sockets as the reference. See
# benchmarks/load/README.md.
#
# usage: benchmarks/load/run.sh            (environment, all optional:)
#   FV_LOAD_BUILD     build directory (RelWithDebInfo; configured here if needed)
#                     default ${TMPDIR:-/tmp}/fedval-load-build
#   FV_LOAD_DIR       work directory (default ${TMPDIR:-/tmp}/fedval-load)
#   FV_LOAD_NODES     node counts (default "100 500 1000")
#   FV_LOAD_PARALLEL  coordinator [coordinator] parallel (default 256, the shipped default)
#   FV_LOAD_POLL_WAIT coordinator poll_wait_ms (default 25000, the shipped default)
#   FV_LOAD_IDLE_S, FV_LOAD_STORM_S  seconds of the idle and the poll-throughput phases (10)
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FV_LOAD_BUILD:-${TMPDIR:-/tmp}/fedval-load-build}
WORK=${FV_LOAD_DIR:-${TMPDIR:-/tmp}/fedval-load}
NODES=${FV_LOAD_NODES:-"100 500 1000"}
PARALLEL=${FV_LOAD_PARALLEL:-256}
POLL_WAIT=${FV_LOAD_POLL_WAIT:-25000}
IDLE_S=${FV_LOAD_IDLE_S:-10}
STORM_S=${FV_LOAD_STORM_S:-10}
NT=$(nproc)

mkdir -p "$WORK"
echo "== building (RelWithDebInfo) in $BUILD" >&2
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF >/dev/null
fi
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=RelWithDebInfo$' "$BUILD/CMakeCache.txt"; then
	echo "run.sh: $BUILD is not a RelWithDebInfo build" >&2
	exit 1
fi
make -C "$BUILD" -j"$NT" fedval fedval-coordinator fv_wire fv_crypto fv_util fv_proto >/dev/null
# The driver links the static libraries the wire client needs (as CMake links fedval-node's
# fv_all: fv_wire, fv_crypto, fv_util, the generated schema, then nng/mbedTLS, OpenSSL,
# protobuf-c, zstd, jansson, inih).
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-I"$SRC/include" -I"$BUILD/gen" -I"$SRC/tests/integration" \
	-o "$WORK/load_nodes" "$SRC/benchmarks/load/load_nodes.c" \
	"$BUILD/libfv_wire.a" "$BUILD/libfv_crypto.a" "$BUILD/libfv_proto.a" "$BUILD/libfv_util.a" \
	-lnng -lmbedtls -lmbedx509 -lmbedcrypto \
	$(pkg-config --libs libprotobuf-c libzstd jansson inih openssl) -lpthread -lm

FEDVAL="$BUILD/fedval"
COORD_PID=
stop_coord() {
	[ -n "$COORD_PID" ] || return 0
	kill -TERM "$COORD_PID" 2>/dev/null || true
	wait "$COORD_PID" 2>/dev/null || true
	COORD_PID=
}
trap stop_coord EXIT

# The vendor's model: trained once, reused for every N.
if [ ! -f "$WORK/model/model.onnx" ]; then
	echo "== training the demo model" >&2
	"$FEDVAL" demo data --profile 0 --rows 4000 --out "$WORK/dev.csv" >/dev/null
	"$FEDVAL" demo train --data "$WORK/dev.csv" --out-dir "$WORK/model" >/dev/null
fi

results="$WORK/results.jsonl"
: >"$results"
for N in $NODES; do
	FED="$WORK/fed-$N"
	rm -rf "$FED"
	mkdir -p "$FED/pki"
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
	URL="tls+tcp://localhost:$PORT"
	echo "== N=$N: federation in $FED, coordinator on $URL" >&2
	"$FEDVAL" pki init --dir "$FED/pki/ca" --name load-ca >/dev/null
	"$FEDVAL" pki issue --ca "$FED/pki/ca" --role coordinator --name coordinator \
		--dns localhost --out "$FED/pki" >/dev/null
	for p in authority vendor; do
		"$FEDVAL" pki issue --ca "$FED/pki/ca" --role $p --name $p --out "$FED/pki" >/dev/null
		printf '[client]\nurl = %s\nca = pki/ca/ca.crt\ncert = pki/%s.crt\nkey = pki/%s.key\n' \
			"$URL" $p $p >"$FED/$p.ini"
	done
	cat >"$FED/coordinator.ini" <<INI
[coordinator]
listen = tls+tcp://127.0.0.1:$PORT
ca = pki/ca/ca.crt
cert = pki/coordinator.crt
key = pki/coordinator.key
store = coordinator.db
models_dir = models
parallel = $PARALLEL
poll_wait_ms = $POLL_WAIT
INI
	(cd "$FED" && exec "$BUILD/fedval-coordinator" --config coordinator.ini) \
		2>"$FED/coordinator.log" &
	COORD_PID=$!
	for _ in $(seq 1 100); do
		(cd "$FED" && "$FEDVAL" run status --config authority.ini >/dev/null 2>&1) && break
		sleep 0.1
	done
	VID=$(cd "$FED" && "$FEDVAL" model submit --model "$WORK/model/model.onnx" \
		--manifest "$WORK/model/manifest.json" --config vendor.ini | tail -1)
	(cd "$FED" && "$FEDVAL" benchmark create "$SRC/deploy/demo/benchmark.json" \
		--config authority.ini >/dev/null)
	"$WORK/load_nodes" --dir "$FED" --url "$URL" --n "$N" --coord-pid "$COORD_PID" \
		--fedval "$FEDVAL" --model "$VID" --poll-wait "$POLL_WAIT" --parallel "$PARALLEL" \
		--idle-s "$IDLE_S" --storm-s "$STORM_S" --ref-port $((PORT + 1)) >>"$results" ||
		echo "== N=$N: driver reported a failure (see above)" >&2
	refused=$(grep -c 'event=request_refused' "$FED/coordinator.log" || true)
	echo "== N=$N: coordinator log: $refused requests refused" >&2
	stop_coord
done

/usr/bin/python3 - "$results" "$WORK/results.json" "$PARALLEL" "$POLL_WAIT" <<'EOF'
import json, sys, platform, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def f(r, k, fmt="{:.2f}"):
    v = r.get(k)
    return fmt.format(v) if isinstance(v, (int, float)) else "-"
print(f"coordinator parallel={sys.argv[3]} poll_wait_ms={sys.argv[4]}; load average now {os.getloadavg()[0]:.1f}")
print(f"{'N':>5} {'enrol s':>8} {'run start s':>11} {'run→all s':>10} {'poll rtt/s':>10} "
      f"{'tcp rtt/s':>10} {'tls rtt/s':>10} {'x tcp':>6} {'x tls':>6} {'RSS MiB':>8} {'fds':>5} "
      f"{'idle polls/s':>12} {'poll err':>8}")
for r in rows:
    ref = r.get("reference") or [None, None]
    tcp = ref[0]["rtt_per_s"] if ref[0] else None
    tls = ref[1]["rtt_per_s"] if ref[1] else None
    print(f"{r['nodes']:>5} {f(r,'enrol_all_s'):>8} {f(r,'cli_run_start_s'):>11} "
          f"{f(r,'run_all_results_s'):>10} {f(r,'poll_rtt_per_s','{:.0f}'):>10} "
          f"{(f'{tcp:.0f}' if tcp else '-'):>10} {(f'{tls:.0f}' if tls else '-'):>10} "
          f"{f(r,'overhead_vs_tcp','{:.1f}'):>6} {f(r,'overhead_vs_tls','{:.1f}'):>6} "
          f"{r['coord_max_rss_kb']/1024:>8.1f} {r['coord_max_fds']:>5} "
          f"{f(r,'idle_polls_per_s','{:.1f}'):>12} {r['poll_errors']:>8}")
json.dump({"date": datetime.date.today().isoformat(), "host": platform.node(),
           "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "results": rows}, open(sys.argv[2], "w"), indent=2)
print(f"(results also in {sys.argv[2]})")
EOF
