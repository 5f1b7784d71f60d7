#!/usr/bin/env bash
# Drops that happen in the kernel on the daemon's behalf are counted too:
# `rx_overflow` (the underlay socket's receive buffer was full, from
# SO_RXQ_OVFL) and `tun_queue` (the TUN device's queue to the daemon was
# full, its tx_dropped). Both must equal the kernel's own counters.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root

export STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=kd$$
. "$SN_SRC/scripts/lib/star.sh"
T=$(mktemp -d /tmp/sn-kdrops.XXXXXX)
trap 'kill -CONT "$(star_pid spoke-b)" 2>/dev/null || true; star_down; rm -rf "$T"' EXIT
star_up
star_conf "$T/conf"
# a small receive buffer on spoke-b so a short burst overflows it
sed -i '/^plugins:/a\  options:\n    raw_direct: { rcvbuf: 65536 }' "$STAR_DIR/spoke-b.yaml"
star_start hub
for _ in $(seq 50); do [ -S "$STAR_DIR/run/hub.sock" ] && break; sleep 0.1; done
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || fail "no traffic"

drop_of() { # NODE REASON
	star_ctl "$1" --json status | python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$2'])"
}

blast() { # DST SIZE COUNT: UDP datagrams from LAN host A as fast as it can
	nsx "$NS_LA" timeout 20 python3 -c "import socket,sys; s=socket.socket(2,2); b=b'x'*$2
for _ in range($3): s.sendto(b, ('$1', 9))"
}

# 1. rx_overflow: freeze spoke-b, send it a burst through the hub, thaw it.
kill -STOP "$(star_pid spoke-b)"
blast 192.168.2.10 1000 3000
sleep 0.5 # the hub may still be relaying the tail of the burst
kill -CONT "$(star_pid spoke-b)"
star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "no traffic after the burst"
kernel=$(nsx "$NS_B" awk '/^Udp:/ {n++; if (n == 2) print $6}' /proc/net/snmp)
ours=$(drop_of spoke-b rx_overflow)
echo "spoke-b: kernel RcvbufErrors $kernel, subnetra rx_overflow $ours"
[ "$kernel" -gt 0 ] || fail "the burst did not overflow the socket buffer (test setup)"
[ "$ours" = "$kernel" ] || fail "rx_overflow $ours != kernel RcvbufErrors $kernel"

# 2. tun_queue: freeze spoke-a, let LAN host A flood it, thaw it.
kill -STOP "$(star_pid spoke-a)"
blast 192.168.2.10 100 5000
kill -CONT "$(star_pid spoke-a)"
sleep 0.5
kernel=$(nsx "$NS_A" awk '/subnetra0:/ {sub(/.*:/, ""); print $12}' /proc/net/dev)
ours=$(drop_of spoke-a tun_queue)
echo "spoke-a: kernel TUN tx_dropped $kernel, subnetra tun_queue $ours"
[ "$kernel" -gt 0 ] || fail "the flood did not fill the TUN queue (test setup)"
[ "$ours" = "$kernel" ] || fail "tun_queue $ours != kernel tx_dropped $kernel"
metrics=$(star_ctl spoke-a metrics)
grep -q "^subnetra_drops_total{reason=\"tun_queue\"} $ours\$" <<<"$metrics" ||
	fail "metrics do not show tun_queue $ours"
pass "kernel-side drops counted: rx_overflow and tun_queue equal the kernel's counters"
