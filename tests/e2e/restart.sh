#!/usr/bin/env bash
# A spoke restarts and nothing else does (docs/protocol.md, sections 5-8):
# subnetrad exits 0 on SIGTERM and leaves no route or TUN device behind; the new process persists a new
# epoch greater than the old one (state/<node>/epoch) before it sends; the
# hub accepts that epoch on the first authenticated datagram (its status
# shows the new accepted epoch and one more epoch accepted for that peer,
# no drops), and LAN traffic flows again with the hub and the other spoke
# still running the same processes in the same epochs. A datagram of the
# old epoch, captured before the restart and replayed after it, is dropped
# as stale_epoch and delivers nothing.
# Then the hub restarts: a new hub epoch; it verifies each spoke (dropping
# as unverified what they send before they answer), the spokes accept its
# epoch on its first datagram (one more epoch accepted each, same spoke
# processes), the hub relearns both endpoints and LAN traffic flows again.
# Last, a spoke whose state directory is read-only (a private read-only
# bind mount) cannot persist its epoch and must refuse to start with an
# error naming the epoch file, sending nothing (section 5); so must one
# whose epoch file holds no number. At the end every daemon stops cleanly
# (exit 0, routes gone).
#
# Note: the kernel deletes routes through a TUN device when the device goes
# away, so "no route left" alone cannot tell whether subnetrad removed them;
# the test also requires that the daemon logged no route-removal failure.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin restart

routes_via_tun() { nsx "$1" ip -4 route show | grep -E 'subnetra0|192\.168\.[12]\.0/24 dev subnetra' || true; }
epoch_moved() { [ "$(epoch_of spoke-a)" != "$1" ]; }
hub_has_epoch() { st hub >"$T/.w.json" && [ "$(jv .w peer.2.rx_epoch)" = "$1" ]; }

e2e_start_all
snap hub r0
snap spoke-b b0
E1=$(epoch_of spoke-a)
N1=$(jv r0 peer.2.epochs_accepted)
HUB_EPOCH=$(jv r0 node.epoch)
HUB_PID=$(star_pid hub)
B_PID=$(star_pid spoke-b)
echo "  spoke A epoch $E1; hub accepted $(jv r0 peer.2.rx_epoch) ($N1 epoch(s) so far)"
expect_eq "hub's accepted epoch for spoke A = spoke A's state epoch" "$(jv r0 peer.2.rx_epoch)" "$E1"
nsx "$NS_A" ip -4 route show | grep -q '^192\.168\.2\.0/24 dev subnetra0' ||
	fail "spoke A did not add its route to 192.168.2.0/24"

echo "== capture one of spoke A's datagrams in epoch $E1"
sniff_start "$NS_HUB" hs2 old 25 --src 172.31.2.2 --udp-port 51820 --min-len 37 --max 1
sniff_pid=$BG_PID
expect_eq "spoke A -> hub replies (of 1)" "$(ping_n "$NS_A" 10.0.0.1 1)" 1
wait "$sniff_pid" || fail "the sniffer failed"
snap hub r0

echo "== SIGTERM spoke A"
rc=0
star_stop spoke-a || rc=$?
expect_eq "spoke A exit status after SIGTERM" "$rc" 0
expect_eq "routes via the overlay left in spoke A" "$(routes_via_tun "$NS_A")" ""
nsx "$NS_A" ip link show subnetra0 >/dev/null 2>&1 && fail "spoke A's TUN device is still there"
grep -i "route" "$STAR_DIR/spoke-a.log" | grep -iE "cannot|fail|error" &&
	fail "spoke A logged a route problem at exit"
expect_eq "LAN A -> LAN B replies with spoke A down (of 2)" "$(ping_n "$NS_LA" 192.168.2.10 2 -W 1)" 0

