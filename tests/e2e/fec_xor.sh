#!/usr/bin/env bash
# fec_xor over raw_direct on the whole star (docs/fec_xor.md): spoke A's
# underlay runs through a userspace relay (pkt.py relay --drop-fec) that
# drops, in each direction, the data frame at index 1 of every 3rd group -
# deterministic, one datagram per group at most, never a parity. 4 MB LAN A
# -> LAN B over TCP arrive with a matching sha256, and the counters are
# exact: the hub's `recovered` equals the frames the relay dropped towards
# it, spoke A's those dropped towards spoke A, nothing is unrecoverable,
# and no datagram is dropped anywhere after the start (every rebuilt one
# passed the replay window, the tag and the inner source checks). The
# stack shows in --check and status (egress fec_xor over raw_direct).
#
# Layout: e2e_lib.sh's relay_a (spoke A's hub endpoint is the relay at
# 127.0.0.1:51821 in spoke A's namespace, which forwards to the hub at
# 172.31.2.1:51820 and back).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin fec_xor

set_egress fec_xor "over: raw_direct, k: 4"
echo "== --check shows the stack"
check_stack "$PLUGINS" fec_xor

relay_a --drop-fec 3

e2e_start_all
expect_eq "LAN A -> LAN B echo replies through the relay (of 20)" "$(ping_n "$NS_LA" 192.168.2.10 20)" 20

echo "== 4 MB LAN A -> LAN B over TCP"
head -c 4M /dev/urandom >"$T/blob"
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"

echo "== stop the relay; count"
sleep 0.2 # the last groups' parities (flush_ms 5)
relay_a_stop
read -r UP DOWN <<<"$(jv relay up.drop down.drop | tr '\n' ' ')"
[ "$UP" -gt 10 ] && [ "$DOWN" -gt 0 ] || fail "the relay dropped too little ($UP up, $DOWN down)"
snap hub h
snap spoke-a a
snap spoke-b b
for n in h a b; do expect_eq "$n: egress stack" "$(jv $n egress)" '["fec_xor", "raw_direct"]'; done
fec() { jv "$1" "plugins.fec_xor.$2"; }
expect_eq "hub: recovered = dropped towards it" "$(fec h recovered)" "$UP"
expect_eq "spoke A: recovered = dropped towards it" "$(fec a recovered)" "$DOWN"
expect_eq "spoke B: recovered (no relay)" "$(fec b recovered)" 0
for n in h a b; do
	expect_eq "$n: unrecoverable" "$(fec $n unrecoverable)" 0
	expect_eq "$n: bad frames" "$(fec $n bad_frames)" 0
	[ "$(fec $n parities_sent)" -gt 0 ] || fail "$n sent no parity"
done
# congestion's drops (tun_queue, aqm) are allowed in a bulk transfer; no other
expect_eq "hub: drops since the start (but congestion's)" "$(faults start.hub h)" none
expect_eq "spoke A: drops since the start (but congestion's)" "$(faults start.spoke-a a)" none
expect_eq "spoke B: drops since the start (but congestion's)" "$(faults start.spoke-b b)" none
# the outputs in variables: `sctl | grep -q` under pipefail fails when grep
# stops reading early (SIGPIPE)
st_text=$(sctl hub status)
metrics=$(sctl hub metrics)
grep -q '^  egress    fec_xor over raw_direct$' <<<"$st_text" ||
	fail "status: no egress line 'fec_xor over raw_direct': $(grep egress <<<"$st_text")"
grep -q '^  plugin    fec_xor: groups .*recovered '"$UP"',' <<<"$st_text" ||
	fail "status: no plugin line with recovered $UP: $(grep plugin <<<"$st_text")"
grep -q '^subnetra_plugin_fec_xor_recovered_total '"$UP"'$' <<<"$metrics" ||
	fail "metrics: no subnetra_plugin_fec_xor_recovered_total $UP"
pass "4 MB intact; recovered = frames dropped ($UP up, $DOWN down), nothing unrecoverable, no drop"
