#!/bin/sh
# Install what is missing, build, and run the demo federation (README, first command).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/deploy/install-deps.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEDVAL_TESTS=OFF
cmake --build "$ROOT/build" -j"$(nproc)"
exec "$ROOT/deploy/demo/run-demo.sh" "$ROOT/build" "$ROOT/demo-out"
