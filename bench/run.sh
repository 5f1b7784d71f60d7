#!/usr/bin/env bash
# bench/run.sh — Subnetra against the peers on the shared harness's star, in one run, one table.
#
# Usage: bench/run.sh [-n ROUNDS] [--all | --peers "LIST"] [-m PEER_ROUNDS] [--duration S]
#                     [--no-build] [--wait-build MIN] [--profile] [-o OUTDIR]
#   -n ROUNDS        rounds of Subnetra and wireguard-go, interleaved (default 3):
#                    subnetra, wireguard-go, [peers], subnetra, wireguard-go, ...
#   --all            also the other peers: nebula tinc fastd openvpn none
#   --peers "LIST"   other peers to add (names of the harness's impl/*.sh)
#   -m PEER_ROUNDS   rounds of those other peers (default 1; they run in rounds 1..M)
#   --duration S     seconds per iperf3 test (default 10)
#   --no-build       use the build as it is (default: configure + build if needed)
#   --wait-build MIN if the build fails, retry every 3 minutes for up to MIN minutes
#   --only "LIST"    run only these implementations each round (instead of subnetra wireguard-go)
#   --tag TAG        tag Subnetra's runs (a variant, e.g. with SN_OS_LINUX_OPTS set; shown as
#                    its own column subnetra[TAG], never merged with the untagged runs)
#   --variant "TAG ENV=VAL;ENV=VAL"   (repeatable) also run Subnetra with these variables set,
#                    tagged TAG, every round right after the --only list, so that variants are
#                    interleaved in one session under one hold of the lock, e.g.
#                    --variant "aqm1 SN_AQM={ target_ms: 1, interval_ms: 20 }"
#   --rt-peers "LIST"  (e.g. wireguard-go) also run these peers every round with their daemons'
#                    threads at SCHED_FIFO (bench/rt-peer.sh; priority SN_PEER_CHRT, default 10),
#                    tagged rt, beside a Subnetra variant with node.rt_priority (SN_RT_PRIORITY)
#   --base REV       also run Subnetra as of git revision REV every round, as the column
#                    subnetra-base (bench/subnetra-base.sh): exported to OUTDIR/base/src and
#                    built (Release) in OUTDIR/base/build, so a change is measured against
#                    what it changed in the same run
#   --profile        afterwards, bench/profile.sh subnetra wireguard-go (strace/perf, not in the table)
#   -o OUTDIR        session directory (default bench/results/<date-time>); an existing session
#                    is extended (its results.jsonl kept), e.g. to add a round of one peer
#
# Env: SN_BUILD (default <repo>/build-bench, configured Release), SN_BENCH_HARNESS (default
#      <repo>/../shared/bench), OV_MTU (1400), SN_RAW_DIRECT_OPTS, SN_CRYPTO (see bench/subnetra.sh).
#
# The harness is copied into OUTDIR/harness (so its results/ land under bench/results/ and the
# shared copy is never written to); run-bench.sh of that copy runs each implementation. Output:
#   OUTDIR/table.md     the table (medians, ratios Subnetra / each peer) + per-round numbers
#   OUTDIR/run.log      everything run-bench.sh printed
#   OUTDIR/crypto.txt   bench/crypto_seal after the rounds: the "limit" rows of the table
#   OUTDIR/harness/results/results.jsonl, runs/<time>-<impl>/   raw data per run
#   OUTDIR/daemon/<time>-r<N>[-TAG]/  Subnetra's configs, logs, `subnetra status` per round
# Needs root. Refuses to start while the harness's namespaces exist (someone else's run).
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
HSRC=$(cd "${SN_BENCH_HARNESS:-$REPO/../shared/bench}" 2>/dev/null && pwd) ||
  { echo "error: harness not found (set SN_BENCH_HARNESS)" >&2; exit 1; }
export SN_BUILD=${SN_BUILD:-$REPO/build-bench}

N=3 M=1 PEERS="" DUR=10 BUILD=1 WAIT_BUILD=0 PROFILE=0 OUT="" ONLY="subnetra wireguard-go" TAG="" BASE="" RT_PEERS=""
VARIANTS=()
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    -m) M=$2; shift 2 ;;
    --all) PEERS="nebula tinc fastd openvpn none"; shift ;;
    --peers) PEERS=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --wait-build) WAIT_BUILD=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --rt-peers) RT_PEERS=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --variant) VARIANTS+=("$2"); shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "error: must run as root (network namespaces)" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
