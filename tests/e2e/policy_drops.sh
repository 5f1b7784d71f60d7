#!/usr/bin/env bash
# The policy steps of docs/protocol.md, "Receiving" (9-11) and the spoke
# trust rules (README, security notes), each drop counted exactly and
# nothing delivered:
#   - LAN A -> LAN B before spoke B ever spoke to the hub: the hub has not
#     verified spoke B [unverified] (revision 2: a hub's peer without a
#     verification has no endpoint either, and unverified comes first)
#   - spoke A's kernel routes into the TUN a packet for spoke A's own LAN
#     [tun_loop] and one for a prefix no rule covers [no_route]; with the
#     TUN's MTU raised to 1500 behind the daemon's back, a 1478-byte packet
#     is larger than the overlay MTU 1420 [too_big]
#   - spoke B forwards packets whose inner source is spoke A's LAN or spoke
#     A's overlay address: the hub drops them [inner_src]
#   - a hub policy rule "192.168.2.128/25 drop": LAN A -> 192.168.2.200
#     (an address LAN B's host has) is dropped at the hub [policy_drop],
#     while 192.168.2.10 in the same /24 still answers; LAN A -> 10.0.0.99
#     (in the overlay subnet, but nobody's address) matches no rule at the
#     hub [no_route]
#   - validly sealed datagrams from spoke B's key (its daemon stopped) to
#     spoke B's own overlay address and LAN [relay_loop], and with plaintexts
#     that are not well-formed IPv4 [bad_inner]; the hub accepts their newer
#     epoch (they are authentic), and a restarted spoke B moves past it
#   - a datagram from the hub's key to spoke A for another spoke's LAN: a
#     spoke never relays [not_local]
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin policy_drops

cat >>"$STAR_DIR/hub.yaml" <<'YAML'

policy:
  - { prefix: 192.168.2.128/25, action: drop }
YAML
star_start hub
star_start spoke-a
wait_for 15 "the hub to verify spoke A" peer_up hub 2
wait_for 15 "spoke A to verify the hub" peer_up spoke-a 1

echo "== unverified: spoke B not started yet"
snap hub n0
expect_eq "hub: spoke B's state" "$(jv n0 peer.3.state)" unverified
expect_eq "LAN A -> LAN B replies (of 2)" "$(ping_n "$NS_LA" 192.168.2.10 2 -W 1)" 0
expect_drops "hub: drops" hub n0 "unverified=+2"
snap hub n1
expect_eq "hub: spoke A's drops" "$(drops n0 n1 2)" "unverified=+2"

echo "== tun_loop, no_route and too_big on spoke A's TUN"
snap spoke-a t0
ip -n "$NS_A" route add 192.168.1.99/32 dev subnetra0
ip -n "$NS_A" route add 198.51.100.0/24 dev subnetra0
expect_eq "spoke A -> 192.168.1.99 via its TUN replies (of 2)" "$(ping_n "$NS_A" 192.168.1.99 2 -W 1)" 0
expect_eq "spoke A -> 198.51.100.1 via its TUN replies (of 3)" "$(ping_n "$NS_A" 198.51.100.1 3 -W 1)" 0
ip -n "$NS_A" link set subnetra0 mtu 1500
expect_eq "spoke A -> hub 1478-byte pings, DF (of 2)" "$(ping_n "$NS_A" 10.0.0.1 2 -M "do" -s 1450 -W 1)" 0
expect_drops "spoke A: drops" spoke-a t0 "no_route=+3 too_big=+2 tun_loop=+2"
snap spoke-a t1
expect_eq "spoke A: tx_packets (nothing sent)" "$(jv t1 node.tx_packets)" "$(jv t0 node.tx_packets)"
ip -n "$NS_A" link set subnetra0 mtu 1420
ip -n "$NS_A" route del 192.168.1.99/32 dev subnetra0
ip -n "$NS_A" route del 198.51.100.0/24 dev subnetra0

star_start spoke-b
e2e_wait_all
HUBPUB=$(pubkey_of hub)
snap hub p0

echo "== inner_src: spoke B sends as spoke A's LAN and overlay address"
ip -n "$NS_B" addr add 192.168.1.77/32 dev lo
ip -n "$NS_B" addr add 10.0.0.2/32 dev lo
expect_eq "spoke B (as 192.168.1.77) -> hub replies (of 3)" \
	"$(ping_n "$NS_B" 10.0.0.1 3 -I 192.168.1.77 -W 1)" 0
expect_eq "spoke B (as 10.0.0.2) -> hub replies (of 2)" "$(ping_n "$NS_B" 10.0.0.1 2 -I 10.0.0.2 -W 1)" 0
expect_drops "hub: drops" hub p0 "inner_src=+5"
snap hub p1
expect_eq "hub: spoke B's drops" "$(drops p0 p1 3)" "inner_src=+5"
ip -n "$NS_B" addr del 192.168.1.77/32 dev lo
ip -n "$NS_B" addr del 10.0.0.2/32 dev lo

