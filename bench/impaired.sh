#!/usr/bin/env bash
# bench/impaired.sh — the egresses on an impaired star: random loss and 20 ms of round trip.
#
# Usage: bench/impaired.sh [-n ROUNDS] [--only "LIST"] [--loss "0 1 3 5"] [--delay-ms MS]
#                          [--loss-links "s2"] [--relay-rt P] [--duration S] [--cc NAME]
#                          [--no-build] [-o OUTDIR]
#        bench/impaired.sh --relay-ceiling [-o OUTDIR]     the delay relay's own ceiling
#   -n ROUNDS       rounds, the variants interleaved in each (default 3)
#   --only LIST     variants to run (default all): raw_direct fec_xor-k4 fec_xor-k10 kcp_arq
#                   wireguard-go. A Subnetra egress whose plugin file is not in
#                   $SN_BUILD/plugins (egress_<name>.so) is skipped, its column "not built".
#   --loss LIST     underlay loss levels in % (default "0 1 3 5"; decimals allowed)
#   --delay-ms MS   one-way delay the relay adds on each spoke's link, each direction
#                   (default 5: s2->s3 through the hub crosses two links, 4 x 5 = 20 ms RTT)
#   --loss-links L  the links that lose (default "s2"; "s2 s3" for both): each drops LOSS % of
#                   the underlay datagrams in each direction, so the s2->s3 path loses LOSS %
#                   one way with the default (about 2 x LOSS % with both)
#   --relay-rt P    the relays' SCHED_FIFO priority (default 10; 0: an ordinary process). A link
#                   does not wait for a CPU: at real-time priority the relays keep their delay
#                   and lose nothing on the loaded 2-core machine (they still take their CPU)
#   --duration S    seconds per TCP and per UDP test (default 10)
#   --cc NAME       the TCP test's congestion control (iperf3 -C; default the system's, which
#                   machine.txt and every JSON line name: loss-based cubic and BBR differ most)
#   --no-build      use $SN_BUILD as it is (default: configure Release + build if needed)
#   -o OUTDIR       results directory (default bench/results/impaired-<date-time>)
#
# The star is the shared harness's (netns-star.sh, its sn-hub/sn-s2/sn-s3 namespaces), taken with
# bench/run.sh's lock /tmp/sn-bench.run.lock (waits for it). On each spoke: sn-delayrelay
# (tests/tools/delayrelay) on 127.0.0.1:51821 forwarding to the hub's underlay address; the
# spoke's hub endpoint is the relay (Subnetra: SN_HUB_ENDPOINT_S2/S3 of bench/subnetra.sh;
# wireguard-go: `wg set ... endpoint` after its up). Loss: nftables tables sn_impair,
# `numgen random mod 10000 < 100 x LOSS` drop rules on what a lossy link's relay sends (at the
# hub's input from the link, at the spoke's input from the relay on lo; see set_loss), with
# counters: the measured drop rate is kept.
# Per variant and round the VPN comes up once and the loss levels run in turn:
#   ping     500 pings s2->s3 at 10 ms: loss (round trip) and p50/p99 RTT
#   udp      iperf3 -u 10 Mbit/s, 1000-byte datagrams, S s, s2->s3: inner loss (one way)
#   tcp      iperf3 1 stream s2->s3, S s: goodput, retransmits; daemon CPU-s (utime+stime
#            of the three daemons) per Gbit moved, and the relays' CPU-s
# Output: OUTDIR/results.jsonl (one line per variant, round, loss), OUTDIR/table.md (medians,
# bench/impaired_table.py), OUTDIR/machine.txt, OUTDIR/runs/<variant>-r<N>/ (raw files).
#
# Env: SN_BUILD (default <repo>/build-bench), SN_BENCH_HARNESS (default <repo>/../shared/bench),
#   SN_FEC_XOR_OPTS (more fec_xor options for both fec columns, e.g. "interleave: 2"),
#   SN_KCP_ARQ_OPTS (kcp_arq's options, default "over: raw_direct"), SN_RAW_DIRECT_OPTS,
#   SN_CRYPTO (bench/subnetra.sh), SN_LOCK_WAIT (seconds to wait for the lock, default 3600).
# Needs root, nft, iperf3, ping; wireguard-go for its column. Removes everything it made on exit.
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
HARNESS=$(cd "${SN_BENCH_HARNESS:-$REPO/../shared/bench}" 2>/dev/null && pwd) ||
  { echo "error: harness not found (set SN_BENCH_HARNESS)" >&2; exit 1; }
export SN_BENCH_HARNESS=$HARNESS
export SN_BUILD=${SN_BUILD:-$REPO/build-bench}
. "$HARNESS/lib.sh"

