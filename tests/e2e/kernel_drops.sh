#!/usr/bin/env bash
# Drops that happen in the kernel on the daemon's behalf are counted too:
# `rx_overflow` (the underlay socket's receive buffer was full, from
# SO_RXQ_OVFL) and `tun_queue` (the TUN device's queue to the daemon was
# full, its tx_dropped). Both must equal the kernel's own counters.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin kernel_drops

# a small receive buffer on spoke-b so a short burst overflows it
sed -i '/^plugins:/a\  options:\n    raw_direct: { rcvbuf: 65536 }' "$STAR_DIR/spoke-b.yaml"
e2e_start_all

drop_of() { snap "$1" "drops.$1" && jv "drops.$1" "drops.$2"; }  # NODE REASON
blast() { udp_send "$NS_LA" "$1:9" --pad "$2" --count "$3" ""; }  # DST SIZE COUNT, as fast as it can

echo "== rx_overflow: freeze spoke-b, send it a burst through the hub, thaw it"
kill -STOP "$(star_pid spoke-b)"
e2e_defer kill -CONT "$(star_pid spoke-b)"
blast 192.168.2.10 1000 3000
sleep 0.5 # the hub may still be relaying the tail of the burst
kill -CONT "$(star_pid spoke-b)"
star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "no traffic after the burst"
kernel=$(nsx "$NS_B" awk '/^Udp:/ {n++; if (n == 2) print $6}' /proc/net/snmp)
expect_ge "spoke-b: the kernel's RcvbufErrors (the burst overflowed the buffer)" "$kernel" 1
expect_eq "spoke-b: rx_overflow = the kernel's RcvbufErrors" "$(drop_of spoke-b rx_overflow)" "$kernel"

echo "== tun_queue: freeze spoke-a, let LAN host A flood it, thaw it"
kill -STOP "$(star_pid spoke-a)"
e2e_defer kill -CONT "$(star_pid spoke-a)"
blast 192.168.2.10 100 5000
kill -CONT "$(star_pid spoke-a)"
sleep 0.5
kernel=$(nsx "$NS_A" awk '/subnetra0:/ {sub(/.*:/, ""); print $12}' /proc/net/dev)
expect_ge "spoke-a: the kernel's TUN tx_dropped (the flood filled the queue)" "$kernel" 1
expect_eq "spoke-a: tun_queue = the kernel's TUN tx_dropped" "$(drop_of spoke-a tun_queue)" "$kernel"
sctl spoke-a metrics >"$T/a.prom" || fail "spoke-a: metrics"
expect_eq 'spoke-a: metrics subnetra_drops_total{reason="tun_queue"}' \
	"$("$PKT" metrics "$T/a.prom" 'subnetra_drops_total{reason="tun_queue"}')" "$kernel"
pass "kernel-side drops counted: rx_overflow and tun_queue equal the kernel's counters"
