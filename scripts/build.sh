#!/usr/bin/env bash
# scripts/build.sh [BUILD_DIR] [cmake args...]: configure and build.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build}
shift || true
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DSN_WERROR=ON "$@" >/dev/null
cmake --build "$B" -j"$(nproc)"
