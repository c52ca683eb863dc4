#!/bin/sh
# A fuzzing campaign over every target of tests/fuzz (README.md): builds each with clang's
# libFuzzer + ASan + UBSan, runs it for SECONDS on a scratch corpus seeded from
# tests/fuzz/corpus/<name>, JOBS targets at a time, and prints one line per target: runs,
# coverage (libFuzzer's cov: edges), corpus size, and crashes found (their reproducers stay in
# WORK/<name>-crashes). Not part of the test suite (the replay tests are); rerun it after
# changing a parser and record the table in tests/fuzz/README.md.
#
# usage: tests/fuzz/campaign.sh [SECONDS] [JOBS]     (default 120 s, 2 at a time)
#   FV_FUZZ_BUILD  a configured build directory with the protoc-c output (gen/), default
#                  /tmp/fedval-fuzz-build (configured here when missing)
#   FV_FUZZ_WORK   scratch directory, default /tmp/fedval-fuzz
#   FV_FUZZ_TARGETS  the targets to run (default: all), e.g. "csv gate"
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-120}
JOBS=${2:-2}
B=${FV_FUZZ_BUILD:-/tmp/fedval-fuzz-build}
W=${FV_FUZZ_WORK:-/tmp/fedval-fuzz}
mkdir -p "$W"
# the protoc-c output of this checkout's schemas
[ -f "$B/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$B" -DFEDVAL_TESTS=OFF >/dev/null
make -C "$B" -j"$(nproc)" fv_proto fv_onnxproto >/dev/null
G=$B/gen
cd "$ROOT"
CF="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Iinclude -Ilib -Itests -I$G"
U=$(ls lib/util/[a-z]*.c)
C=$(ls lib/crypto/[a-z]*.c)
D=$(ls lib/data/[a-z]*.c)
PG=-I/usr/include/postgresql
BLAS=-I/usr/include/x86_64-linux-gnu/openblas-pthread

# name | max_len | sources and libraries
build() {
	name=$1
	shift
	# shellcheck disable=SC2086
	clang $CF "$@" -o "$W/fuzz_$name" 2>"$W/$name.build.log" ||
		echo "fuzz_$name: build failed (see $W/$name.build.log)" >&2
}
echo "== building the targets in $W" >&2
# shellcheck disable=SC2086
{
	build csv $PG tests/fuzz/fuzz_csv.c $D $C $U -lsqlite3 -lpq -lpng -ljansson -lcrypto \
		-linih -lm -lpthread
	build envelope tests/fuzz/fuzz_envelope.c lib/wire/envelope.c lib/wire/pb.c $C $U \
		$G/proto/fedval.pb-c.c -lprotobuf-c -lcrypto -linih -lm -lpthread
	build pb tests/fuzz/fuzz_pb.c lib/wire/pb.c $U $G/proto/fedval.pb-c.c -lprotobuf-c \
		-linih -lm -lpthread
	build chunk tests/fuzz/fuzz_chunk.c lib/wire/chunk.c $U -lzstd -linih -lm -lpthread
	build gate tests/fuzz/fuzz_gate.c lib/privacy/gate.c lib/wire/pb.c $U \
		$G/proto/fedval.pb-c.c -lprotobuf-c -linih -lm -lpthread
	build model $BLAS tests/fuzz/fuzz_model.c lib/model/[a-z]*.c $U $G/onnx/onnx.pb-c.c \
		-lprotobuf-c -lopenblas -linih -lm -lpthread
	build config tests/fuzz/fuzz_config.c $U -linih -lm -lpthread
	build audit_log tests/fuzz/fuzz_audit_log.c lib/audit/[a-z]*.c $C $U -ljansson -lcrypto \
		-linih -lm -lpthread
	build audit_extract tests/fuzz/fuzz_audit_extract.c lib/audit/[a-z]*.c $C $U -ljansson \
		-lcrypto -linih -lm -lpthread
	build expr $PG tests/fuzz/fuzz_expr.c $D $C $U -lsqlite3 -lpq -lpng -ljansson -lcrypto \
		-linih -lm -lpthread
	build summary $PG tests/fuzz/fuzz_summary.c $D $C $U -lsqlite3 -lpq -lpng -ljansson \
		-lcrypto -linih -lm -lpthread
	build dicom $PG tests/fuzz/fuzz_dicom.c $D $C $U -lsqlite3 -lpq -lpng -ljansson \
		-lcrypto -linih -lm -lpthread
}

maxlen() {
	case $1 in
	envelope | pb) echo 8192 ;;
	chunk) echo 65536 ;;
	model | audit_log | audit_extract) echo 16384 ;;
	expr) echo 2048 ;;
	*) echo 4096 ;;
	esac
}

run() {
	name=$1
	mkdir -p "$W/$name-corpus" "$W/$name-crashes"
	"$W/fuzz_$name" -max_len="$(maxlen "$name")" -max_total_time="$SECS" -rss_limit_mb=3072 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$W/$name-crashes/" \
		"$W/$name-corpus" "tests/fuzz/corpus/$name" >"$W/$name.log" 2>&1 || true
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$W/$name.log" | grep -o '[0-9]*$' || echo 0)
	cov=$(grep -o 'cov: [0-9]*' "$W/$name.log" | tail -1 | grep -o '[0-9]*' || echo 0)
	corp=$(ls "$W/$name-corpus" | wc -l)
	crashes=$(ls "$W/$name-crashes" | wc -l)
	printf '| `fuzz_%s` | %s | %s | %s | %s | %s |\n' "$name" "$SECS" "${runs:-0}" "${cov:-0}" \
		"$corp" "$crashes"
}

echo "== running each target for $SECS s, $JOBS at a time" >&2
echo "| target | seconds | runs | coverage (edges) | new corpus files | crashes |"
echo "|---|---:|---:|---:|---:|---:|"
n=0
ALL="csv envelope pb chunk gate model config audit_log audit_extract expr summary dicom"
TARGETS=${FV_FUZZ_TARGETS:-$ALL}
for t in $TARGETS; do
	[ -x "$W/fuzz_$t" ] || continue
	run "$t" >"$W/$t.row" &
	n=$((n + 1))
	if [ "$n" -ge "$JOBS" ]; then
		wait
		n=0
	fi
done
wait
for t in $TARGETS; do
	[ -f "$W/$t.row" ] && cat "$W/$t.row"
done
