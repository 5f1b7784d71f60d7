#!/usr/bin/env bash
# kcp_arq over raw_direct on the whole star (docs/kcp_arq.md): spoke A's
# underlay runs through a userspace relay (pkt.py relay) that loses 3 % of
# the datagrams in each direction (seeded: the same ones each run) and holds
# every 7th back behind the next (reordering). Through it: 4 MB LAN A ->
# LAN B over TCP arrive with a matching sha256, and both ends of the
# impaired link resent datagrams (retransmits + fast_retransmits > 0); a
# paced UDP stream of 3000 datagrams LAN A -> LAN B loses at most 0.3 %
# (the relay alone: 3 % towards the hub), none arriving twice. The stack
# shows in --check, status and metrics (egress kcp_arq over raw_direct).
#
# Layout: e2e_lib.sh's relay_a (spoke A's hub endpoint is the relay at
# 127.0.0.1:51821 in spoke A's namespace, which forwards to the hub at
# 172.31.2.1:51820 and back).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin kcp_arq

set_egress kcp_arq "over: raw_direct"
for n in hub spoke-a spoke-b; do
	sed -i 's|^  mtu: 1420|  mtu: 1380|' "$STAR_DIR/$n.yaml" # frames fit the underlay's 1500
	grep -q '^  mtu: 1380' "$STAR_DIR/$n.yaml" || fail "mtu edit not applied to $n"
done

echo "== --check shows the stack"
check_stack "$PLUGINS" kcp_arq

relay_a --loss 3 --seed 7 --swap 7

e2e_start_all
expect_eq "LAN A -> LAN B echo replies through the relay (of 20)" "$(ping_n "$NS_LA" 192.168.2.10 20)" 20

echo "== 4 MB LAN A -> LAN B over TCP"
head -c 4M /dev/urandom >"$T/blob"
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"

echo "== a paced UDP stream LAN A -> LAN B: 3000 x 1000 bytes at 4 Mbit/s"
head -c 3000000 /dev/urandom >"$T/ublob"
bg nsx "$NS_LB" timeout 60 "$PKT" udp-recv --listen 192.168.2.10:5002 --ready "$T/urx.ready" \
	--count 3000 --secs 30 >"$T/urx.out"
urx_pid=$BG_PID
wait_for 10 "the UDP receiver" test -e "$T/urx.ready"
nsx "$NS_LA" timeout 60 "$PKT" udp-send --to 192.168.2.10:5002 --file "$T/ublob" --size 1000 \
	--mbps 4 >/dev/null || fail "UDP send failed"
wait "$urx_pid" || fail "UDP receiver failed"
read -r _ _ ureceived udups <"$T/urx.out"
echo "  received $ureceived of 3000 datagrams, $udups twice"
expect_ge "UDP datagrams received (at most 0.3 % lost)" "$ureceived" 2991
expect_eq "UDP datagrams received twice" "$udups" 0

echo "== stop the relay; count"
sleep 0.3 # the last acknowledgements
relay_a_stop
read -r UP DOWN <<<"$(jv relay up.drop down.drop | tr '\n' ' ')"
[ "$UP" -gt 50 ] && [ "$DOWN" -gt 10 ] || fail "the relay dropped too little ($UP up, $DOWN down)"
snap hub h
snap spoke-a a
snap spoke-b b
for n in h a b; do expect_eq "$n: egress stack" "$(jv $n egress)" '["kcp_arq", "raw_direct"]'; done
kcp() { jv "$1" "plugins.kcp_arq.$2"; }
for n in h a b; do
	echo "  $n: sent $(kcp $n sent), retransmits $(kcp $n retransmits)," \
		"fast $(kcp $n fast_retransmits), given up $(kcp $n given_up)," \
		"duplicates $(kcp $n duplicates), acks $(kcp $n acks_sent) sent" \
		"($(kcp $n piggybacked) piggybacked), rtt $(kcp $n rtt_us_sum) us / $(kcp $n rtt_samples)"
	expect_eq "$n: bad frames" "$(kcp $n bad_frames)" 0
	[ "$(kcp $n acks_received)" -gt 0 ] || fail "$n received no acknowledgement"
	[ "$(kcp $n rtt_samples)" -gt 0 ] || fail "$n took no RTT sample"
done
resent_a=$(($(kcp a retransmits) + $(kcp a fast_retransmits)))
resent_h=$(($(kcp h retransmits) + $(kcp h fast_retransmits)))
[ "$resent_a" -ge "$UP" ] || fail "spoke A resent $resent_a, fewer than the $UP the relay lost towards the hub"
[ "$resent_h" -gt 0 ] || fail "the hub resent nothing ($DOWN lost towards spoke A)"
status=$(sctl hub status) || fail "status failed"
metrics=$(sctl spoke-a metrics) || fail "metrics failed"
grep -q '^  egress    kcp_arq over raw_direct$' <<<"$status" ||
	fail "status: no egress line 'kcp_arq over raw_direct': $(grep egress <<<"$status")"
grep -q '^  plugin    kcp_arq: sent [0-9]*, retransmits ' <<<"$status" ||
	fail "status: no plugin line for kcp_arq: $(grep plugin <<<"$status")"
grep -q '^subnetra_plugin_kcp_arq_retransmits_total [0-9]' <<<"$metrics" ||
	fail "metrics: no subnetra_plugin_kcp_arq_retransmits_total"
pass "4 MB intact and $ureceived of 3000 paced datagrams through 3 % loss each way ($UP up, $DOWN down lost); spoke A resent $resent_a, the hub $resent_h"
