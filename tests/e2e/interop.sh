#!/usr/bin/env bash
# subnetrad interoperates with an independent implementation of the
# protocol, written from docs/protocol.md alone (tests/e2e/specpeer.py, pure
# Python). The real hub and the real spoke B run; in spoke A's namespace the
# spec peer plays spoke A (its key, id 2, overlay 10.0.0.2, LAN
# 192.168.1.0/24) instead of subnetrad.
#
#  0. specpeer.py selftest: the RFC 7748 / RFC 8439 examples and every value
#     of the document's test vector, the receive steps case by case.
#  1. Both verify each other; the spec peer pings the hub's overlay address
#     and spoke B's LAN host (relayed through the hub to the real spoke B),
#     the hub and LAN B ping the spec peer; the hub shows peer 2 verified in
#     the spec peer's epoch; datagrams the spec peer sent, replayed from
#     another port, are replays and move nothing.
#  2. The hub restarts (same state directory) while the spec peer runs:
#     datagrams the spec peer sent before, replayed from another port to the
#     new hub, are dropped (unverified, bad_response), deliver nothing and
#     set no endpoint; then the spec peer is challenged, answers, its pings
#     work again within 2 s, it accepts the hub's new epoch, and the same
#     replays now meet the freshness floor of its response (replay).
#  3. The spec peer restarts with a rolled-back epoch (the same as its first
#     run), then with a lower one: each time it learns from the hub's
#     RESPONSE that the hub accepted an epoch >= its own, moves past it
#     (persisted) before it sends any data or keepalive, and the hub accepts
#     the new epoch. No (key, nonce) is used twice on the wire by either
#     side over all three runs; the periodic keepalive reaches the hub.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin interop

SP=$E2E_DIR/specpeer.py
SP_ADDR=172.31.2.2

echo "== specpeer.py selftest"
"$PY" "$SP" selftest --quick >"$T/selftest.out" || { cat "$T/selftest.out"; fail "selftest"; }
tail -1 "$T/selftest.out"

# spec_peer NAME ARGS...: the spec peer as spoke A, in spoke A's namespace;
# its JSON report goes to $T/NAME.json (read with jv NAME PATH), its log to
# $STAR_DIR/specpeer-NAME.log (shown on failure), what it sends to
# $T/NAME.sent, what it receives to $T/NAME.rec.
spec_peer() {
	local name=$1; shift
	nsx "$NS_A" timeout 100 "$PY" "$SP" spoke --key "$STAR_DIR/keys/spoke-a.key" --id 2 \
		--hub-id 1 --hub-pub "$(pubkey_of hub)" --hub 172.31.2.1:51820 --bind "$SP_ADDR:0" \
		--src 10.0.0.2 --lan 192.168.1.0/24 --route 192.168.2.0/24 --state-file "$T/sp.epoch" \
		--sent "$T/$name.sent" --record "$T/$name.rec" --timeout 90 "$@" \
		>"$T/$name.json" 2>"$STAR_DIR/specpeer-$name.log"
}
spec_done() { # NAME PID: wait for it, fail with its report unless it held its script
	wait "$2" || fail "spec peer run $1 failed (its log follows)"
	echo "  spec peer $1: $(jv "$1" script | "$PY" -c 'import json,sys; print("; ".join(
		r["action"] + ": " + r["detail"] for r in json.load(sys.stdin)
		if r["detail"] and not r["action"].startswith("craft")))')"
}
# replay_want REPORT INDEX REASON: the hub's drops for that replay of the spec
# peer's datagrams: its data and keepalives under REASON, its responses as
# bad_response (its challenges are answered, not dropped)
replay_want() {
	kinds "$1" "$2" sent_by_kind | "$PY" -c "import json,sys; k=json.load(sys.stdin)
r, d = k.get('response', 0), k.get('data', 0) + k.get('keepalive', 0)
print(' '.join(([f'bad_response=+{r}'] if r else []) + [f'$3=+{d}']))"
}
state_is() { st hub >"$T/.s.json" 2>/dev/null && [ "$(jv .s "peer.$1.state")" = "$2" ]; }
file_in() { wait_for "$2" "$1" test -e "$T/$1"; }
kinds() { # NAME INDEX FIELD: a field of the spec peer's INDEXth replay (JSON)
	jv "$1" replays | "$PY" -c "import json,sys; print(json.dumps(json.load(sys.stdin)[$2][\"$3\"]))"
}

star_start hub
star_start spoke-b
wait_for 15 "the hub to verify spoke B" state_is 3 verified
wait_for 15 "spoke B to verify the hub" peer_up spoke-b 1
snap hub h0