ALL="raw_direct fec_xor-k4 fec_xor-k10 kcp_arq wireguard-go"
N=3 ONLY=$ALL LOSS="0 1 3 5" DELAY=5 LOSS_LINKS="s2" DUR=10 BUILD=1 OUT="" CEILING=0 RELAY_RT=10 CC=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --loss) LOSS=$2; shift 2 ;;
    --delay-ms) DELAY=$2; shift 2 ;;
    --loss-links) LOSS_LINKS=$2; shift 2 ;;
    --relay-rt) RELAY_RT=$2; [ "$RELAY_RT" != 0 ] || RELAY_RT=""; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    --cc) CC=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --relay-ceiling) CEILING=1; shift ;;
    -o) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for t in nft iperf3 ping flock; do command -v $t >/dev/null || die "$t missing"; done
for v in $ONLY; do [[ " $ALL " == *" $v "* ]] || die "unknown variant $v (known: $ALL)"; done
for l in $LOSS_LINKS; do [[ $l == s2 || $l == s3 ]] || die "--loss-links: $l is not s2 or s3"; done

RELAY_PORT=51821   # the relay on each spoke (127.0.0.1)
RELAY_UP=51822     # the relay's own socket towards the hub
PORT=51820
DR=$SN_BUILD/tests/sn-delayrelay
OUT=${OUT:-$BENCH/results/impaired-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/runs"
RELAY_PIDS=() IPERF_PIDS=() IMPL_SH="" CUR="" KEEP=""

# --- build -----------------------------------------------------------------------------------
if [ $BUILD = 1 ]; then
  { [ -f "$SN_BUILD/CMakeCache.txt" ] ||
      cmake -S "$REPO" -B "$SN_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null; } &&
    cmake --build "$SN_BUILD" -j2 >"$OUT/build.log" 2>&1 ||
    { tail -20 "$OUT/build.log" >&2; die "build failed (log: $OUT/build.log)"; }
fi
[ -x "$DR" ] || die "$DR missing (build the tree)"
[ -x "$SN_BUILD/subnetrad" ] || die "$SN_BUILD/subnetrad missing"

# --- cleanup: relays, iperf3, the VPN, the star ------------------------------------------------
cleanup() {
  local p
  for p in "${IPERF_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  stop_relays
  [ -z "$IMPL_SH" ] || SN_KEEP_LOGS=$KEEP "$IMPL_SH" down >/dev/null 2>&1
  IMPL_SH=""
  if star_is_up && [ -n "$CUR" ]; then
    for ns in $NS_HUB $NS_S2 $NS_S3; do nsx $ns nft delete table ip sn_impair 2>/dev/null; done
    "$HARNESS/netns-star.sh" down >/dev/null 2>&1
  fi
  CUR=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_relays() {
  local p
  for p in "${RELAY_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${RELAY_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  RELAY_PIDS=()
}

# --- the lock and the star ----------------------------------------------------------------------
exec 9>/tmp/sn-bench.run.lock
if ! flock -n 9; then
  log "waiting for /tmp/sn-bench.run.lock (another benchmark)"
  flock -w "${SN_LOCK_WAIT:-3600}" 9 || die "the benchmark lock stayed taken"
fi
. "$BENCH/star_free.sh"   # wait_star_free
star_up() {
  wait_star_free || die "the star stayed busy"
  CUR=star
  "$HARNESS/netns-star.sh" up >/dev/null || die "star up failed"
}

spoke_ns() { [ "$1" = s2 ] && echo $NS_S2 || echo $NS_S3; }
hub_ul() { [ "$1" = s2 ] && echo $UL_HUB2 || echo $UL_HUB3; }
hub_dev() { echo "sn-hs${1#s}"; }   # the hub's end of the spoke's link (netns-star.sh)

# relays_up DIR: one delay relay per spoke, 127.0.0.1:51821 -> the hub's underlay address
relays_up() {
  local dir=$1 s
  for s in s2 s3; do
    rm -f "$dir/relay-$s.ready"
    ip netns exec "$(spoke_ns $s)" ${RELAY_RT:+chrt -f "$RELAY_RT"} "$DR" relay --listen 127.0.0.1:$RELAY_PORT \
      --to "$(hub_ul $s):$PORT" --bind 0.0.0.0:$RELAY_UP --clients "${RELAY_CLIENTS:-1}" --delay-ms "$DELAY" \
      --ready "$dir/relay-$s.ready" \
      --stats "$dir/relay-$s.json" </dev/null >"$dir/relay-$s.log" 2>&1 9>&- &
    RELAY_PIDS+=($!)
    echo "relay-$s $!" >>"$dir/relay.pids"
  done
  for s in s2 s3; do sn_wait_file "$dir/relay-$s.ready" 5 || die "the delay relay on $s did not start"; done
}

# block_direct: from now on the only way between a spoke and the hub is its relay: the hub's
# datagrams to any other port of the spoke are dropped (else wireguard-go roams back to the
# direct path as soon as the hub sends to its old endpoint)
block_direct() {
  local s
  for s in s2 s3; do
    nsx "$(spoke_ns $s)" nft -f - <<EOF || die "nft: cannot block the direct path on $s"
table ip sn_impair {
  chain direct {
    type filter hook input priority -20; policy accept;
    iifname "sn-u" udp sport $PORT udp dport != $RELAY_UP counter drop comment "direct"
  }
}
EOF
  done
}

# path_check: the relays are in the path: s2->s3 takes at least 4 x the per-link delay
path_check() {
  local min
  min=$(nsx $NS_S2 ping -n -q -c 5 -i 0.05 -W 1 $OV_S3 2>/dev/null | sed -n 's|.* = \([0-9.]*\)/.*|\1|p')
  awk -v m="${min:-0}" -v d="$DELAY" 'BEGIN { exit !(m >= 4 * d * 0.95) }' ||
    { log "  s2->s3 min RTT ${min:-none} ms < 4 x $DELAY ms: a relay is not in the path"; return 1; }
}

# set_loss PCT: the sn_impair tables of the lossy links, replaced. Each drops what the relay
# sent, datagram by datagram: up (relay -> hub) at the hub's input from that link, down (relay
# -> the spoke's daemon) at the spoke's input from lo. Never on an output hook: there a drop is
# an error of the relay's sendmmsg, which sends the rest again (a retransmission), and never
# before the relay: a VPN's GSO batch would be one packet to nftables, dropped whole.
set_loss() {
  local pct=$1 s thr
  thr=$(awk -v p="$pct" 'BEGIN { printf "%d", p * 100 + 0.5 }')
  for s in $LOSS_LINKS; do
    loss_table $NS_HUB "iifname \"$(hub_dev $s)\" udp dport $PORT" "$thr" "up $s"
    loss_table "$(spoke_ns $s)" "iifname \"lo\" udp sport $RELAY_PORT" "$thr" "down $s"
  done
}

# loss_table NS MATCH THRESHOLD NAME: chain NAME in NS's table sn_impair, counting and dropping
loss_table() {
  local ns=$1 match=$2 thr=$3 name=${4// /_}
  nsx "$ns" nft list chain ip sn_impair "$name" >/dev/null 2>&1 &&
    nsx "$ns" nft delete chain ip sn_impair "$name"
  nsx "$ns" nft -f - <<EOF || die "nft: cannot add the loss rules in $ns"
table ip sn_impair {
  chain $name {
    type filter hook input priority -10; policy accept;
    $match counter comment "all"
    $match numgen random mod 10000 < $thr counter drop comment "dropped"
  }
}
EOF
}

# loss_counts: "all dropped" summed over the lossy links and both directions
loss_counts() {
  local ns
  for ns in $NS_HUB $NS_S2 $NS_S3; do nsx "$ns" nft list table ip sn_impair 2>/dev/null; done |
    awk '/counter packets/ && !/"direct"/ { for (i = 1; i <= NF; i++) if ($i == "packets") n = $(i + 1)
           if ($0 ~ /dropped/) d += n; else a += n }
         END { print a + 0, d + 0 }'
}

# impl_up VARIANT DIR: the VPN on the star, its spokes talking to the relays
impl_up() {
  local v=$1 dir=$2 n
  case $v in
    wireguard-go)
      IMPL_SH=$HARNESS/impl/wireguard-go.sh
      "$IMPL_SH" up >"$dir/impl-up.log" 2>&1 || return 1
      for n in s2 s3; do
        nsx "$(spoke_ns $n)" wg set snwg-$n peer "$(cat "$SN_STATE/wireguard-go/hub.pub")" \
          endpoint 127.0.0.1:$RELAY_PORT || return 1
      done
      PIDFILE=$SN_STATE/wireguard-go/pids ;;
    *)
      IMPL_SH=$BENCH/subnetra.sh
      local egress=${v%%-*} opts=""
      case $v in
        fec_xor-k*) opts="over: raw_direct, k: ${v#fec_xor-k}${SN_FEC_XOR_OPTS:+, $SN_FEC_XOR_OPTS}" ;;
        kcp_arq) opts=${SN_KCP_ARQ_OPTS:-over: raw_direct} ;;
      esac
      SN_EGRESS=$egress SN_EGRESS_OPTS=$opts \
        SN_HUB_ENDPOINT_S2=127.0.0.1:$RELAY_PORT SN_HUB_ENDPOINT_S3=127.0.0.1:$RELAY_PORT \
        "$IMPL_SH" up >"$dir/impl-up.log" 2>&1 || return 1
      PIDFILE=$SN_STATE/subnetra/pids ;;
  esac
  block_direct
  wait_both && path_check
}

