#!/usr/bin/env bash
# Roaming (docs/protocol.md, section 6 step 8, section 8): the hub follows a
# spoke to a new underlay source address, but only on an authenticated
# datagram. First, datagrams carrying spoke A's key_id but a broken tag
# arrive from the new address (before any authentic one from there): each
# counts auth_fail, and the hub's endpoint, accepted epoch and epoch count
# for spoke A stay as they were. Then spoke A's real traffic comes from the
# new address: the hub's endpoint becomes new-address:port, and with the old
# address removed from spoke A, hub -> spoke A and LAN B -> LAN A traffic
# still arrives (so it goes to the new endpoint).
# Last, "only if seq is the highest seen": with spoke B's daemon stopped,
# authentic keepalives sealed with its key (a newer epoch) arrive from port
# 40001 (seq 100), then from port 40002 with seq 50 (older, unseen: accepted
# but the endpoint stays at 40001), then seq 101 (the endpoint follows).
# Spoke B then restarts past that epoch and traffic flows again.
#
# How the source changes, deterministically: spoke A's socket is bound to
# 0.0.0.0, so the kernel picks the source address per datagram from the
# route. The test adds 172.31.2.6/32 to spoke A's underlay link and a more
# specific route "172.31.2.1/32 dev ul src 172.31.2.6" (the hub gets a /32
# route back). No NAT and no conntrack are involved, so nothing is cached:
# the next datagram leaves from the new address, the same port. Spoke A runs
# with keepalive 0, so it sends nothing on its own between the route change
# and the forged datagrams.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin roaming

NEW=172.31.2.6
set_conf spoke-a keepalive 0
star_start hub
star_start spoke-a
star_start spoke-b
wait_for 15 "the hub to learn spoke B" peer_up hub 3
# spoke A sends no keepalives: its first ping teaches the hub its endpoint
wait_for 20 "spoke A to reach the hub" nsx "$NS_A" ping -c1 -W1 -q 10.0.0.1
wait_for 15 "the hub to learn spoke A" peer_up hub 2
star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"

snap spoke-a a0
PORT=$(jv a0 node.listen | sed 's/.*://')
EA=$(epoch_of spoke-a)
snap hub h0
OLD_EP=$(jv h0 peer.2.endpoint)
expect_eq "hub's endpoint for spoke A before roaming" "$OLD_EP" "172.31.2.2:$PORT"
N0=$(jv h0 peer.2.epochs_accepted)

echo "== spoke A's source becomes $NEW (same port $PORT)"
ip -n "$NS_A" addr add "$NEW/32" dev ul
ip -n "$NS_A" route add 172.31.2.1/32 dev ul src "$NEW"
ip -n "$NS_HUB" route add "$NEW/32" dev hs2
nsx "$NS_A" ip route get 172.31.2.1 | grep -q "src $NEW" || fail "route change did not take"
sniff_start "$NS_HUB" hs2 new 55 --src "$NEW" --udp-port 51820

echo "== forged datagrams with spoke A's key_id from $NEW"
HUBPUB=$(pubkey_of hub)
forge() { inject "$NS_A" --to 172.31.2.1:51820 --key "$STAR_DIR/keys/spoke-a.key" \
	--peer-pub "$HUBPUB" --id 2 --peer-id 1 "$@"; }
# current epoch, a seq far above any used: would move the endpoint if it verified
forge --epoch "$EA" --seq 1000000 --flip 30      # ciphertext byte
# a newer epoch: the hub derives a candidate key, changes nothing
forge --epoch $((EA + 1)) --seq 0 --flip 79      # last tag byte
# a keepalive (36 bytes)
forge --epoch "$EA" --seq 1000001 --keepalive --flip 35
wait_for 10 "3 forged datagrams from $NEW at the hub" \
	eval '[ "$(wc -l <"$T/new.json")" -ge 3 ]'   # (eval: counted again on every poll)
expect_drops "hub: drops from the forged datagrams" hub h0 "auth_fail=+3"
snap hub h1
expect_eq "hub: spoke A's drops" "$(drops h0 h1 2)" "auth_fail=+3"
expect_eq "hub: spoke A's endpoint (unchanged)" "$(jv h1 peer.2.endpoint)" "$OLD_EP"
expect_eq "hub: spoke A's accepted epoch (unchanged)" "$(jv h1 peer.2.rx_epoch)" "$EA"
expect_eq "hub: epochs accepted from spoke A (unchanged)" "$(jv h1 peer.2.epochs_accepted)" "$N0"