echo "== policy_drop (192.168.2.128/25 drop) and no_route at the hub"
ip -n "$NS_LB" addr add 192.168.2.200/24 dev eth0
expect_eq "LAN A -> 192.168.2.200 replies (of 2)" "$(ping_n "$NS_LA" 192.168.2.200 2 -W 1)" 0
expect_eq "LAN A -> 192.168.2.10 replies (of 2)" "$(ping_n "$NS_LA" 192.168.2.10 2)" 2
expect_eq "LAN A -> 10.0.0.99 replies (of 2)" "$(ping_n "$NS_LA" 10.0.0.99 2 -W 1)" 0
expect_drops "hub: drops" hub p1 "no_route=+2 policy_drop=+2"
snap hub p2
expect_eq "hub: spoke A's drops" "$(drops p1 p2 2)" "no_route=+2 policy_drop=+2"

echo "== relay_loop and bad_inner: sealed with spoke B's key, spoke B stopped"
rc=0
star_stop spoke-b || rc=$?
expect_eq "spoke B exit status" "$rc" 0
snap hub p3
snap spoke-a a3
EACC=$(jv p3 peer.3.rx_epoch)
NACC=$(jv p3 peer.3.epochs_accepted)
E=$((EACC + 1))
echo "  hub accepted spoke B epoch $EACC; injecting in epoch $E"
spoke_b() { inject "$NS_B" --to 172.31.3.1:51820 --key "$STAR_DIR/keys/spoke-b.key" \
	--peer-pub "$HUBPUB" --id 3 --peer-id 1 --epoch "$E" "$@"; }
spoke_b --seq 0 --src 10.0.0.3 --dst 10.0.0.3
spoke_b --seq 1 --src 10.0.0.3 --dst 192.168.2.10
spoke_b --seq 2 --src 192.168.2.10 --dst 192.168.2.55
expect_drops "hub: drops" hub p3 "relay_loop=+3"
# not IPv4 (an IPv6 header), total length 45 in 44 bytes, IHL 4, 1 byte
spoke_b --seq 3 --raw-inner "6000000000083a400000000000000000000000000000000100000000000000000000000000000002$(printf '%016d' 0)"
spoke_b --seq 4 --raw-inner "4500002d00000000401100000a0000030a000001$(printf '%048d' 0)"
spoke_b --seq 5 --raw-inner "4400001400000000401100000a0000030a000001"
spoke_b --seq 6 --raw-inner "45"
expect_drops "hub: drops" hub p3 "bad_inner=+4 relay_loop=+3"
snap hub p4
snap spoke-a a4
expect_eq "hub: spoke B's drops" "$(drops p3 p4 3)" "bad_inner=+4 relay_loop=+3"
expect_eq "hub: spoke B's accepted epoch (the injected, authentic one)" "$(jv p4 peer.3.rx_epoch)" "$E"
expect_eq "hub: epochs accepted from spoke B" "$(jv p4 peer.3.epochs_accepted)" $((NACC + 1))
for k in node.tun_tx_packets node.relayed_packets; do
	expect_eq "hub: $k (unchanged)" "$(jv p4 "$k")" "$(jv p3 "$k")"
done
expect_eq "spoke A: tun_tx_packets (unchanged)" "$(jv a4 node.tun_tx_packets)" "$(jv a3 node.tun_tx_packets)"

echo "== spoke B restarts past the injected epoch"
# The injected epoch E is now spoke B's last epoch: a restarted spoke B
# must pick max(now, E + 1) and the hub must accept it.
echo "$E" >"$STAR_DIR/state/spoke-b/epoch"
star_start spoke-b
wait_for 15 "the hub to accept spoke B's new epoch" \
	eval '[ "$(epoch_of spoke-b)" -gt '"$E"' ] && st hub >"$T/.w.json" && [ "$(jv .w peer.3.rx_epoch)" = "$(epoch_of spoke-b)" ]'
echo "  spoke B now in epoch $(epoch_of spoke-b)"
expect_eq "LAN A -> LAN B replies after spoke B's restart (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

echo "== not_local: spoke A never relays"
snap spoke-a a5
PA=$(jv a5 node.listen | sed 's/.*://')
EH=$(jv a5 peer.1.rx_epoch)
inject "$NS_HUB" --to "172.31.2.2:$PA" --key "$STAR_DIR/keys/hub.key" --peer-pub "$(pubkey_of spoke-a)" \
	--id 1 --peer-id 2 --epoch $((EH + 1)) --seq 0 --src 10.0.0.1 --dst 192.168.2.10
expect_drops "spoke A: drops" spoke-a a5 "not_local=+1"
snap spoke-a a6
expect_eq "spoke A: tun_tx_packets (unchanged)" "$(jv a6 node.tun_tx_packets)" "$(jv a5 node.tun_tx_packets)"
expect_eq "spoke A: tx_packets (nothing relayed)" "$(jv a6 node.tx_packets)" "$(jv a5 node.tx_packets)"
pass "unverified, tun_loop, no_route, too_big, inner_src, policy_drop, relay_loop, bad_inner, not_local counted exactly"