# wait_both: s2 and s3 reach each other (both ping, so both send through their relays and the
# hub learns both new endpoints), 30 s at most
wait_both() {
  local i
  for i in $(seq 30); do
    nsx $NS_S3 ping -c1 -W1 -q $OV_S2 >/dev/null 2>&1 &&
      nsx $NS_S2 ping -c1 -W1 -q $OV_S3 >/dev/null 2>&1 && return 0
  done
  log "  s2 and s3 do not reach each other through the relays"
  return 1
}

# cpu_of PIDFILE: utime + stime of its processes, in clock ticks
cpu_of() {
  local role pid t=0 f
  while read -r role pid; do
    [ -r "/proc/$pid/stat" ] || continue
    f=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f12,13)
    t=$((t + ${f% *} + ${f#* }))
  done <"$1"
  echo $t
}

# measure VARIANT ROUND LOSS DIR: one loss level; appends a JSON line to results.jsonl
measure() {
  local v=$1 r=$2 loss=$3 dir=$4 p=$4/loss-$3 c0 c1 rc0 rc1 l0 l1
  set_loss "$loss"
  sleep 1
  read -r -a l0 <<<"$(loss_counts)"
  timeout 30 ip netns exec $NS_S2 ping -n -c 500 -i 0.01 -W 1 $OV_S3 >"$p.ping" 2>&1
  # twice at most: iperf3 3.12 waits forever when its first UDP datagram or the answer is lost
  for _ in 1 2; do
    timeout $((DUR + 20)) ip netns exec $NS_S2 iperf3 -c $OV_S3 -u -b 10M -l 1000 -t "$DUR" -J \
      >"$p.udp.json" 2>"$p.udp.err" && break
    log "  the UDP test failed ($(grep -o '"error":.*' "$p.udp.json" | head -1)); again"
  done
  sleep 1
  c0=$(cpu_of "$PIDFILE") rc0=$(cpu_of "$dir/relay.pids")
  timeout $((DUR + 20)) ip netns exec $NS_S2 iperf3 -c $OV_S3 -t "$DUR" ${CC:+-C "$CC"} -J \
    >"$p.tcp.json" 2>"$p.tcp.err"
  c1=$(cpu_of "$PIDFILE") rc1=$(cpu_of "$dir/relay.pids")
  read -r -a l1 <<<"$(loss_counts)"
  python3 "$BENCH/impaired_table.py" --one "$p" --variant "$v" --round "$r" --loss "$loss" \
    --cpu-ticks $((c1 - c0)) --relay-ticks $((rc1 - rc0)) --clk "$(getconf CLK_TCK)" \
    --underlay $((l1[0] - l0[0])) $((l1[1] - l0[1])) --delay-ms "$DELAY" \
    --loss-links "$LOSS_LINKS" >>"$OUT/results.jsonl" ||
    log "  could not read the results of $v round $r loss $loss ($p.*)"
  tail -1 "$OUT/results.jsonl" >&2
}

available() {   # VARIANT: built / installed?
  case $1 in
    wireguard-go) command -v wireguard-go >/dev/null && command -v wg >/dev/null ;;
    *) [ -f "$SN_BUILD/plugins/egress_${1%%-*}.so" ] ;;
  esac
}