echo "== 1. the spec peer as spoke A"
E1=$(date +%s)
bg spec_peer run1 --epoch "$E1" --keepalive 60 --script "
	expect-verified 5; wait 0.3
	ping 10.0.0.1 3; ping 192.168.2.10 3
	touch $T/run1.up; wait-file $T/run1.replay 30
	replay $T/run1.sent 0 data; report $T/r1.json; touch $T/run1.replayed
	wait-file $T/hub.back 40
	replay $T/run1.sent 0 all; report $T/r2.json; touch $T/run1.replayed2
	wait-file $T/run1.go 30; mark before
	ping-until 10.0.0.1 2; ping 192.168.2.10 3; mark after
	report $T/r3.json; touch $T/run1.pinged; wait-file $T/run1.replay3 30
	replay $T/run1.sent 0 all; report $T/r4.json; touch $T/run1.replayed3
	wait-file $T/run1.stop 30"
run1=${E2E_BG[-1]}
file_in run1.up 15
snap hub h1
H1=$(jv h1 node.epoch)
# the spec peer's RESPONSE reports the hub's own epoch back (it learnt it from
# the hub's RESPONSE): the hub answered its challenge in this run, no move
expect_eq "hub: own epoch (not moved by the spec peer's report)" "$H1" "$(jv h0 node.epoch)"
expect_eq "hub: peer 2 state" "$(jv h1 peer.2.state)" verified
expect_eq "hub: epoch accepted from the spec peer" "$(jv h1 peer.2.rx_epoch)" "$E1"
SP_EP=$(jv h1 peer.2.endpoint)
expect_eq "hub: the spec peer's endpoint is in spoke A's namespace" "${SP_EP%:*}" "$SP_ADDR"
expect_eq "hub -> spec peer (10.0.0.2) replies (of 3)" "$(ping_n "$NS_HUB" 10.0.0.2 3)" 3
expect_eq "LAN B -> spec peer (relayed) replies (of 3)" "$(ping_n "$NS_LB" 10.0.0.2 3)" 3
snap hub h1b
touch "$T/run1.replay"
file_in run1.replayed 10
expect_drops "hub: spec peer's data replayed from another port (verified peer)" hub h1b \
	"$(replay_want r1 0 replay)" 2
snap hub h1c
expect_eq "hub: the spec peer's endpoint (unchanged)" "$(jv h1c peer.2.endpoint)" "$SP_EP"
expect_eq "hub: packets delivered by the replay" \
	$(($(jv h1c node.tun_tx_packets) - $(jv h1b node.tun_tx_packets))) 0

echo "== 2. the hub restarts (same state directory) under the spec peer"
B_PID=$(star_pid spoke-b)
star_stop hub || fail "the hub did not stop cleanly"
# as after a crash: the new hub remembers no endpoint (replay_restart.sh
# covers the hub that does), so it verifies a spoke only once it speaks
rm -f "$STAR_DIR/state/hub/endpoints"
star_start hub
wait_for 10 "the new hub's control socket" st hub
snap hub h2
H2=$(jv h2 node.epoch)
[ "$H2" -gt "$H1" ] || fail "the hub's new epoch $H2 is not above $H1"
touch "$T/hub.back"
file_in run1.replayed2 10
echo "  replayed to the new hub: $(kinds r2 1 sent_by_kind)"
expect_drops "hub: every replayed datagram dropped (unverified peer)" hub h2 \
	"$(replay_want r2 1 unverified)" 2
snap hub h2b
expect_eq "hub: peer 2 state after the replay" "$(jv h2b peer.2.state)" unverified
expect_eq "hub: peer 2 endpoint after the replay (none learnt)" "$(jv h2b peer.2.endpoint)" null
expect_eq "hub: packets delivered by the replay" \
	$(($(jv h2b node.tun_tx_packets) - $(jv h2 node.tun_tx_packets))) 0