crypto_in_use() {   # the crypto plugin the daemons load, as `subnetrad --check` says
  local d; d=$(mktemp -d)
  cp -r "$REPO/conf/." "$d/" && chmod 600 "$d"/keys/*.key
  [ -z "${SN_CRYPTO:-}" ] || sed -i "s|^plugins:\$|plugins:\n  crypto: $SN_CRYPTO|" "$d/hub.yaml"
  "$SN_BUILD/subnetrad" -c "$d/hub.yaml" --check --plugin-dir "$SN_BUILD/plugins" 2>&1 |
    sed -n 's/^  crypto *\([a-z_]*\) .*/crypto_\1/p'
  rm -rf "$d"
}

# --- build -----------------------------------------------------------------------------------
build() {
  if [ ! -f "$SN_BUILD/CMakeCache.txt" ]; then
    cmake -S "$REPO" -B "$SN_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null || return 1
  fi
  cmake --build "$SN_BUILD" -j2
}
if [ $BUILD = 1 ]; then
  deadline=$(( $(date +%s) + WAIT_BUILD * 60 ))
  until build >"/tmp/sn-bench-build.$$.log" 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -20 "/tmp/sn-bench-build.$$.log" >&2
      echo "error: build failed (log above; --wait-build MIN to retry)" >&2
      rm -f "/tmp/sn-bench-build.$$.log"; exit 1
    fi
    log "build failed; retrying in 3 minutes"
    sleep 180
  done
  rm -f "/tmp/sn-bench-build.$$.log"
fi
[ -x "$SN_BUILD/subnetrad" ] || { echo "error: $SN_BUILD/subnetrad missing" >&2; exit 1; }
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$SN_BUILD/CMakeCache.txt" 2>/dev/null ||
  log "warning: $SN_BUILD is not a Release build"

# --- session ---------------------------------------------------------------------------------
OUT=${OUT:-$BENCH/results/$(date +%Y%m%d-%H%M%S)}
if [ -d "$OUT/harness/results" ]; then
  log "extending the session in $OUT"
else
  mkdir -p "$OUT/harness"
  cp -r "$HSRC/." "$OUT/harness/"
  rm -rf "$OUT/harness/results"
  chmod -R u+w "$OUT/harness"
fi
H=$OUT/harness
export SN_BENCH_HARNESS=$H

# --- the base revision (--base) ---------------------------------------------------------------
if [ -n "$BASE" ]; then
  export SN_BASE_SRC=$OUT/base/src SN_BASE_BUILD=$OUT/base/build
  if [ ! -x "$SN_BASE_BUILD/subnetrad" ]; then
    mkdir -p "$SN_BASE_SRC"
    git -C "$REPO" archive "$BASE" | tar -x -C "$SN_BASE_SRC" ||
      { echo "error: cannot export revision $BASE" >&2; exit 1; }
    { cmake -S "$SN_BASE_SRC" -B "$SN_BASE_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
      cmake --build "$SN_BASE_BUILD" -j2 >/dev/null; } ||
      { echo "error: revision $BASE does not build in $SN_BASE_BUILD" >&2; exit 1; }
  fi
  ONLY="$ONLY $BENCH/subnetra-base.sh"
fi

exec 9>/tmp/sn-bench.run.lock
flock -n 9 || { echo "error: another bench/run.sh holds /tmp/sn-bench.run.lock" >&2; exit 1; }

{
  echo "--- $(basename "$0") $*"
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "repo: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) ($(git -C "$REPO" status --porcelain 2>/dev/null | wc -l) changed files in the tree)"
  echo "build: $SN_BUILD ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$SN_BUILD/CMakeCache.txt" 2>/dev/null)); $("$SN_BUILD/subnetrad" --version 2>&1 | head -1)"
  echo "wireguard-go: $(wireguard-go --version 2>&1 | head -1)"
  for p in $PEERS; do
    case $p in
      nebula) echo "nebula: $(nebula -version 2>&1 | head -1)" ;;
      tinc) echo "tinc: $(tincd --version 2>&1 | head -1)" ;;
      fastd) echo "fastd: $(fastd --version 2>&1 | head -1)" ;;
      openvpn) echo "openvpn: $(openvpn --version 2>&1 | head -1)" ;;
    esac
  done
  echo "rounds: $N x ($ONLY)${PEERS:+, $M x ($PEERS)}; ${DUR}s per test; OV_MTU ${OV_MTU:-1400}"
  echo "only: $ONLY; tag: ${TAG:-none}; SN_RAW_DIRECT_OPTS=${SN_RAW_DIRECT_OPTS:-} SN_OS_LINUX_OPTS=${SN_OS_LINUX_OPTS:-} SN_AQM=${SN_AQM:-} SN_TRACE=${SN_TRACE:-} SN_SLICE_US=${SN_SLICE_US:-}"
  for v in "${VARIANTS[@]}"; do echo "variant: $v"; done
  [ -z "$RT_PEERS" ] || echo "rt peers: $RT_PEERS at SCHED_FIFO ${SN_PEER_CHRT:-10} (tagged rt)"
  [ -z "$BASE" ] || echo "base: $BASE = $(git -C "$REPO" rev-parse --short "$BASE") (subnetra-base)"
  CRYPTO_IN_USE=$(crypto_in_use)
  echo "crypto: ${SN_CRYPTO:-the default} ($CRYPTO_IN_USE)"
} >>"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

