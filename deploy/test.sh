#!/bin/sh
# Install what is missing, build, and run every test twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build (README, second command; .ci/run).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=$(nproc)
"$ROOT/deploy/install-deps.sh"

echo "==> build (RelWithDebInfo) and test"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=ON
cmake --build "$ROOT/build" -j"$JOBS"
ctest --test-dir "$ROOT/build" --output-on-failure -j"$JOBS"

echo "==> build (ASan + UBSan) and test"
cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DFEDVAL_SANITIZE=ON -DFEDVAL_TESTS=ON
cmake --build "$ROOT/build-asan" -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir "$ROOT/build-asan" --output-on-failure -j"$JOBS"

echo "==> all tests passed (normal and sanitizer builds)"
