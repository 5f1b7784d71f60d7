#!/usr/bin/env bash
# Nothing an attacker replays after a restart delivers a packet or moves an
# endpoint (docs/protocol.md, "Verifying a peer"). Real datagrams are
# captured in both directions between spoke A and the hub, then replayed
# from another address (the attacker's namespace, wired to the hub):
#   1. the hub restarts (same state directory) while spoke A cannot hear
#      it: spoke A's recorded datagrams are all dropped as unverified, each
#      counted once, and only earn challenges sent to the replayer; spoke B,
#      idle, is verified at once at the endpoint the hub remembered at exit;
#      spoke A is verified within 2 s of being heard again; the same
#      recordings replayed then are replays (below the floor its answer set)
#   2. spoke A restarts while the hub cannot hear it: the hub's recorded
#      datagrams are unverified at spoke A, its hub endpoint stays the
#      configured one; then it verifies the hub within 2 s, and the
#      recordings are replays
#   3. both restart at once: unverified on each side, then, once verified,
#      stale_epoch (they belong to the earlier runs)
# In every case the hub's and the spokes' TUN and relay counters do not
# move while only replays arrive, no endpoint is ever the replayer's, and
# LAN A reaches LAN B afterwards.
#   4. a hub restart while a 20 MB transfer LAN A -> LAN B runs, with the
#      first recordings replayed during it: the transfer completes with the
#      same sha256 after a short stall, and the replays are counted.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
command -v nft >/dev/null || skip "nft missing"
e2e_begin replay_restart
e2e_attacker --routed
X=172.31.4.2
# quiet spokes: no keepalive of their own falls inside a count below
set_conf spoke-a keepalive 3600
set_conf spoke-b keepalive 3600

e2e_start_all

# record NAME: spoke A -> hub ($T/NAME-a.frames) and hub -> spoke A
# ($T/NAME-h.frames) datagrams carrying pings LAN A -> LAN B
record() {
	sniff_start "$NS_HUB" hs2 "$1-a" 20 --src 172.31.2.2 --udp-port 51820 --min-len 37 --max 8
	local pa=$BG_PID
	sniff_start "$NS_HUB" hs2 "$1-h" 20 --src 172.31.2.1 --udp-port 51820 --min-len 37 --max 8
	local ph=$BG_PID
	expect_eq "LAN A -> LAN B replies while recording $1 (of 8)" "$(ping_n "$NS_LA" 192.168.2.10 8)" 8
	wait "$pa" || fail "sniffer $1-a"
	wait "$ph" || fail "sniffer $1-h"
	expect_eq "recorded $1: spoke A -> hub" "$(wc -l <"$T/$1-a.frames")" 8
	expect_eq "recorded $1: hub -> spoke A" "$(wc -l <"$T/$1-h.frames")" 8
}

# deaf NS SRC on|off: NS drops what comes from SRC's UDP port 51820
deaf() {
	if [ "$3" = on ]; then
		nsx "$1" nft -f - <<NFT || fail "nft in $1"
table ip deaf {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $2 udp sport 51820 drop
		ip saddr $2 udp dport 51820 drop
	}
}
NFT
	else
		nsx "$1" nft delete table ip deaf
	fi
}
e2e_defer nsx "$NS_A" nft delete table ip deaf
e2e_defer nsx "$NS_HUB" nft delete table ip deaf

listen_port() { snap "$1" ".lp"; jv .lp node.listen | sed 's/.*://'; }
verified() { st "$1" >"$T/.v.json" 2>/dev/null && [ "$(jv .v "peer.$2.state")" = verified ]; }
# time_verified NODE PEER: seconds until NODE verified PEER (5 s at most)
time_verified() {
	local t0 t1
	t0=$(date +%s.%N)
	wait_for 5 "$1 to verify peer $2" verified "$1" "$2"
	t1=$(date +%s.%N)
	awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"
}
# still_quiet NODE OLD NEW: nothing was delivered to TUN or relayed
still_quiet() {
	expect_eq "$1: tun_tx_packets (nothing delivered)" "$(jv "$3" node.tun_tx_packets)" \
		"$(jv "$2" node.tun_tx_packets)"
	expect_eq "$1: relayed_packets" "$(jv "$3" node.relayed_packets)" "$(jv "$2" node.relayed_packets)"
}
not_replayer() { # WHAT ENDPOINT
	case $2 in "$X":*) fail "$1 moved to the replayer: $2" ;; esac
	echo "  ok  $1 = $2 (not the replayer's)"
}

