#!/bin/sh
# Install every Debian 12 package fedval needs to build, test and run its demo.
# Idempotent: packages already present are left alone, so it is safe to rerun.
set -eu

PACKAGES="
build-essential cmake pkg-config clang-format
libssl-dev openssl
libnng-dev
libprotobuf-c-dev protobuf-c-compiler
libzstd-dev
libsqlite3-dev sqlite3
libpq-dev postgresql
libpng-dev
libopenblas-dev
libjansson-dev
libinih-dev
libonnx-dev libonnx-testdata
libcriterion-dev
python3 python3-numpy python3-sklearn python3-pandas python3-onnx python3-xgboost
python3-pydicom
r-base-core r-cran-proc r-cran-metafor r-cran-survival
chromium curl
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
