#!/bin/sh
# Run every benchmark script in benchmarks/ in turn (one at a time: they time one core each and
# must not compete with each other) and print their summary lines at the end. The numbers to
# compare with the issues' goals are the ratios; see benchmarks/RESULTS.md.
#
# usage: benchmarks/run-all.sh [--quick] [--only NAME,...] [--skip NAME,...]
#   NAME is model, stats, eval, ingest, ort or load (benchmarks/<NAME>/run.sh)
#   --quick   smaller sizes (about 10x fewer rows; minutes instead of a quarter of an hour):
#             a smoke test of the scripts, not numbers for RESULTS.md
# environment (optional):
#   FV_BENCH_BUILD  RelWithDebInfo build directory shared by the scripts (configured and
#                   built here if needed); default ${TMPDIR:-/tmp}/fedval-bench-build
#   FV_BENCH_DIR    work directory (data, models, logs); default ${TMPDIR:-/tmp}/fedval-bench
#                   (--quick: ${TMPDIR:-/tmp}/fedval-bench-quick)
#   FV_BENCH_REPEATS best of this many runs in each script (default 3)
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
ONLY=""
SKIP=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--only) ONLY=$2; shift ;;
	--skip) SKIP=$2; shift ;;
	-h | --help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "run-all.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

export FV_BENCH_BUILD=${FV_BENCH_BUILD:-${TMPDIR:-/tmp}/fedval-bench-build}
if [ "$QUICK" = 1 ]; then
	export FV_BENCH_DIR=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench-quick}
else
	export FV_BENCH_DIR=${FV_BENCH_DIR:-${TMPDIR:-/tmp}/fedval-bench}
fi
LOGS=$FV_BENCH_DIR/logs
mkdir -p "$LOGS"

want() { # name: selected by --only / --skip?
	if [ -n "$ONLY" ]; then
		case ",$ONLY," in *",$1,"*) ;; *) return 1 ;; esac
	fi
	case ",$SKIP," in *",$1,"*) return 1 ;; esac
	return 0
}

# One RelWithDebInfo build for all (eval needs the fedval CLI).
if [ ! -f "$FV_BENCH_BUILD/CMakeCache.txt" ]; then
	cmake -S "$SRC" -B "$FV_BENCH_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DFEDVAL_TESTS=OFF >/dev/null || exit 1
fi
if want eval; then
	make -C "$FV_BENCH_BUILD" -j"$(nproc)" fedval >/dev/null || exit 1
fi

start=$(date +%s)
status=0
ran=""
run() { # name command...
	name=$1
	shift
	want "$name" || return 0
	echo "==== $name: $* (log: $LOGS/$name.out, $LOGS/$name.err)" >&2
	t0=$(date +%s)
	if env "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"; then
		rc=0
	else
		rc=$?
		status=1
	fi
	echo "==== $name: exit $rc after $(($(date +%s) - t0)) s" >&2
	echo "$rc" >"$LOGS/$name.rc"
	ran="$ran $name"
}

if [ "$QUICK" = 1 ]; then
	run model FV_BENCH_ROWS=100000 FV_BENCH_TRAIN=2000 FV_BENCH_BIG_ROWS=1000000 \
		"$SRC/benchmarks/model/run.sh"
	run stats FV_BENCH_SCORES=1000000 "$SRC/benchmarks/stats/run.sh"
	run eval "$SRC/benchmarks/eval/run.sh" "$FV_BENCH_BUILD" 200000
	run ingest "$SRC/benchmarks/ingest/run.sh" 250000
	run ort FV_BENCH_ROWS=100000 FV_BENCH_BATCH=2 FV_BENCH_REPEATS=3 \
		"$SRC/benchmarks/ort/run.sh"
	[ -x "$SRC/benchmarks/load/run.sh" ] &&
		run load FV_LOAD_BUILD="$FV_BENCH_BUILD" FV_LOAD_DIR="$FV_BENCH_DIR/load" \
			FV_LOAD_NODES=100 FV_LOAD_IDLE_S=3 FV_LOAD_STORM_S=3 \
			"$SRC/benchmarks/load/run.sh"
else
	run model "$SRC/benchmarks/model/run.sh"
	run stats "$SRC/benchmarks/stats/run.sh"
	run eval "$SRC/benchmarks/eval/run.sh" "$FV_BENCH_BUILD"
	run ingest "$SRC/benchmarks/ingest/run.sh"
	run ort "$SRC/benchmarks/ort/run.sh"
	[ -x "$SRC/benchmarks/load/run.sh" ] &&
		run load FV_LOAD_BUILD="$FV_BENCH_BUILD" FV_LOAD_DIR="$FV_BENCH_DIR/load" \
			"$SRC/benchmarks/load/run.sh"
fi

echo
echo "######## summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg), $(($(date +%s) - start)) s)"
[ "$QUICK" = 1 ] && echo "(--quick: small sizes, a smoke test; not comparable with RESULTS.md)"
for name in $ran; do
	echo
	echo "## $name (exit $(cat "$LOGS/$name.rc"))"
	# every script prints its results table on stdout and its progress on stderr
	grep -v '^$' "$LOGS/$name.out" | grep -v '^(results also in'
	if [ "$(cat "$LOGS/$name.rc")" != 0 ]; then
		echo "-- last lines of $LOGS/$name.err:"
		tail -n 5 "$LOGS/$name.err"
	fi
done
exit $status