# the new hub knows no spoke's address: spoke B, idle, would speak again only
# with its next keepalive (25 s); a packet from it earns it the challenge
# (that packet is lost: a hub restart costs each spoke its first packet)
wait_for 10 "spoke B to reach the new hub" nsx "$NS_B" ping -c1 -W1 -q 10.0.0.1
wait_for 5 "the new hub to verify spoke B" state_is 3 verified
touch "$T/run1.go"
file_in run1.pinged 15
snap hub h3
echo "  the replayer at the new hub got back: $(kinds r3 1 received) (and cannot answer)"
expect_eq "hub: peer 2 state" "$(jv h3 peer.2.state)" verified
expect_eq "hub: epoch accepted from the spec peer" "$(jv h3 peer.2.rx_epoch)" "$E1"
expect_eq "hub: the spec peer's endpoint" "$(jv h3 peer.2.endpoint)" "$SP_EP"
expect_eq "hub: own epoch (not moved)" "$(jv h3 node.epoch)" "$H2"
expect_eq "spoke B: the same process" "$(star_pid spoke-b)" "$B_PID"
for k in challenge_rx response_tx; do
	d=$(($(jv r3 "marks.after.counters.$k") - $(jv r3 "marks.before.counters.$k")))
	expect_range "spec peer: $k across the hub restart" "$d" 1 3
done
expect_eq "spec peer: accepts the hub's new epoch" "$(jv r3 marks.after.hub_epoch)" "$H2"
touch "$T/run1.replay3"
file_in run1.replayed3 10
expect_drops "hub: the same replays after the spec peer's response (freshness floor)" hub h3 \
	"$(replay_want r4 2 replay)" 2
touch "$T/run1.stop"
spec_done run1 "$run1"
expect_eq "spec peer: datagrams of the hub it dropped" "$(jv run1 rejected)" "[]"
echo "  time to verified $(jv run1 time_to_verified) s; pings after the hub restart:" \
	"$(jv run1 ping_until)"

echo "== 3. the spec peer restarts with a rolled-back epoch ($E1 again)"
snap hub h4
bg spec_peer run2 --epoch "$E1" --keepalive 60 --script "
	expect-verified 5; expect-epoch-moved; wait 0.3
	ping 10.0.0.1 3; ping 192.168.2.10 3"
spec_done run2 "${E2E_BG[-1]}"
E2=$(jv run2 epoch)
expect_eq "spec peer: the hub reported accepting" "$(jv run2 hub_reported_epoch)" "$E1"
[ "$E2" -gt "$E1" ] || fail "the spec peer's new epoch $E2 is not above $E1"
expect_eq "spec peer: its new epoch was persisted" "$(cat "$T/sp.epoch")" "$E2"
snap hub h5
expect_eq "hub: epoch accepted from the spec peer" "$(jv h5 peer.2.rx_epoch)" "$E2"
expect_eq "hub: epochs accepted from it" "$(jv h5 peer.2.epochs_accepted)" \
	$(($(jv h4 peer.2.epochs_accepted) + 1))

echo "== ... and with a lower one ($((E1 - 1000))), periodic keepalives every second"
bg spec_peer run3 --epoch $((E1 - 1000)) --keepalive 1 --script "
	expect-verified 5; expect-epoch-moved; wait 0.3; ping 192.168.2.10 2; wait 2.6"
spec_done run3 "${E2E_BG[-1]}"
E3=$(jv run3 epoch)
expect_eq "spec peer: the hub reported accepting" "$(jv run3 hub_reported_epoch)" "$E2"
[ "$E3" -gt "$E2" ] || fail "the spec peer's new epoch $E3 is not above $E2"
snap hub h6
expect_eq "hub: epoch accepted from the spec peer" "$(jv h6 peer.2.rx_epoch)" "$E3"
ka=$(($(jv h6 peer.2.keepalive_rx) - $(jv h5 peer.2.keepalive_rx)))
expect_range "hub: keepalives from the spec peer (1 at verification, then 1 a second)" "$ka" 3 5
for r in run2 run3; do
	expect_eq "spec peer $r: datagrams of the hub it dropped" "$(jv $r rejected)" "[]"
done

echo "== 4. roaming; the hub's receive steps, probed with one datagram per drop reason"
PROBES="short bad_version reserved_flag reserved_byte two_kinds empty_data keepalive_plain
	challenge_len response_len unknown_peer own_id auth_fail auth_fail_epoch stale_epoch
	bad_inner inner_src relay_loop no_route bad_response challenge keepalive"
probe_script=$(for p in $PROBES; do printf 'craft %s; ' "$p"; done)
bg spec_peer run4 --keepalive 60 --script "
	expect-verified 5; wait 0.3; touch $T/run4.up; wait-file $T/run4.roam 20
	rebind; ping 10.0.0.1 2; report $T/r4b.json; touch $T/run4.roamed; wait-file $T/run4.probe 20
	$probe_script wait 0.3; touch $T/run4.probed
	wait-file $T/hub.back2 30; answer-reporting 0; ping-until 10.0.0.1 2; report $T/r5.json
	touch $T/run4.moved; wait-file $T/hub.back3 30; answer-reporting 1000
	ping-until 10.0.0.1 2; report $T/r6.json"
