#!/usr/bin/env bash
# A rolled-back epoch file (docs/protocol.md, "Verifying a peer": moving past
# a used epoch). Spoke A runs in an epoch E1 set ahead of the clock and
# sends traffic; while it is down its epoch file is rolled back to E1 - 1,
# so it starts in E1 again. The hub, which remembers accepting E1, says so
# in its RESPONSE; spoke A moves to E1 + 1 (persisted) before it sends any
# data or keepalive, and the hub accepts that. Then the file is rolled back
# much further (an epoch below the clock): spoke A starts below the epoch
# the hub accepts, learns it from the RESPONSE, and moves past it again.
# Throughout, every datagram between spoke A and the hub is captured: no
# two carry the same (key_id, receiver, epoch, seq), so no (key, nonce)
# pair was used twice across the three runs.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin rollback

NOW=$(date +%s)
E1=$((NOW + 1000))
mkdir -p "$STAR_DIR/state/spoke-a"
chmod 700 "$STAR_DIR/state/spoke-a"
echo $((E1 - 1)) >"$STAR_DIR/state/spoke-a/epoch"
chmod 600 "$STAR_DIR/state/spoke-a/epoch"

sniff_start "$NS_HUB" hs2 wire 60 --udp-port 51820 --max 100000
wire_pid=$BG_PID
e2e_start_all
expect_eq "spoke A's epoch (set ahead of the clock)" "$(epoch_of spoke-a)" "$E1"
expect_eq "LAN A -> LAN B in epoch E1 (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
snap hub h0
expect_eq "hub: accepted epoch for spoke A" "$(jv h0 peer.2.rx_epoch)" "$E1"

# restart_with EPOCH: stop spoke A, write EPOCH as its last epoch, start it
restart_with() {
	star_stop spoke-a
	echo "$1" >"$STAR_DIR/state/spoke-a/epoch"
	star_start spoke-a
	wait_for 5 "spoke A to verify the hub" peer_up spoke-a 1
}

echo "== rolled back by one: spoke A starts in E1 again"
restart_with $((E1 - 1))
wait_for 5 "spoke A to move past E1" eval '[ "$(epoch_of spoke-a)" = $((E1 + 1)) ]'
grep -q "moved from epoch $E1 to $((E1 + 1)): a peer reported having accepted epoch $E1" \
	"$STAR_DIR/spoke-a.log" || fail "spoke A did not log its epoch move"
snap spoke-a a1
expect_eq "spoke A: its epoch now" "$(jv a1 node.epoch)" $((E1 + 1))
expect_eq "spoke A: the hub's state" "$(jv a1 peer.1.state)" verified
expect_eq "LAN A -> LAN B after the move (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
wait_for 5 "the hub to accept E1 + 1" eval 'snap hub .h && [ "$(jv .h peer.2.rx_epoch)" = $((E1 + 1)) ]'

echo "== rolled back below the clock: spoke A starts below the epoch the hub accepts"
restart_with 5
wait_for 5 "spoke A to move past E1 + 1" eval '[ "$(epoch_of spoke-a)" = $((E1 + 2)) ]'
grep -q "a peer reported having accepted epoch $((E1 + 1))" "$STAR_DIR/spoke-a.log" ||
	fail "spoke A did not log its second epoch move"
expect_eq "LAN A -> LAN B after the second move (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
wait_for 5 "the hub to accept E1 + 2" eval 'snap hub .h && [ "$(jv .h peer.2.rx_epoch)" = $((E1 + 2)) ]'
snap hub h2
expect_eq "hub: epochs accepted from spoke A (E1, E1 + 1, E1 + 2)" \
	$(($(jv h2 peer.2.epochs_accepted) - $(jv h0 peer.2.epochs_accepted))) 2

echo "== the wire: no (key_id, receiver, epoch, seq) twice"
kill -TERM "$wire_pid" 2>/dev/null || true
wait "$wire_pid" 2>/dev/null || true
"$PKT" headers "$T/wire.json" >"$T/wire.hdr"
total=$(wc -l <"$T/wire.hdr")
# SRC:SPORT DST:DPORT LEN VERSION FLAGS RESERVED KEY_ID EPOCH SEQ
dups=$(awk '{ split($2, d, ":"); print $7, d[1], $8, $9 }' "$T/wire.hdr" | sort | uniq -d | wc -l)
echo "  $total datagrams captured between spoke A and the hub"
expect_ge "datagrams captured" "$total" 40
expect_eq "datagrams sharing a (key_id, receiver, epoch, seq)" "$dups" 0
seq_e1=$(awk -v e="$E1" '$7 == 2 && $8 == e && ($5 == "00" || $5 == "01")' "$T/wire.hdr" | wc -l)
expect_ge "spoke A's sequenced datagrams in E1 (the first run's)" "$seq_e1" 5
pass "a rolled-back spoke moved to E1+1 and then E1+2 before sending data; $total datagrams, no nonce twice"