echo "== start spoke A again"
star_start spoke-a
wait_for 10 "spoke A to persist a new epoch" epoch_moved "$E1"
E2=$(epoch_of spoke-a)
echo "  new epoch $E2 (old $E1)"
[ "$E2" -gt "$E1" ] || fail "new epoch $E2 is not greater than the old $E1"
wait_for 15 "the hub to accept epoch $E2" hub_has_epoch "$E2"
expect_eq "LAN A -> LAN B replies after the restart (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
expect_eq "LAN B -> LAN A replies after the restart (of 5)" "$(ping_n "$NS_LB" 192.168.1.10 5)" 5
expect_eq "hub -> spoke A replies after the restart (of 3)" "$(ping_n "$NS_HUB" 10.0.0.2 3)" 3

snap hub r1
snap spoke-b b1
expect_eq "hub: accepted epoch for spoke A" "$(jv r1 peer.2.rx_epoch)" "$E2"
expect_eq "hub: epochs accepted from spoke A" "$(jv r1 peer.2.epochs_accepted)" $((N1 + 1))
expect_eq "hub: epochs accepted from spoke B (unchanged)" "$(jv r1 peer.3.epochs_accepted)" \
	"$(jv r0 peer.3.epochs_accepted)"
expect_eq "hub: own epoch (unchanged)" "$(jv r1 node.epoch)" "$HUB_EPOCH"
expect_eq "spoke B: accepted hub epoch (unchanged)" "$(jv b1 peer.1.rx_epoch)" "$(jv b0 peer.1.rx_epoch)"
expect_eq "hub: drops during the restart" "$(drops r0 r1)" none

echo "== the old epoch's datagram replayed (same address and port)"
replay_frames "$NS_A" ul "$T/old.frames"
expect_drops "hub: drops after the replay" hub r1 "stale_epoch=+1"
snap hub r2
for k in node.tun_tx_packets peer.2.rx_epoch peer.2.epochs_accepted peer.2.endpoint; do
	expect_eq "hub: $k (unchanged by the replay)" "$(jv r2 "$k")" "$(jv r1 "$k")"
done
kill -0 "$HUB_PID" 2>/dev/null && [ "$(star_pid hub)" = "$HUB_PID" ] || fail "the hub process changed"
kill -0 "$B_PID" 2>/dev/null && [ "$(star_pid spoke-b)" = "$B_PID" ] || fail "spoke B's process changed"
echo "  hub pid $HUB_PID and spoke B pid $B_PID kept running"

echo "== the hub restarts"
A_PID=$(star_pid spoke-a)
snap spoke-a a2
snap spoke-b b2
rc=0
star_stop hub || rc=$?
expect_eq "hub exit status after SIGTERM" "$rc" 0
expect_eq "routes via the overlay left in the hub" "$(routes_via_tun "$NS_HUB")" ""
star_start hub
hub_epoch_moved() { [ "$(epoch_of hub)" != "$HUB_EPOCH" ]; }
wait_for 10 "the hub to persist a new epoch" hub_epoch_moved
H2=$(epoch_of hub)
echo "  hub epoch $HUB_EPOCH -> $H2"
[ "$H2" -gt "$HUB_EPOCH" ] || fail "new hub epoch $H2 is not greater than $HUB_EPOCH"
# the spokes speak first (the new hub knows no endpoint); the replies come
# sealed in the hub's new epoch
wait_for 15 "spoke A to reach the new hub" nsx "$NS_A" ping -c1 -W1 -q 10.0.0.1
wait_for 15 "spoke B to reach the new hub" nsx "$NS_B" ping -c1 -W1 -q 10.0.0.1
expect_eq "LAN A -> LAN B replies after the hub restart (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3
expect_eq "LAN B -> LAN A replies after the hub restart (of 3)" "$(ping_n "$NS_LB" 192.168.1.10 3)" 3
snap spoke-a a3
snap spoke-b b3
snap hub h3
for n in a b; do
	expect_eq "spoke $n: accepted hub epoch" "$(jv ${n}3 peer.1.rx_epoch)" "$H2"
	expect_eq "spoke $n: hub epochs accepted" "$(jv ${n}3 peer.1.epochs_accepted)" \
		$(($(jv ${n}2 peer.1.epochs_accepted) + 1))
	expect_eq "spoke $n: drops across the hub restart" "$(drops ${n}2 ${n}3)" none