record r1

echo "== 1. the hub restarts; spoke A cannot hear it"
deaf "$NS_A" 172.31.2.1 on
star_stop hub
star_start hub
wait_socket hub
B_T=$(time_verified hub 3)
echo "  spoke B (idle) verified after ${B_T} s, at its remembered endpoint"
expect_le "seconds until the restarted hub verified idle spoke B" "$B_T" 2
snap hub h1a
replay_udp "$NS_X" "$T/r1-a.frames" 172.31.4.1:51820
expect_drops "hub: spoke A's recordings (unverified)" hub h1a "unverified=+8"
snap hub h1b
still_quiet hub h1a h1b
expect_eq "hub: spoke A's state" "$(jv h1b peer.2.state)" unverified
expect_eq "hub: spoke A's endpoint" "$(jv h1b peer.2.endpoint)" null
echo "  the hub challenged spoke A $(($(jv h1b peer.2.challenge_tx) - $(jv h1a peer.2.challenge_tx))) time(s) meanwhile"
deaf "$NS_A" 172.31.2.1 off
A_T=$(time_verified hub 2)
echo "  spoke A verified ${A_T} s after it could hear the hub again"
expect_le "seconds until the hub verified spoke A once it was heard" "$A_T" 2
snap hub h1c
replay_udp "$NS_X" "$T/r1-a.frames" 172.31.4.1:51820
expect_drops "hub: the recordings again (below spoke A's floor)" hub h1c "replay=+8"
snap hub h1d
still_quiet hub h1c h1d
not_replayer "hub: spoke A's endpoint" "$(jv h1d peer.2.endpoint)"
expect_eq "hub: spoke A's endpoint is its own" "$(jv h1d peer.2.endpoint | cut -d: -f1)" 172.31.2.2
expect_eq "LAN A -> LAN B after the hub restart (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

record r2

echo "== 2. spoke A restarts; the hub cannot hear it"
deaf "$NS_HUB" 172.31.2.2 on
star_stop spoke-a
star_start spoke-a
wait_socket spoke-a
PA=$(listen_port spoke-a)
snap spoke-a a2a
replay_udp "$NS_X" "$T/r2-h.frames" "172.31.2.2:$PA"
expect_drops "spoke A: the hub's recordings (unverified)" spoke-a a2a "unverified=+8"
snap spoke-a a2b
still_quiet spoke-a a2a a2b
expect_eq "spoke A: the hub's state" "$(jv a2b peer.1.state)" unverified
expect_eq "spoke A: the hub's endpoint (the configured one)" "$(jv a2b peer.1.endpoint)" 172.31.2.1:51820
deaf "$NS_HUB" 172.31.2.2 off
H_T=$(time_verified spoke-a 1)
echo "  spoke A verified the hub ${H_T} s after the hub could hear it again"
expect_le "seconds until spoke A verified the hub" "$H_T" 2
snap spoke-a a2c
replay_udp "$NS_X" "$T/r2-h.frames" "172.31.2.2:$PA"
expect_drops "spoke A: the recordings again (below the hub's floor)" spoke-a a2c "replay=+8"
snap spoke-a a2d
still_quiet spoke-a a2c a2d
expect_eq "spoke A: the hub's endpoint" "$(jv a2d peer.1.endpoint)" 172.31.2.1:51820
wait_for 5 "the hub to take spoke A's new epoch" eval \
	'snap hub .e && [ "$(jv .e peer.2.rx_epoch)" = "$(epoch_of spoke-a)" ]'
expect_eq "LAN A -> LAN B after spoke A's restart (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

record r3