echo "== spoke A's real traffic from $NEW"
expect_eq "spoke A -> hub replies from the new source (of 3)" "$(ping_n "$NS_A" 10.0.0.1 3)" 3
snap hub h2
expect_eq "hub: spoke A's endpoint" "$(jv h2 peer.2.endpoint)" "$NEW:$PORT"
expect_eq "hub: spoke A's accepted epoch (unchanged)" "$(jv h2 peer.2.rx_epoch)" "$EA"
echo "  datagrams seen at the hub from $NEW: $(wc -l <"$T/new.json")"

echo "== old address gone: traffic to spoke A must use the new endpoint"
ip -n "$NS_A" addr del 172.31.2.2/30 dev ul
expect_eq "hub -> spoke A replies (of 3)" "$(ping_n "$NS_HUB" 10.0.0.2 3)" 3
expect_eq "LAN B -> LAN A replies (of 3)" "$(ping_n "$NS_LB" 192.168.1.10 3)" 3
expect_eq "LAN A -> LAN B replies (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3
snap hub h3
snap spoke-a a3
expect_eq "spoke A (keepalive: 0): keepalives sent" "$(jv a3 node.keepalive_tx)" 0
expect_eq "hub: spoke A's endpoint at the end" "$(jv h3 peer.2.endpoint)" "$NEW:$PORT"
expect_eq "hub: all drops since roaming began" "$(drops h0 h3)" "auth_fail=+3"

echo "== a delayed (lower seq) authentic datagram does not move the endpoint"
rc=0
star_stop spoke-b || rc=$?
expect_eq "spoke B exit status" "$rc" 0
snap hub g0
E=$(($(jv g0 peer.3.rx_epoch) + 1))
ka_b() { inject "$NS_B" --to 172.31.3.1:51820 --key "$STAR_DIR/keys/spoke-b.key" --peer-pub "$HUBPUB" \
	--id 3 --peer-id 1 --epoch "$E" --keepalive "$@"; }
hub_b_is() { st hub >"$T/.w.json" && [ "$(jv .w peer.3.endpoint)" = "$1" ] &&
	[ "$(jv .w peer.3.keepalive_rx)" = "$2" ]; }
K0=$(jv g0 peer.3.keepalive_rx)
ka_b --seq 100 --from-port 40001
wait_for 10 "the hub to take seq 100 from port 40001" hub_b_is 172.31.3.2:40001 $((K0 + 1))
ka_b --seq 50 --from-port 40002
wait_for 10 "the hub to take seq 50" hub_b_is 172.31.3.2:40001 $((K0 + 2))
snap hub g1
expect_eq "hub: spoke B's endpoint after an older seq from port 40002" "$(jv g1 peer.3.endpoint)" \
	172.31.3.2:40001
ka_b --seq 101 --from-port 40002
wait_for 10 "the hub to take seq 101 from port 40002" hub_b_is 172.31.3.2:40002 $((K0 + 3))
snap hub g2
expect_eq "hub: spoke B's endpoint after seq 101 from port 40002" "$(jv g2 peer.3.endpoint)" \
	172.31.3.2:40002
expect_eq "hub: spoke B's accepted epoch" "$(jv g2 peer.3.rx_epoch)" "$E"
expect_eq "hub: drops" "$(drops g0 g2)" none
echo "$E" >"$STAR_DIR/state/spoke-b/epoch"
star_start spoke-b
wait_for 15 "spoke B to persist an epoch past $E" eval '[ "$(epoch_of spoke-b)" -gt '"$E"' ]'
wait_for 15 "the hub to accept spoke B's new epoch" \
	eval 'st hub >"$T/.w.json" && [ "$(jv .w peer.3.rx_epoch)" = "$(epoch_of spoke-b)" ]'
expect_eq "LAN A -> LAN B replies (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3
snap spoke-b b3
snap hub g3
expect_eq "hub: spoke B's endpoint is its daemon's again" "$(jv g3 peer.3.endpoint)" \
	"172.31.3.2:$(jv b3 node.listen | sed 's/.*://')"
pass "forged datagrams from $NEW moved nothing (auth_fail +3); real ones moved the endpoint to $NEW:$PORT; an older seq did not move it"