done
expect_eq "hub: accepted epoch for spoke A (the running one)" "$(jv h3 peer.2.rx_epoch)" "$E2"
expect_eq "hub: accepted epoch for spoke B (the running one)" "$(jv h3 peer.3.rx_epoch)" "$(epoch_of spoke-b)"
# the restarted hub verifies each spoke first (docs/protocol.md, "Verifying
# a peer"), at the endpoint it remembered at exit: what the spokes sent
# before their answer, if anything, is all it dropped
d=$(nonzero_drops h3)
[[ $d =~ ^(none|unverified=[0-9]+)$ ]] || fail "hub: drops since its restart other than unverified: $d"
echo "  hub: drops since its restart: $d"
expect_eq "hub: challenges answered since its restart (one per spoke)" "$(jv h3 node.response_rx)" 2
expect_eq "hub: spoke A verified" "$(jv h3 peer.2.state)" verified
expect_eq "hub: spoke B verified" "$(jv h3 peer.3.state)" verified
[ "$(star_pid spoke-a)" = "$A_PID" ] && [ "$(star_pid spoke-b)" = "$B_PID" ] &&
	kill -0 "$A_PID" && kill -0 "$B_PID" || fail "a spoke process changed"

echo "== a spoke that cannot persist its epoch refuses to start"
rc=0
star_stop spoke-a || rc=$?
expect_eq "spoke A exit status after SIGTERM" "$rc" 0
E3=$(epoch_of spoke-a)
snap hub h4
SD=$STAR_DIR/state/spoke-a
rc=0
nsx "$NS_A" timeout 15 unshare -m --propagation private sh -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$SD" \
	"$SUBNETRAD" -c "$STAR_DIR/spoke-a.yaml" --plugin-dir "$PLUGINS" \
	>"$T/ro.log" 2>&1 || rc=$?
echo "  exit status $rc: $(tr '\n' ' ' <"$T/ro.log")"
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "spoke A started (or hung) without a writable state directory"
grep -q "$SD/epoch" "$T/ro.log" || fail "the error does not name $SD/epoch"
expect_eq "spoke A's epoch file (unchanged)" "$(epoch_of spoke-a)" "$E3"
sleep 0.5
snap hub h5
expect_eq "hub: datagrams from spoke A meanwhile" \
	$(($(jv h5 peer.2.rx_packets) - $(jv h4 peer.2.rx_packets))) 0
nsx "$NS_A" ip link show subnetra0 >/dev/null 2>&1 && fail "the refused spoke left its TUN device"
expect_eq "routes via the overlay left in spoke A" "$(routes_via_tun "$NS_A")" ""
# an unreadable last epoch is no better: refuse rather than guess
echo "not-a-number" >"$SD/epoch"
rc=0
nsx "$NS_A" timeout 15 "$SUBNETRAD" -c "$STAR_DIR/spoke-a.yaml" --plugin-dir "$PLUGINS" \
	>"$T/bad.log" 2>&1 || rc=$?
echo "  corrupt epoch file: exit status $rc: $(tr '\n' ' ' <"$T/bad.log")"
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "spoke A started (or hung) with a corrupt epoch file"
grep -q "$SD/epoch" "$T/bad.log" || fail "the error does not name $SD/epoch"
expect_eq "spoke A's epoch file (left as it was)" "$(cat "$SD/epoch")" "not-a-number"

echo "== the others stop cleanly too"
for node in spoke-b hub; do
	rc=0
	star_stop "$node" || rc=$?
	expect_eq "$node exit status after SIGTERM" "$rc" 0
done
expect_eq "routes via the overlay left in the hub" "$(routes_via_tun "$NS_HUB")" ""
expect_eq "routes via the overlay left in spoke B" "$(routes_via_tun "$NS_B")" ""
pass "spoke restart (epoch $E1 -> $E2) and hub restart ($HUB_EPOCH -> $H2) followed, exit 0, routes gone; no start without a durable epoch"
