#!/usr/bin/env bash
# bench/subnetra.sh — Subnetra hub-and-spoke on the shared benchmark harness's star.
# Usage: bench/subnetra.sh up|down      (needs the harness's `netns-star.sh up` first;
#        normally called by `run-bench.sh /path/to/bench/subnetra.sh`, see bench/run.sh)
#
# Same shape as the harness's impl/*.sh: sources its lib.sh, starts each daemon with sn_spawn
# (PIDs in $SN_STATE/subnetra/pids), answers up and down.
#
# Cipher: ChaCha20-Poly1305 (the daemon's default crypto plugin unless SN_CRYPTO names one), static
# Curve25519 keys made at runtime with the built `subnetra genkey` / `subnetra pubkey`. Underlay: egress raw_direct (one UDP socket,
# recvmmsg/sendmmsg; or $SN_EGRESS). OS: os_linux (TUN, IFF_TUN|IFF_NO_PI).
# hub (sn-hub, id 1, TUN subnetra0 10.0.0.1/24, listen 0.0.0.0:51820): peers s2 (id 2, 10.0.0.2)
#     and s3 (id 3, 10.0.0.3), no endpoints (learnt from the spokes' traffic).
# Relay = in the hub daemon itself: a datagram from s2 for 10.0.0.3 is opened, looked up in the
#     policy table and resealed for s3 in userspace; the hub kernel does not route it (unlike
#     wireguard-go / fastd / tinc / openvpn here, which go through the hub's TUN + ip_forward).
# spokes (sn-s2 id 2 / sn-s3 id 3, TUN subnetra0 10.0.0.x/24): one peer, the hub, endpoint
#     172.31.2.1:51820 / 172.31.3.1:51820, keepalive 25 s. The overlay subnet routes to the hub.
# Overlay MTU $OV_MTU (default 1400) on all three, like the peers.
#
# Environment:
#   SN_BUILD           build dir with subnetrad, subnetra, plugins/ (default <repo>/build)
#   SN_BENCH_HARNESS   the harness dir holding lib.sh (default <repo>/../shared/bench)
#   SN_RAW_DIRECT_OPTS extra raw_direct options as a YAML flow map body, e.g.
#                      "rcvbuf: 8388608, sndbuf: 8388608" (default: the plugin's defaults, 4 MiB)
#   SN_EGRESS          plugins.egress of all three nodes (default raw_direct), e.g. fec_xor
#   SN_EGRESS_OPTS     that egress's options (not raw_direct's: SN_RAW_DIRECT_OPTS), a YAML
#                      flow map body, e.g. "over: raw_direct, k: 4" for SN_EGRESS=fec_xor
#   SN_HUB_ENDPOINT_S2, SN_HUB_ENDPOINT_S3  the hub endpoint in s2's / s3's config (default
#                      172.31.2.1:51820 / 172.31.3.1:51820), e.g. a delay relay's (bench/impaired.sh)
#   SN_OS_LINUX_OPTS   extra os_linux options, e.g. "txqueuelen: 100" or "offload: false"
#                      (default: the plugin's: offloads on, the queue length following the traffic)
#   SN_AQM             the aqm value of every node, e.g. "off" or "{ target_ms: 1, interval_ms: 20 }"
#                      (default: none written, the daemon's default CoDel 5 ms / 100 ms)
#   SN_SLICE_US        node.slice_us of every node, e.g. 0 for the kernel's own time slice
#                      (default: none written, the daemon's default)
#   SN_CRYPTO          plugins.crypto of all three nodes, e.g. chacha (default: unset, the
#                      daemon's default)
#   SN_TRACE           1: also trace where the ping waits (bench/trace_report.py reads it): tcpdump
#                      of the ICMP on s2's and s3's TUN (each way's one-way delay), each daemon's
#                      SUBNETRA_PING_TRACE notes (when each echo arrived and was handled), and
#                      bench/trace_sample.py (schedstat of the daemons' threads, their sockets'
#                      queues, the TUN drops, the sojourn histograms); saved in
#                      SN_KEEP_LOGS/trace on `down`. A packet tap costs a little on each TUN:
#                      compare throughput only between runs with the same SN_TRACE.
#   SN_KEEP_LOGS       on `down`, save each node's `subnetra status` (+ --json), log and config there
#   SN_DAEMON_ARGS     extra subnetrad arguments (e.g. -q)
#   SN_RT_PRIORITY     node.rt_priority of every node (SCHED_FIFO for the packet thread), e.g. 10
#                      (default: none written, the daemon's default 0)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${SN_BENCH_HARNESS:-$REPO/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || { echo "error: harness lib.sh not found in $HARNESS (set SN_BENCH_HARNESS)" >&2; exit 1; }
HARNESS=$(cd "$HARNESS" && pwd)
. "$HARNESS/lib.sh"
BUILD=${SN_BUILD:-$REPO/build}
ST=$SN_STATE/subnetra      # run-bench.sh looks for $SN_STATE/<basename of this script>/pids
PORT=51820
IFNAME=subnetra0