echo "== 3. both restart at once; neither can hear the other"
star_stop hub
star_stop spoke-a
deaf "$NS_A" 172.31.2.1 on
deaf "$NS_HUB" 172.31.2.2 on
star_start hub
star_start spoke-a
wait_socket hub
wait_socket spoke-a
PA=$(listen_port spoke-a)
snap hub h3a
snap spoke-a a3a
replay_udp "$NS_X" "$T/r3-a.frames" 172.31.4.1:51820
replay_udp "$NS_X" "$T/r3-h.frames" "172.31.2.2:$PA"
expect_drops "hub: spoke A's recordings (unverified)" hub h3a "unverified=+8"
expect_drops "spoke A: the hub's recordings (unverified)" spoke-a a3a "unverified=+8"
deaf "$NS_A" 172.31.2.1 off
deaf "$NS_HUB" 172.31.2.2 off
T3=$(time_verified hub 2)
T3A=$(time_verified spoke-a 1)
echo "  verified each other ${T3} s / ${T3A} s after they could hear each other"
expect_le "seconds until both were verified" "$T3" 2
snap hub h3b
snap spoke-a a3b
replay_udp "$NS_X" "$T/r3-a.frames" 172.31.4.1:51820
replay_udp "$NS_X" "$T/r3-h.frames" "172.31.2.2:$PA"
expect_drops "hub: spoke A's earlier run's datagrams" hub h3b "stale_epoch=+8"
expect_drops "spoke A: the hub's earlier run's datagrams" spoke-a a3b "stale_epoch=+8"
snap hub h3c
snap spoke-a a3c
still_quiet hub h3b h3c
still_quiet spoke-a a3b a3c
not_replayer "hub: spoke A's endpoint" "$(jv h3c peer.2.endpoint)"
expect_eq "spoke A: the hub's endpoint" "$(jv a3c peer.1.endpoint)" 172.31.2.1:51820
expect_eq "LAN A -> LAN B after both restarted (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

echo "== 4. a hub restart during a 20 MB transfer LAN A -> LAN B (paced at 40 Mbit/s)"
bg nsx "$NS_LB" timeout 90 "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$T/rx.ready" \
	--secs 80 >"$T/rx.out"
rx_pid=$BG_PID
wait_for 10 "the TCP receiver" test -e "$T/rx.ready"
bg nsx "$NS_LA" timeout 90 "$PKT" tcp-send --to 192.168.2.10:5001 --bytes 20000000 --mbps 40 \
	--secs 80 >"$T/tx.out"
tx_pid=$BG_PID
sleep 1.5
star_stop hub
star_start hub
wait_socket hub
replay_udp "$NS_X" "$T/r1-a.frames" 172.31.4.1:51820
wait "$tx_pid" || fail "TCP send failed"
wait "$rx_pid" || fail "TCP receiver failed"
read -r rx_bytes rx_sha <"$T/rx.out"
read -r tx_bytes tx_sha secs <"$T/tx.out"
expect_eq "bytes received" "$rx_bytes" 20000000
expect_eq "sha256 on arrival" "$rx_sha" "$tx_sha"
stall=$(awk "BEGIN { printf \"%.2f\", $secs - 20000000 * 8 / 40e6 }")
echo "  transfer took $secs s at 40 Mbit/s pacing (4.00 s without a stall): ${stall} s longer"
expect_le "stall of the transfer across the hub restart, s" "$stall" 3
snap hub h4
d=$(nonzero_drops h4 2)
echo "  the new hub's drops for spoke A: $d"
[[ $d =~ ^(stale_epoch=[0-9]+ ?)?(unverified=[0-9]+)?$ ]] || fail "unexpected drops for spoke A: $d"
# the 8 recordings of spoke A's earlier run: unverified or stale_epoch, never more
expect_ge "hub: spoke A's stale_epoch + unverified (the replays at least)" \
	$(($(jv h4 peer.2.drops.stale_epoch) + $(jv h4 peer.2.drops.unverified))) 8
not_replayer "hub: spoke A's endpoint" "$(jv h4 peer.2.endpoint)"
pass "after hub, spoke and joint restarts every replay was unverified, replay or stale_epoch, nothing delivered or moved; verified in ${B_T}/${A_T}/${H_T}/${T3} s; 20 MB across a hub restart, stall ${stall} s"
