#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, from a fresh Debian 12 machine, as
# root. Installs what is missing, builds (Release, warnings as errors), runs
# every test with ctest (unit tests, plugin tests, fuzz drivers, end-to-end
# tests in network namespaces), then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs everything again there, except the
# tests that cannot work under ASan (valgrind, the LD_PRELOAD malloc counter),
# that measure latency (policy swaps under load) or that do not use the build
# tree (the Debian package is built from a copy of the source).
# Ends with a line "N passed, N failed".
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"

bash scripts/deps.sh || exit 1

total_pass=0 total_fail=0
run_ctest() { # DIR LABEL [ctest args...]
	local dir=$1 label=$2 log; shift 2
	log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure --timeout 900 "$@") 2>&1 | tee "$log"
	local line p f
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "$label: ctest printed no summary" >&2
		total_fail=$((total_fail + 1))
	else
		f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
		p=$(( $(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line") - f ))
		total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	fi
	rm -f "$log"
}

echo "== build (Release)"
bash scripts/build.sh "$SRC/build" || { echo "0 passed, 1 failed"; exit 1; }
echo "== tests (Release)"
run_ctest "$SRC/build" release

echo "== build (ASan + UBSan)"
if bash scripts/build.sh "$SRC/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSN_SANITIZE=ON; then
	echo "== tests (ASan + UBSan)"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_ctest "$SRC/build-asan" asan -E '^e2e_(valgrind|no_malloc|no_malloc_fec|no_malloc_kcp|aqm|policy_swap|package)$'
else
	total_fail=$((total_fail + 1))
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