# node NAME: the three per-node fields used below
node_ns() { case $1 in hub) echo $NS_HUB ;; s2) echo $NS_S2 ;; s3) echo $NS_S3 ;; esac; }

EGRESS=${SN_EGRESS:-raw_direct}
[ -z "${SN_EGRESS_OPTS:-}" ] || [ "$EGRESS" != raw_direct ] ||
  die "SN_EGRESS_OPTS is for SN_EGRESS other than raw_direct (raw_direct's: SN_RAW_DIRECT_OPTS)"

plugins_block() {
  echo "plugins:"
  echo "  os: linux"
  [ -z "${SN_CRYPTO:-}" ] || echo "  crypto: $SN_CRYPTO"
  echo "  egress: $EGRESS"
  echo "  directory: $BUILD/plugins"
  if [ -n "${SN_RAW_DIRECT_OPTS:-}${SN_OS_LINUX_OPTS:-}${SN_EGRESS_OPTS:-}" ]; then
    echo "  options:"
    [ -z "${SN_EGRESS_OPTS:-}" ] || echo "    $EGRESS: { $SN_EGRESS_OPTS }"
    [ -z "${SN_RAW_DIRECT_OPTS:-}" ] || echo "    raw_direct: { $SN_RAW_DIRECT_OPTS }"
    [ -z "${SN_OS_LINUX_OPTS:-}" ] || echo "    linux: { $SN_OS_LINUX_OPTS }"
  fi
}

aqm_line() { [ -z "${SN_AQM:-}" ] || echo "aqm: $SN_AQM"; }
slice_line() {
  [ -z "${SN_SLICE_US:-}" ] || echo "  slice_us: $SN_SLICE_US"
  [ -z "${SN_RT_PRIORITY:-}" ] || echo "  rt_priority: $SN_RT_PRIORITY"
}

write_hub() {
  cat >"$ST/hub.yaml" <<EOF
# generated by bench/subnetra.sh
node:
  id: 1
  role: hub
  private_key_file: $ST/hub.key
  listen: "0.0.0.0:$PORT"
  state_dir: $ST/state/hub
$(slice_line)

overlay:
  subnet: 10.0.0.0/$OV_PREFIX
  address: $OV_HUB
  mtu: $OV_MTU
  interface: $IFNAME

$(plugins_block)

peers:
  - id: 2
    name: s2
    public_key: $(cat "$ST/s2.pub")
    address: $OV_S2
  - id: 3
    name: s3
    public_key: $(cat "$ST/s3.pub")
    address: $OV_S3

keepalive: 25
$(aqm_line)

control:
  socket: $ST/hub.sock
EOF
}

write_spoke() {   # NAME ID ADDRESS HUB_ENDPOINT
  local n=$1 id=$2 addr=$3 hubep=$4
  cat >"$ST/$n.yaml" <<EOF
# generated by bench/subnetra.sh
node:
  id: $id
  role: spoke
  private_key_file: $ST/$n.key
  state_dir: $ST/state/$n
$(slice_line)

overlay:
  subnet: 10.0.0.0/$OV_PREFIX
  address: $addr
  mtu: $OV_MTU
  interface: $IFNAME

$(plugins_block)

hub:
  id: 1
  name: hub
  public_key: $(cat "$ST/hub.pub")
  endpoint: $hubep
  address: $OV_HUB

keepalive: 25
$(aqm_line)

control:
  socket: $ST/$n.sock
EOF
}

