#!/usr/bin/env bash
# An impaired underlay between spoke A and the hub - 3 % loss each way
# (nftables numgen), every 7th datagram reordered and every 10th duplicated
# in each direction (a userspace relay, pkt.py relay) - still carries LAN
# traffic intact: 10 MB LAN A -> LAN B over TCP arrive with a matching
# sha256. The counters are exact: reordered datagrams inside the replay
# window are accepted (no drop), and every duplicate is dropped as replay
# exactly once - the hub's replay count for spoke A equals the duplicates
# the relay sent towards the hub, spoke A's equals those sent towards it,
# and nothing else is dropped anywhere.
#
# Layout: e2e_lib.sh's relay_a (spoke A's hub endpoint is the relay at
# 127.0.0.1:51821 in spoke A's namespace, which forwards to the hub at
# 172.31.2.1:51820 and back).
# The loss rules sit in front of the relay in both directions (on lo from
# spoke A, on ul from the hub), so the relay only duplicates datagrams that
# got through and every duplicate it sends arrives.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
command -v nft >/dev/null || skip "nft missing"
e2e_begin impaired_underlay

relay_a --swap 7 --dup 10
nsx "$NS_A" nft -f - <<'NFT' || skip "nftables with numgen is not available here"
table ip impair {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "lo" udp dport 51821 numgen random mod 100 < 3 counter drop comment "spoke to relay"
		iifname "ul" udp sport 51820 numgen random mod 100 < 3 counter drop comment "hub to relay"
	}
}
NFT

e2e_start_all
got=$(ping_n "$NS_LA" 192.168.2.10 30)
echo "  LAN A -> LAN B: $got of 30 echo replies"
[ "$got" -ge 20 ] || fail "only $got of 30 pings came back through 3 % loss"

echo "== 10 MB LAN A -> LAN B over TCP"
head -c 10M /dev/urandom >"$T/blob"
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"

echo "== stop the relay; count"
relay_a_stop
sleep 0.5
lost=$(nsx "$NS_A" nft list table ip impair | sed -n 's/.*packets \([0-9]*\) bytes.*comment "\(.*\)"/\2: \1/p' | tr '\n' ' ')
echo "  lost before the relay: $lost"
read -r UP_DUP DOWN_DUP UP_SWAP DOWN_SWAP <<<"$(jv relay up.dup down.dup up.swap down.swap | tr '\n' ' ')"
[ "$UP_DUP" -gt 0 ] && [ "$DOWN_DUP" -gt 0 ] && [ "$UP_SWAP" -gt 0 ] && [ "$DOWN_SWAP" -gt 0 ] ||
	fail "the relay did not impair both directions"
snap hub h
snap spoke-a a
snap spoke-b b
# the start (revision 2): each spoke's first keepalive reaches the hub before
# the hub verified it (and spoke A's may be duplicated by the relay)
unv=$(jv start.hub drops.unverified)
expect_range "hub: unverified datagrams during the start" "$unv" 2 3
# congestion's drops (tun_queue, aqm: a node short of CPU, e.g. under ASan)
# are allowed; every other drop is accounted for exactly
expect_eq "hub: drops (all since start, but congestion's)" "$(nonzero_faults h)" "replay=$UP_DUP unverified=$unv"
expect_eq "hub: spoke A's drops since the start (but congestion's)" "$(faults start.hub h 2)" "replay=+$UP_DUP"
expect_eq "spoke A: drops (but congestion's)" "$(nonzero_faults a)" "replay=$DOWN_DUP"
expect_eq "spoke B: drops (but congestion's)" "$(nonzero_faults b)" none
pass "10 MB intact through loss, reordering and duplication; replay = duplicates ($UP_DUP up, $DOWN_DUP down), nothing else dropped"
