#!/usr/bin/env bash
# Traffic crosses the star every way it should: LAN host A <-> LAN host B
# through the hub (ping; 50 MB over TCP whose sha256 matches on arrival;
# pings of exactly the overlay MTU, 1420 bytes, with DF set), spoke -> hub,
# hub -> spoke and hub -> LAN host. The hub's TUN counters move by exactly
# the pings addressed to it, and no node drops a single packet on the way
# but by congestion (a full TUN queue, CoDel: e2e_lib.sh faults), which
# the 50 MB stream may meet by design.
# The start costs the hub exactly one datagram per spoke (revision 2): the
# keepalive a spoke sends on verifying the hub, which earns it the hub's
# challenge, is dropped as unverified; nothing else is dropped anywhere.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin transfer

e2e_start_all
expect_eq "hub: drops during the start (one keepalive per spoke)" "$(nonzero_drops start.hub)" \
	"unverified=2"
expect_eq "spoke A: drops during the start" "$(nonzero_drops start.spoke-a)" none
expect_eq "spoke B: drops during the start" "$(nonzero_drops start.spoke-b)" none

echo "== LAN A -> LAN B ping"
expect_eq "LAN A -> LAN B echo replies (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
expect_eq "LAN B -> LAN A echo replies (of 5)" "$(ping_n "$NS_LB" 192.168.1.10 5)" 5

echo "== 50 MB LAN A -> LAN B over TCP"
head -c 50M /dev/urandom >"$T/blob"
snap hub h0
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"
snap hub h1
relayed=$(($(jv h1 node.relayed_packets) - $(jv h0 node.relayed_packets)))
echo "  hub relayed $relayed packets for the transfer"
[ "$relayed" -ge 36000 ] || fail "hub relayed only $relayed packets for 50 MB (>= 36000 expected)"

echo "== the largest inner packet (1420 bytes, the overlay MTU) with DF set"
expect_eq "LAN A -> LAN B 1420-byte pings, DF (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3 -M "do" -s 1392)" 3
expect_eq "hub -> spoke B 1420-byte pings, DF (of 3)" "$(ping_n "$NS_HUB" 10.0.0.3 3 -M "do" -s 1392)" 3

echo "== spoke -> hub, hub -> spoke, hub -> LAN host"
snap hub h2
expect_eq "spoke A -> hub (10.0.0.1) replies" "$(ping_n "$NS_A" 10.0.0.1 3)" 3
expect_eq "spoke B -> hub (10.0.0.1) replies" "$(ping_n "$NS_B" 10.0.0.1 3)" 3
expect_eq "hub -> spoke A (10.0.0.2) replies" "$(ping_n "$NS_HUB" 10.0.0.2 3)" 3
expect_eq "hub -> spoke B (10.0.0.3) replies" "$(ping_n "$NS_HUB" 10.0.0.3 3)" 3
expect_eq "hub -> LAN A host replies" "$(ping_n "$NS_HUB" 192.168.1.10 3)" 3
expect_eq "hub -> LAN B host replies" "$(ping_n "$NS_HUB" 192.168.2.10 3)" 3
snap hub h3
# 6 echo requests in from the spokes, 6 replies out; 12 requests out, 12 replies in.
expect_eq "hub tun_tx_packets delta" $(($(jv h3 node.tun_tx_packets) - $(jv h2 node.tun_tx_packets))) 18
expect_eq "hub tun_rx_packets delta" $(($(jv h3 node.tun_rx_packets) - $(jv h2 node.tun_rx_packets))) 18

echo "== no drops anywhere after the start (but congestion's)"
for node in hub spoke-a spoke-b; do
	snap "$node" "end-$node"
	echo "  $node: rx $(jv "end-$node" node.rx_packets) tx $(jv "end-$node" node.tx_packets)" \
		"tun rx $(jv "end-$node" node.tun_rx_packets) tun tx $(jv "end-$node" node.tun_tx_packets)" \
		"relayed $(jv "end-$node" node.relayed_packets)"
	expect_eq "$node: drops since the start (but congestion's: $(drops "start.$node" "end-$node"))" \
		"$(faults "start.$node" "end-$node")" none
done
pass "LAN<->LAN ping, 50 MB with matching sha256, spoke<->hub and hub->LAN pings, no drops"