. "$BENCH/star_free.sh"   # wait_star_free

# --rt-peers: bench/rt-peer.sh as OUTDIR/rt/PEER.sh, run on the harness copy
if [ -n "$RT_PEERS" ]; then
  mkdir -p "$OUT/rt"
  for p in $RT_PEERS; do cp "$BENCH/rt-peer.sh" "$OUT/rt/$p.sh"; done
  export SN_RT_HARNESS=$H
fi

FAILS=0
one() {   # ROUND IMPL [TAG ENVS] — one run-bench.sh run; a failed run is retried once
  local r=$1 impl=$2 arg=$2 rc try tag="" envs=${4:-}
  [ "$impl" = subnetra ] && { arg=$BENCH/subnetra.sh; tag=${3-$TAG}; }
  case $impl in rt:*) impl=${impl#rt:}; arg=$OUT/rt/$impl.sh; tag=rt ;; esac
  for try in 1 2; do
    wait_star_free || { log "star still busy: skipping $impl round $r"; FAILS=$((FAILS + 1)); return; }
    log "round $r/$N: $impl${tag:+[$tag]}$([ $try = 2 ] && echo " (retry)")"
    echo "### round $r: $impl${tag:+[$tag]} (try $try, $(date +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >>"$OUT/run.log"
    (
      IFS=';' read -ra kvs <<<"$envs"
      for kv in "${kvs[@]}"; do export "${kv# }"; done
      SN_KEEP_LOGS=$OUT/daemon/$(date +%H%M%S)-r$r${tag:+-$tag} "$H/run-bench.sh" --duration "$DUR" \
        ${tag:+--tag "$tag"} "$arg"
    ) >>"$OUT/run.log" 2>&1
    rc=$?
    [ $rc = 0 ] && return
    log "  $impl round $r failed (rc $rc): see $OUT/run.log"
    sleep 5
  done
  FAILS=$((FAILS + 1))
}

T0=$(date +%s)
for r in $(seq "$N"); do
  for i in $ONLY; do one "$r" "$i"; done
  for v in "${VARIANTS[@]}"; do one "$r" subnetra "${v%% *}" "${v#* }"; done
  for p in $RT_PEERS; do one "$r" "rt:$p"; done
  if [ "$r" -le "$M" ]; then
    for p in $PEERS; do one "$r" "$p"; done
  fi
done
log "benchmark done in $(( $(date +%s) - T0 )) s, $FAILS failed runs"

# the crypto limits in the same session: one core's seal rate per plugin, the relay ceiling
if [ -x "$SN_BUILD/bench/crypto_seal" ]; then
  log "crypto limits: bench/crypto_seal (load $(cut -d' ' -f1 /proc/loadavg))"
  "$SN_BUILD/bench/crypto_seal" -r 5 -t 1 --plugin-dir "$SN_BUILD/plugins" >"$OUT/crypto.txt" 2>&1 ||
    log "crypto_seal failed: see $OUT/crypto.txt"
fi

CRYPTO_ARGS=()
[ -s "$OUT/crypto.txt" ] && CRYPTO_ARGS=(--crypto "$OUT/crypto.txt" --crypto-in-use "$CRYPTO_IN_USE")
{
  echo "# Subnetra vs peers — $(date -Is)"
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  if [ -s "$H/results/results.jsonl" ]; then
    python3 "$BENCH/table.py" --raw "${CRYPTO_ARGS[@]}" "$H/results/results.jsonl"
  else
    echo "no results"
  fi
  [ $FAILS = 0 ] || echo -e "\n$FAILS runs failed: see run.log"
} >"$OUT/table.md"
cat "$OUT/table.md"

if [ $PROFILE = 1 ]; then
  wait_star_free && "$BENCH/profile.sh" -o "$OUT/profile" subnetra wireguard-go 2>&1 | tee "$OUT/profile.txt"
fi
ln -sfn "$(basename "$OUT")" "$BENCH/results/latest"
log "results in $OUT"