up() {
  star_is_up || die "star is not up"
  [ -x "$BUILD/subnetrad" ] || die "$BUILD/subnetrad not built (set SN_BUILD or build first)"
  [ -x "$BUILD/subnetra" ] || die "$BUILD/subnetra not built"
  [ -d "$BUILD/plugins" ] || die "$BUILD/plugins missing"
  rm -rf "$ST"; mkdir -p "$ST/state"; chmod 700 "$ST"; : >"$ST/pids"
  local n
  for n in hub s2 s3; do
    (umask 077; "$BUILD/subnetra" genkey >"$ST/$n.key")
    chmod 600 "$ST/$n.key"
    "$BUILD/subnetra" pubkey <"$ST/$n.key" >"$ST/$n.pub"
    [ -s "$ST/$n.pub" ] || die "subnetra pubkey failed for $n"
    mkdir -p "$ST/state/$n"; chmod 700 "$ST/state/$n"
  done
  write_hub
  write_spoke s2 2 $OV_S2 "${SN_HUB_ENDPOINT_S2:-$UL_HUB2:$PORT}"
  write_spoke s3 3 $OV_S3 "${SN_HUB_ENDPOINT_S3:-$UL_HUB3:$PORT}"

  # shellcheck disable=SC2086
  [ "${SN_TRACE:-}" != 1 ] || mkdir -p "$ST/trace"
  for n in hub s2 s3; do
    [ "${SN_TRACE:-}" != 1 ] || export SUBNETRA_PING_TRACE=$ST/trace/$n.ping
    sn_spawn "$ST" $n "$(node_ns $n)" "$BUILD/subnetrad" -c "$ST/$n.yaml" \
      --plugin-dir "$BUILD/plugins" ${SN_DAEMON_ARGS:-}
    [ $n = hub ] && sleep 0.3   # the hub first, so the spokes' first datagrams find it
  done

  # wait for the TUN devices (the daemon configures address, MTU and link state itself)
  local ok
  for n in hub s2 s3; do
    ok=0
    for _ in $(seq 100); do
      if ip -n "$(node_ns $n)" link show $IFNAME 2>/dev/null | grep -q 'UP'; then ok=1; break; fi
      if ! kill -0 "$(awk -v r=$n '$1==r {print $2}' "$ST/pids")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    [ $ok = 1 ] || { cat "$ST/$n.log" >&2; die "subnetrad $n did not bring up $IFNAME"; }
  done

  sn_wait_ping $NS_S2 $OV_HUB 20 || { tail -20 "$ST"/*.log >&2; die "s2 cannot reach hub over subnetra"; }
  sn_wait_ping $NS_S3 $OV_HUB 20 || { tail -20 "$ST"/*.log >&2; die "s3 cannot reach hub over subnetra"; }
  sn_wait_ping $NS_S2 $OV_S3 20 || { tail -20 "$ST"/*.log >&2; die "s2 cannot reach s3 over subnetra"; }
  [ "${SN_TRACE:-}" != 1 ] || trace_start
}

# The ping's packets at both ends: ICMP on the TUN devices of s2 and s3, nanosecond timestamps,
# -U so that a stop loses nothing. (Not on the underlay: with UDP GSO a ping's datagram may be
# the short last segment of a super-datagram, which a capture filter cannot pick out.)
TRACE_POINTS="s2 s3"
trace_start() {
  local n
  mkdir -p "$ST/trace"
  for n in $TRACE_POINTS; do
    ip netns exec "$(node_ns $n)" tcpdump -i $IFNAME -s 96 -U -n -B 4096 \
      --time-stamp-precision=nano -w "$ST/trace/$n-$IFNAME.pcap" icmp >"$ST/trace/$n.log" 2>&1 &
    echo $! >>"$ST/trace/pids"
  done
  /usr/bin/python3 "$REPO/bench/trace_sample.py" "$ST" "$BUILD/subnetra" "$ST/trace/samples.jsonl" \
    >"$ST/trace/sampler.log" 2>&1 &
  echo $! >>"$ST/trace/pids"
  sleep 1   # tcpdump opens its socket
}

trace_stop() {   # KEEP_DIR
  local p n
  [ -f "$ST/trace/pids" ] || return 0
  for n in hub s2 s3; do   # the kernel's queue in front of each TUN: does it ever hold packets?
    ip netns exec "$(node_ns $n)" tc -s qdisc show dev $IFNAME >"$ST/trace/$n.qdisc" 2>&1 || true
  done
  while read -r p; do kill -INT "$p" 2>/dev/null || true; done <"$ST/trace/pids"
  sleep 1
  while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$ST/trace/pids"
  [ -z "$1" ] || cp -r "$ST/trace" "$1/"
}

down() {
  # keep the daemons' logs next to the last run's results if asked (run.sh does)
  # (and each node's `subnetra status`: counters and drops by reason, while the daemons still run)
  local keep=${SN_KEEP_LOGS:-} n
  [ -z "$keep" ] || mkdir -p "$keep"
  trace_stop "$keep"
  if [ -n "$keep" ] && [ -d "$ST" ]; then
    for n in hub s2 s3; do
      [ -S "$ST/$n.sock" ] || continue
      timeout 5 "$BUILD/subnetra" -s "$ST/$n.sock" status >"$keep/$n.status" 2>&1 || true
      timeout 5 "$BUILD/subnetra" -s "$ST/$n.sock" --json status >"$keep/$n.status.json" 2>&1 || true
    done
  fi
  sn_kill_all "$ST"
  # the daemons write their SUBNETRA_PING_TRACE notes as they exit
  [ -z "$keep" ] || [ ! -d "$keep/trace" ] || cp "$ST"/trace/*.ping "$keep/trace/" 2>/dev/null || true
  # logs after the daemons exited, so that shutdown messages are in them
  [ -z "$keep" ] || cp "$ST"/*.log "$ST"/*.yaml "$keep"/ 2>/dev/null || true
  rm -rf "$ST"
}

case ${1:-} in up) up ;; down) down ;; *) echo "usage: $0 up|down" >&2; exit 2 ;; esac
