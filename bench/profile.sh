#!/usr/bin/env bash
# bench/profile.sh — where the time goes on each node during a single TCP stream s2->s3 via the hub.
# Usage: bench/profile.sh [-o OUTDIR] [-w SECONDS] IMPL...
#   IMPL: subnetra (= bench/subnetra.sh) or a harness impl name (wireguard-go, nebula, tinc, ...)
#   -o OUTDIR   where to write (default bench/results/profile-<time>)
#   -w SECONDS  length of each measuring window (default 5)
#
# Not part of the benchmark table: tracing slows the daemons down. For each IMPL it brings up the
# harness's star + the VPN, starts `iperf3 -c 10.0.0.3` from s2 (long enough for all windows), and
# over the same stream measures, one window after the other:
#   1. /proc only (no tracing): utime/stime of every daemon, the underlay veth packet counters
#      of each namespace, /proc/stat -> %user / %sys per node, datagrams per node, throughput.
#   2. `perf stat -e raw_syscalls:sys_enter` per daemon (tracepoint count, little overhead)
#      -> system calls per underlay datagram on each node.
#   3. `strace -c -f -p PID` on the hub and on spoke s2 (ptrace: slows the daemon a lot, and a
#      slower daemon finds fuller batches, so the per-packet count is a lower bound) -> which
#      system calls, how many per datagram, % of traced time.
#   4. `perf record -e cpu-clock -g` on the hub (if perf sampling works) -> top symbols.
# "datagrams" of a node = packets received + sent on its underlay veth(s) in the window (a hub
# relaying one packet counts 2: in from s2, out to s3). Env: as bench/subnetra.sh (SN_BUILD, ...).
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
HARNESS=$(cd "${SN_BENCH_HARNESS:-$REPO/../shared/bench}" && pwd) || exit 1
. "$HARNESS/lib.sh"
export SN_BENCH_HARNESS=$HARNESS

OUT="" WIN=5
while getopts o:w: o; do case $o in o) OUT=$OPTARG ;; w) WIN=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '2,22p' "$0"; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"
OUT=${OUT:-$BENCH/results/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

IPERF_PIDS=()
CUR_SH=""
cleanup() {
  local p
  for p in "${IPERF_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  IPERF_PIDS=()
  [ -n "$CUR_SH" ] && "$CUR_SH" down >/dev/null 2>&1
  CUR_SH=""
  "$HARNESS/netns-star.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# counters FILE IMPL: daemon cpu ticks + veth counters + /proc/stat
counters() {
  local f=$1 st=$2 role pid ns
  {
    echo "t $(date +%s.%N)"
    head -1 /proc/stat
    while read -r role pid; do
      [ -r "/proc/$pid/stat" ] && echo "proc $role $pid $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f12,13)"
    done <"$st/pids"
    for ns in $NS_HUB $NS_S2 $NS_S3; do
      # dev NS IFACE rx_pkts tx_pkts rx_drop tx_drop
      nsx $ns awk -v ns=$ns 'NR>2 {gsub(":", " "); if ($1 ~ /^sn-/) print "dev", ns, $1, $3, $11, $5, $13}' /proc/net/dev
      echo "udp $ns $(nsx $ns awk '/^Udp:/{n++} /^Udp:/ && n==2 {print $2, $4, $6, $7}' /proc/net/snmp)"
    done
  } >"$f"
}

profile_one() {
  local impl=$1 sh st d role pid
  case $impl in
    subnetra) sh=$BENCH/subnetra.sh ;;
    */*) sh=$impl; impl=$(basename "$impl" .sh) ;;
    *) sh=$HARNESS/impl/$impl.sh ;;
  esac
  st=$SN_STATE/$impl
  d=$OUT/$impl; mkdir -p "$d"
  star_is_up && die "the harness star is up already (someone else benchmarking?): not touching it"
  "$HARNESS/netns-star.sh" up || die "star up failed"
  CUR_SH=$sh
  "$sh" up >"$d/up.log" 2>&1 || { cat "$d/up.log" >&2; die "$impl up failed"; }
  cp "$st/pids" "$d/pids"
  ip netns exec $NS_S3 iperf3 -s >/dev/null 2>&1 </dev/null & IPERF_PIDS+=($!)
  sleep 1
  sn_wait_ping $NS_S2 $OV_S3 20 || die "$impl: s2 -> s3 not reachable"
  local total=$((4 * WIN + 16))
  log "$impl: iperf3 s2->s3 for ${total}s"
  timeout $((total + 20)) ip netns exec $NS_S2 iperf3 -c $OV_S3 -t $total -i 1 -J >"$d/iperf.json" 2>"$d/iperf.err" &
  local ipc=$!
  sleep 3

  # 1. /proc only
  counters "$d/w1.before" "$st"; sleep "$WIN"; counters "$d/w1.after" "$st"
  # 2. perf stat syscall counts per daemon (all at once)
  local pp=()
  while read -r role pid; do
    timeout -s INT "$WIN" perf stat -e raw_syscalls:sys_enter -p "$pid" -x, -o "$d/perfstat.$role" \
      >/dev/null 2>&1 &
    pp+=($!)
  done <"$st/pids"
  counters "$d/w2.before" "$st"; wait "${pp[@]}"; counters "$d/w2.after" "$st"
  sleep 1
  # 3. strace -c on the hub and s2 (both at once)
  pp=()
  while read -r role pid; do
    case $role in hub|s2) ;; *) continue ;; esac
    timeout -s INT "$WIN" strace -c -f -p "$pid" -o "$d/strace.$role" >/dev/null 2>&1 &
    pp+=($!)
  done <"$st/pids"
  counters "$d/w3.before" "$st"; wait "${pp[@]}"; counters "$d/w3.after" "$st"
  sleep 1
  # 4. perf record on the hub (cpu-clock sampling, call graphs), if it works here
  pid=$(awk '$1=="hub" {print $2; exit}' "$st/pids")
  if [ -n "$pid" ]; then
    timeout -s INT "$WIN" perf record -q -e cpu-clock -F 999 -g -p "$pid" -o "$d/perf.hub.data" \
      >/dev/null 2>"$d/perf.hub.err"
    perf report -i "$d/perf.hub.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
      grep -v '^$' | grep -E '^ +[0-9]' | head -40 >"$d/perf.hub.top" || true
    perf report -i "$d/perf.hub.data" --no-children -g none --sort dso --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -15 >"$d/perf.hub.dso" || true
    rm -f "$d/perf.hub.data"
  fi
  wait $ipc 2>/dev/null
  cp "$st"/*.log "$d/" 2>/dev/null || true
  cleanup
  python3 "$BENCH/profile_report.py" "$d" | tee "$d/report.txt"
}

for i in "$@"; do profile_one "$i"; done