run4=${E2E_BG[-1]}
file_in run4.up 15
snap hub h6b
touch "$T/run4.roam"
file_in run4.roamed 10
snap hub h7
echo "  the spec peer moved from $(jv h6b peer.2.endpoint) to $(jv r4b local) (a NAT rebinding)"
expect_eq "hub: the spec peer's endpoint follows it" "$(jv h7 peer.2.endpoint)" "$(jv r4b local)"
expect_eq "hub: drops for the move" "$(drops h6b h7 2)" none
touch "$T/run4.probe"
file_in run4.probed 10
# the document's steps 1-11 in order: 1 short, 1 bad_version, 7 bad_header,
# 2 unknown_peer (another id, the hub's own), 2 auth_fail (one of a newer
# epoch), 1 each of the rest; a CHALLENGE answered, a KEEPALIVE accepted
expect_drops "hub: drops for the probes" hub h7 "auth_fail=+2 bad_header=+7 bad_inner=+1\
 bad_response=+1 bad_version=+1 inner_src=+1 no_route=+1 relay_loop=+1 short=+1 stale_epoch=+1\
 unknown_peer=+2"
snap hub h8
for k in challenge_rx response_tx keepalive_rx; do
	expect_eq "hub: peer 2 $k for the probes" $(($(jv h8 "peer.2.$k") - $(jv h7 "peer.2.$k"))) 1
done
expect_eq "hub: epoch accepted from the spec peer (not moved by a probe)" \
	"$(jv h8 peer.2.rx_epoch)" "$(jv h7 peer.2.rx_epoch)"

echo "== 5. a hub told that its epoch was used before moves past it"
hub_restart() { # NAME: restart the hub, snapshot it as NAME once it answers
	star_stop hub || fail "the hub did not stop cleanly"
	# no remembered endpoints: the hub challenges the spec peer only once
	# the spec peer's script speaks, with the report it is told to give
	rm -f "$STAR_DIR/state/hub/endpoints"
	star_start hub
	wait_for 10 "the new hub's control socket" st hub
	snap hub "$1"
}
hub_restart m2
HB2=$(jv m2 node.epoch)
touch "$T/hub.back2"
file_in run4.moved 10
hub_restart m3
HB3=$(jv m3 node.epoch)
touch "$T/hub.back3"
spec_done run4 "$run4"
REP2=$HB2 REP3=$((HB3 + 1000))
snap hub m4
expect_eq "hub: peer 2 state" "$(jv m4 peer.2.state)" verified
M2=$(jv r5 hub_epoch) M3=$(jv r6 hub_epoch)
echo "  report of exactly its own epoch $HB2 (it answered no challenge of ours): -> $M2"
echo "  report of $REP3 (its epoch + 1000): -> $M3"
[ "$M2" -gt "$REP2" ] || fail "the hub did not move past $REP2 (sent in $M2)"
[ "$M3" -gt "$REP3" ] || fail "the hub did not move past $REP3 (sent in $M3)"
expect_eq "hub: its epoch now" "$(jv m4 node.epoch)" "$M3"
expect_eq "hub: its persisted epoch" "$(epoch_of hub)" "$M3"
expect_eq "spec peer run4: datagrams of the hub it dropped (the probed CHALLENGE's answer)" \
	"$("$PY" -c 'import json,sys; print(" ".join(r["reason"] for r in json.load(sys.stdin)))' \
	<<<"$(jv run4 rejected)")" bad_response

echo "== the wire: no (key, nonce) twice; nothing sequenced in an epoch reported used"
logs=$(for i in 1 2 3 4; do printf '%s ' "$T/run$i.sent" "$T/run$i.rec"; done)
# shellcheck disable=SC2086
"$PY" "$SP" wire-check $logs "$T/run2.sent:>$E1" "$T/run3.sent:>$E2" \
	"$T/run4.rec:!$HB2" "$T/run4.rec:!$HB3" || fail "the wire check"
wait_for 10 "spoke B to reach the hub (restarted again)" nsx "$NS_B" ping -c1 -W1 -q 10.0.0.1
expect_eq "spoke B -> hub replies at the end (of 3)" "$(ping_n "$NS_B" 10.0.0.1 3)" 3
pass "the spec peer and subnetrad verify each other; pings both ways and relayed; hub restart" \
	"re-verified within 2 s; rolled-back and lower epochs moved past on both sides; replays" \
	"refused; every probe counted under the document's reason"