one() {   # VARIANT ROUND
  local v=$1 r=$2 dir=$OUT/runs/$1-r$2 loss
  rm -rf "$dir"; mkdir -p "$dir"
  KEEP=$dir/daemon
  log "round $r/$N: $v (load $(cut -d' ' -f1 /proc/loadavg))"
  star_up
  relays_up "$dir"
  set_loss 0
  impl_up "$v" "$dir" || { tail -20 "$dir/impl-up.log" >&2; log "  $v did not come up"; cleanup; return 1; }
  ip netns exec $NS_S3 iperf3 -s >/dev/null 2>&1 </dev/null 9>&- & IPERF_PIDS+=($!)
  sleep 1
  timeout 10 ip netns exec $NS_S2 iperf3 -c $OV_S3 -t 1 >/dev/null 2>&1   # warm-up
  for loss in $LOSS; do measure "$v" "$r" "$loss" "$dir"; done
  cleanup
  IPERF_PIDS=()
}

# --- the relay's ceiling --------------------------------------------------------------------
# blast (s2) -> the relay on s2 -> sink (the hub's underlay address), 1400-byte datagrams, 5 ms;
# paced at 0.5 and 1 Gbit/s, then as fast as blast goes. The relay's own CPU time gives its
# rate per CPU-second, which the other processes on the two cores move little.
ceiling() {
  local dir=$OUT/ceiling rate sp c0 c1
  mkdir -p "$dir"
  star_up
  RELAY_CLIENTS=3 relays_up "$dir"   # each blast is a client of its own
  for rate in 44643 89286 0; do
    rm -f "$dir/sink.ready"
    ip netns exec $NS_HUB "$DR" sink --listen $UL_HUB2:$PORT --secs 30 --idle 2 \
      --ready "$dir/sink.ready" --out "$dir/sink-$rate.json" 9>&- &
    sp=$!
    sn_wait_file "$dir/sink.ready" 5 || die "the sink did not start"
    c0=$(cpu_of <(head -1 "$dir/relay.pids"))
    ip netns exec $NS_S2 "$DR" blast --to 127.0.0.1:$RELAY_PORT --size 1400 --rate $rate \
      --secs 5 --out "$dir/blast-$rate.json" 9>&-
    wait $sp
    c1=$(cpu_of <(head -1 "$dir/relay.pids"))
    python3 - "$dir/blast-$rate.json" "$dir/sink-$rate.json" $((c1 - c0)) "$(getconf CLK_TCK)" <<'EOF'
import json, sys
b, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cpu = int(sys.argv[3]) / int(sys.argv[4])
per = s["received"] / cpu if cpu else 0
print(f"offered {b['gbit_s']:.3f} Gbit/s ({b['pkt_s']:.0f}/s): sink {s['gbit_s']:.3f} Gbit/s, "
      f"{100.0 * s['received'] / b['sent']:.2f} % of {b['sent']} arrived, one-way delay "
      f"p50 {s['delay_us']['p50'] / 1e3:.2f} ms p99 {s['delay_us']['p99'] / 1e3:.2f} ms; "
      f"relay CPU {cpu:.2f} s: {per / 1e3:.0f} kpkt per CPU-s = {per * 1400 * 8 / 1e9:.2f} Gbit/s "
      f"on one core")
EOF
  done | tee "$dir/ceiling.txt"
  stop_relays
  echo "relay s2: $(cat "$dir/relay-s2.json")" | tee -a "$dir/ceiling.txt"
  cleanup
}

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "repo: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) ($(git -C "$REPO" status --porcelain 2>/dev/null | wc -l) changed files)"
  echo "build: $SN_BUILD; plugins: $(cd "$SN_BUILD/plugins" && ls egress_*.so 2>/dev/null | tr '\n' ' ')"
  echo "wireguard-go: $(wireguard-go --version 2>&1 | head -1)"
  echo "rounds $N; variants $ONLY; loss $LOSS % on $LOSS_LINKS; delay ${DELAY} ms per link and direction; ${DUR} s per test; relays at SCHED_FIFO ${RELAY_RT:-off}; TCP congestion control ${CC:-$(sysctl -n net.ipv4.tcp_congestion_control) (the system default)}"
  echo "SN_FEC_XOR_OPTS=${SN_FEC_XOR_OPTS:-} SN_KCP_ARQ_OPTS=${SN_KCP_ARQ_OPTS:-} SN_RAW_DIRECT_OPTS=${SN_RAW_DIRECT_OPTS:-} SN_CRYPTO=${SN_CRYPTO:-}"
} >>"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

if [ $CEILING = 1 ]; then ceiling; exit 0; fi

RUNNABLE="" MISSING=""
for v in $ONLY; do
  if available "$v"; then RUNNABLE="$RUNNABLE $v"; else MISSING="$MISSING $v"; fi
done
[ -z "$MISSING" ] || log "not built (skipped):$MISSING"
T0=$(date +%s)
for r in $(seq "$N"); do
  for v in $RUNNABLE; do one "$v" "$r" || log "  $v round $r failed"; done
done
log "done in $(( $(date +%s) - T0 )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
{
  echo "# Impaired star — $(date -Is)"
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  python3 "$BENCH/impaired_table.py" --table "$OUT/results.jsonl" --variants "$ONLY" \
    --missing "$MISSING" --loss "$LOSS"
} >"$OUT/table.md"
cat "$OUT/table.md"
log "results in $OUT"
