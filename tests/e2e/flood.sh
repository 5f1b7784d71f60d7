#!/usr/bin/env bash
# Hostile traffic has a bounded price (issue 11; docs/protocol.md section 6):
# while LAN A sends LAN B a TCP transfer through the hub (sha256 checked),
# sn-loadgen floods the hub from the attacker's namespace with datagrams it
# must drop, SN_FLOOD_RATE a second (default 50,000) for SN_FLOOD_SECS
# (default 2) per phase:
#   1. a mix of unknown key_ids, bad tags of spoke A in its accepted epoch,
#      forged newer epochs of spoke A, stale epochs, short datagrams and
#      spoke A's own datagrams recorded earlier, from the attacker's ports;
#   2. the same from random spoofed source addresses (a raw socket);
#   3. only forged newer epochs: at most one candidate derivation per
#      100 ms for the peer (auth_fail), the rest epoch_limit, untried.
# Each kind is counted under its reason (what the kernel dropped for a full
# socket buffer shows as rx_overflow), nothing of the flood is accepted (the
# hub accepts from spoke A and B at most what they sent), spoke A stays
# verified in its epoch, the transfer arrives intact. bench/flood.sh
# measures the throughput at 200,000 a second.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin flood
e2e_attacker
RATE=${SN_FLOOD_RATE:-50000}
SECS=${SN_FLOOD_SECS:-2}
e2e_start_all
E_A=$(jv start.hub peer.2.rx_epoch)

echo "== spoke A's datagrams to the hub, recorded for the replays"
sniff_start "$NS_HUB" hs2 rec 3 --src 172.31.2.2 --max 50
ping_n "$NS_LA" 192.168.2.10 20 -i 0.05 >/dev/null
wait "$BG_PID" || true
[ -s "$T/rec.frames" ] || fail "nothing recorded"

echo "== a TCP transfer LAN A -> LAN B through the hub during the floods"
settle f0 hub spoke-a spoke-b
bg nsx "$NS_LB" timeout 120 "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$T/rx.ready" \
	--secs 110 >"$T/recv.out"
RX=$BG_PID
wait_for 10 "the receiver" test -e "$T/rx.ready"
bg nsx "$NS_LA" timeout 120 "$PKT" tcp-send --to 192.168.2.10:5001 \
	--bytes $((2 * 1000 * 1000 * (3 * SECS + 4))) --mbps 16 --secs 110 >"$T/send.out"
TX=$BG_PID

# drained NAME: the hub's status in $T/NAME.json once its drop counters
# stopped moving (it has read everything the flood left in its socket)
drained() {
	local _
	snap hub "$1"
	for _ in $(seq 40); do
		sleep 0.25
		snap hub .drain
		[ "$(drops "$1" .drain)" = none ] && return 0
		cp "$T/.drain.json" "$T/$1.json"
	done
	fail "the hub's drop counters never stopped moving"
}

# flood NAME ARGS...: one phase; the hub's status before and after
flood() {
	local name=$1; shift
	snap hub "$name.before"
	nsx "$NS_X" "$SN_LOADGEN" flood --to 172.31.4.1:51820 --rate "$RATE" --secs "$SECS" \
		--peer 2 --epoch "$E_A" --result "$T/$name.json" "$@" || fail "flood $name"
	drained "$name.after"
	echo "  $name: sent $(jv "$name" sent) in $(jv "$name" secs) s ($(jv "$name" rate)/s)," \
		"hub drops $(drops "$name.before" "$name.after")"
}
# moved NAME REASON: how much the hub's drop counter REASON grew in phase NAME
moved() { echo $(($(jv "$1.after" "drops.$2") - $(jv "$1.before" "drops.$2"))); }
# accounted NAME "KIND..." REASON...: the datagrams of the KINDs are all
# counted under the REASONs, less at most what the kernel dropped for a
# full socket buffer (rx_overflow)
accounted() {
	local name=$1 kind=$2 sent=0 got=0 over r k; shift 2
	for k in $kind; do sent=$((sent + $(jv "$name" "kinds.$k"))); done
	for r in "$@"; do got=$((got + $(moved "$name" "$r"))); done
	over=$(moved "$name" rx_overflow)
	expect_le "$name: $kind counted under $* (of $sent sent)" "$got" "$sent"
	expect_ge "$name: $kind counted, or dropped by the kernel ($over rx_overflow)" \
		$((got + over)) "$sent"
}

echo "== 1. a mix of hostile kinds"
flood mix --kinds unknown,badtag,epoch,stale,short,replay --replay-frames "$T/rec.frames"
accounted mix unknown unknown_peer
accounted mix stale stale_epoch
accounted mix short short
accounted mix replay replay
accounted mix "badtag epoch" auth_fail epoch_limit
echo "== 2. the same from spoofed sources"
flood spoof --kinds unknown,badtag,epoch,stale,short --spoof 198.18.0.0/15
accounted spoof unknown unknown_peer
accounted spoof stale stale_epoch
accounted spoof short short
accounted spoof "badtag epoch" auth_fail epoch_limit
echo "== 3. forged newer epochs only"
flood epoch --kinds epoch
tries=$(moved epoch auth_fail)
expect_le "epoch: candidates derived for spoke A (one per 100 ms)" "$tries" \
	$(awk "BEGIN { print int($(jv epoch secs) * 10) + 2 }")
accounted epoch epoch epoch_limit auth_fail

echo "== nothing of the floods accepted; the transfer intact"
wait "$TX" || fail "the sender failed: $(cat "$T/send.out")"
wait "$RX" || fail "the receiver failed"
read -r n sha _ <"$T/send.out"
expect_eq "bytes and sha256 on arrival" "$(cat "$T/recv.out")" "$n $sha"
settle f1 hub spoke-a spoke-b
for p in 2:spoke-a 3:spoke-b; do
	id=${p%%:*} node=${p#*:}
	acc=$(($(jv f1.hub "peer.$id.rx_packets") - $(jv f0.hub "peer.$id.rx_packets")))
	sent=$(($(jv "f1.$node" peer.1.tx_packets) - $(jv "f0.$node" peer.1.tx_packets)))
	expect_le "hub: datagrams accepted from $node (it sent $sent)" "$acc" "$sent"
done
expect_ge "hub: datagrams accepted from spoke-a during the floods" \
	$(($(jv f1.hub peer.2.rx_packets) - $(jv f0.hub peer.2.rx_packets))) 1000
expect_eq "hub: spoke A still verified in its epoch" \
	"$(jv f1.hub peer.2.state)/$(jv f1.hub peer.2.rx_epoch)" "verified/$E_A"
expect_eq "hub: nothing delivered to its own TUN" \
	$(($(jv f1.hub node.tun_tx_packets) - $(jv f0.hub node.tun_tx_packets))) 0
pass "$(jv mix sent) + $(jv spoof sent) + $(jv epoch sent) hostile datagrams at ~$RATE/s:" \
	"each counted under its reason, none accepted; $tries candidate derivations for" \
	"$(jv epoch sent) forged epochs; $n bytes intact"
