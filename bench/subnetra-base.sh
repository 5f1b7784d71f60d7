#!/usr/bin/env bash
# bench/subnetra-base.sh — Subnetra as of an earlier revision, as a harness impl of its own
# (column subnetra-base), so that a change is compared with what it changed in the same run.
# bench/run.sh --base REV exports REV to SN_BASE_SRC and builds it in SN_BASE_BUILD; this
# script runs that tree's own bench/subnetra.sh against that build, with every option as
# for Subnetra (SN_RAW_DIRECT_OPTS, SN_OS_LINUX_OPTS, SN_DAEMON_ARGS; SN_AQM only where the
# base knows aqm). run-bench.sh finds the daemons' PIDs under $SN_STATE/subnetra-base.
set -euo pipefail
: "${SN_BASE_SRC:?set SN_BASE_SRC (bench/run.sh --base REV does)}"
: "${SN_BASE_BUILD:?set SN_BASE_BUILD}"
HARNESS=${SN_BENCH_HARNESS:?set SN_BENCH_HARNESS}
. "$HARNESS/lib.sh"
case ${1:-} in
  up)
    SN_BUILD=$SN_BASE_BUILD "$SN_BASE_SRC/bench/subnetra.sh" up
    rm -rf "$SN_STATE/subnetra-base"
    ln -s subnetra "$SN_STATE/subnetra-base"
    ;;
  down)
    SN_BUILD=$SN_BASE_BUILD "$SN_BASE_SRC/bench/subnetra.sh" down
    rm -f "$SN_STATE/subnetra-base"
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
