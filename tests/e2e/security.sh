#!/usr/bin/env bash
# An attacker on the underlay (docs/trust.md, "An attacker on the underlay")
# gets nothing through the hub, and every datagram is counted under the
# reason docs/protocol.md, section 6 (Receiving) names, exactly once:
#   - spoke B's real datagrams, captured at the hub and replayed byte for
#     byte (same source port), and resealed copies of the same seqs: replay
#   - a valid seal in an older epoch: stale_epoch
#   - a flipped byte (ciphertext, tag, header seq) and a broken datagram in
#     a newer epoch: auth_fail
#   - key_id 99, the hub's own id 1, 0 and 0xffffffff: unknown_peer
#   - 0, 1 and 35 bytes: short; version 0 and 2: bad_version
#   - a reserved flag bit, reserved byte 2 or 3 set, flags 0 with an empty
#     plaintext: bad_header
# and none of them delivers a packet (hub TUN, relay and the spokes' TUN
# counters unchanged), moves an endpoint or changes an accepted epoch.
# A 65000-byte datagram (bigger than any buffer) is counted once and
# delivers nothing. Spoke A checks the same way: the hub's captured
# datagram replayed [replay], a flipped byte and a broken newer hub epoch
# [auth_fail], key_id of spoke B or its own [unknown_peer]; its hub
# endpoint and accepted hub epoch do not move.
# Last, the replay window (section 5 step 6, at least 2048 seqs): with spoke
# B's daemon stopped, authentic keepalives in a newer epoch with seq
# 1000000, 997953 (2047 below the top, unseen) and 999999 are accepted;
# 997953 and 1000000 again, and seq 7 (far below the window), are replay.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin security

e2e_start_all
HUBPUB=$(pubkey_of hub)
EB=$(epoch_of spoke-b)
HUB=172.31.3.1:51820

echo "== capture 3 of spoke B's datagrams at the hub"
sniff_start "$NS_HUB" hs3 cap 25 --src 172.31.3.2 --udp-port 51820 --min-len 37 --max 3
sniff_pid=$BG_PID
expect_eq "spoke B -> hub replies (of 3)" "$(ping_n "$NS_B" 10.0.0.1 3)" 3
wait "$sniff_pid" || fail "the sniffer failed"
expect_eq "datagrams captured" "$(wc -l <"$T/cap.frames")" 3
# headers: SRC:PORT DST:PORT LEN VERSION FLAGS RESERVED KEY_ID EPOCH SEQ
"$PKT" headers "$T/cap.json" >"$T/cap.hdr"
expect_eq "captured: version flags reserved key_id epoch" \
	"$(awk '{ print $4, $5, $6, $7, $8 }' "$T/cap.hdr" | sort -u)" "01 00 0000 3 $EB"
SEQS=$(awk '{ print $9 }' "$T/cap.hdr")
echo "  captured seqs $(echo $SEQS) of spoke B epoch $EB"

snap hub s0
snap spoke-a a0
snap spoke-b b0

echo "== replays"
# byte-identical frames from spoke B's own address and port, twice each
replay_frames "$NS_B" ul "$T/cap.frames" --times 2
spoke_b() { inject "$NS_B" --to "$HUB" --key "$STAR_DIR/keys/spoke-b.key" --peer-pub "$HUBPUB" \
	--id 3 --peer-id 1 "$@"; }
for s in $SEQS; do spoke_b --epoch "$EB" --seq "$s"; done
expect_drops "hub: drops after 6 replayed frames + 3 resealed seqs" hub s0 "replay=+9"

echo "== stale epoch, flipped bytes, newer epoch with a bad tag"
spoke_b --epoch $((EB - 1)) --seq 5
spoke_b --epoch "$EB" --seq 1000000 --flip 30        # ciphertext
spoke_b --epoch "$EB" --seq 1000001 --flip 79        # last tag byte
spoke_b --epoch "$EB" --seq 1000002 --flip 19        # seq's low byte (in the AAD)
spoke_b --epoch $((EB + 1)) --seq 0 --flip 79        # a newer epoch, broken
expect_drops "hub: drops so far" hub s0 "auth_fail=+4 replay=+9 stale_epoch=+1"

echo "== unknown key_id"
spoke_b --epoch "$EB" --seq 1000003 --raw-key-id 99
spoke_b --epoch "$EB" --seq 1000004 --raw-key-id 1
V=$(spoke_b --hex --epoch "$EB" --seq 1000005)
K=$(spoke_b --hex --epoch "$EB" --seq 1000006 --keepalive)
expect_eq "a sealed datagram is 20 + 44 + 16 bytes" $((${#V} / 2)) 80
expect_eq "a sealed keepalive is 36 bytes" $((${#K} / 2)) 36
udp() { udp_send "$NS_B" "$HUB" "$@"; }
udp "${V:0:8}00000000${V:16}" "${V:0:8}ffffffff${V:16}"
expect_drops "hub: drops so far" hub s0 "auth_fail=+4 replay=+9 stale_epoch=+1 unknown_peer=+4"

echo "== short, bad version, bad header"
udp "" "01" "${V:0:70}"
udp "$(setb "$V" 0 02)" "$(setb "$V" 0 00)"
udp "$(setb "$V" 1 02)" "$(setb "$V" 1 80)" "$(setb "$V" 2 01)" "$(setb "$V" 3 01)" "$(setb "$K" 1 00)"
expect_drops "hub: all drops" hub s0 \
	"auth_fail=+4 bad_header=+5 bad_version=+2 replay=+9 short=+3 stale_epoch=+1 unknown_peer=+4"

snap hub s1
snap spoke-a a1
snap spoke-b b1
expect_eq "hub: spoke B's drops" "$(drops s0 s1 3)" "auth_fail=+4 replay=+9 stale_epoch=+1"
expect_eq "hub: spoke A's drops" "$(drops s0 s1 2)" "none"
for k in node.tun_tx_packets node.tun_rx_packets node.relayed_packets peer.3.endpoint peer.3.rx_epoch \
	peer.3.epochs_accepted peer.2.endpoint peer.2.rx_epoch peer.2.epochs_accepted; do
	expect_eq "hub: $k (unchanged)" "$(jv s1 "$k")" "$(jv s0 "$k")"
done
expect_eq "hub: spoke B's accepted epoch is spoke B's" "$(jv s1 peer.3.rx_epoch)" "$EB"
for n in a b; do
	expect_eq "spoke $n: tun_tx_packets (unchanged)" "$(jv ${n}1 node.tun_tx_packets)" \
		"$(jv ${n}0 node.tun_tx_packets)"
done

echo "== a 65000-byte datagram"
snap hub o0
udp --pad 65000 "${V:0:40}"
wait_for 10 "the hub to count it" eval 'snap hub o1 && [ "$(drops o0 o1)" != none ]'
sleep 0.3
snap hub o1
d=$(drops o0 o1)
echo "  counted as: $d"
[[ $d =~ ^[a-z_]+=\+1$ ]] || fail "the oversized datagram was not counted exactly once: $d"
expect_eq "hub: tun_tx_packets (unchanged)" "$(jv o1 node.tun_tx_packets)" "$(jv o0 node.tun_tx_packets)"
kill -0 "$(star_pid hub)" || fail "the hub died"
expect_eq "LAN A -> LAN B still works (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

echo "== spoke A checks the same way"
snap spoke-a sa0
PA=$(jv sa0 node.listen | sed 's/.*://')
EH=$(jv sa0 peer.1.rx_epoch)
sniff_start "$NS_A" ul hub 25 --src 172.31.2.1 --udp-port 51820 --min-len 37 --max 1
sniff_pid=$BG_PID
expect_eq "hub -> spoke A replies (of 1)" "$(ping_n "$NS_HUB" 10.0.0.2 1)" 1
wait "$sniff_pid" || fail "the sniffer failed"
snap spoke-a sa1
replay_frames "$NS_HUB" hs2 "$T/hub.frames" --times 2
hub_to_a() { inject "$NS_HUB" --to "172.31.2.2:$PA" --key "$STAR_DIR/keys/hub.key" \
	--peer-pub "$(pubkey_of spoke-a)" --id 1 --peer-id 2 "$@"; }
hub_to_a --epoch "$EH" --seq 1000000 --flip 30
hub_to_a --epoch $((EH + 1)) --seq 0 --flip 79
hub_to_a --epoch "$EH" --seq 1000001 --raw-key-id 3
hub_to_a --epoch "$EH" --seq 1000002 --raw-key-id 2
expect_drops "spoke A: drops" spoke-a sa1 "auth_fail=+2 replay=+2 unknown_peer=+2"
snap spoke-a sa2
for k in node.tun_tx_packets peer.1.endpoint peer.1.rx_epoch peer.1.epochs_accepted; do
	expect_eq "spoke A: $k (unchanged)" "$(jv sa2 "$k")" "$(jv sa1 "$k")"
done
expect_eq "LAN A -> LAN B still works (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3

echo "== the replay window"
rc=0
star_stop spoke-b || rc=$?
expect_eq "spoke B exit status" "$rc" 0
snap hub w0
E=$(($(jv w0 peer.3.rx_epoch) + 1))
K0=$(jv w0 peer.3.keepalive_rx)
ka_rx_is() { st hub >"$T/.w.json" && [ "$(jv .w peer.3.keepalive_rx)" = "$1" ]; }
spoke_b --epoch "$E" --keepalive --seq 1000000
wait_for 10 "the hub to accept seq 1000000" ka_rx_is $((K0 + 1))
spoke_b --epoch "$E" --keepalive --seq 997953
wait_for 10 "the hub to accept seq 997953 (top - 2047)" ka_rx_is $((K0 + 2))
spoke_b --epoch "$E" --keepalive --seq 999999
wait_for 10 "the hub to accept seq 999999" ka_rx_is $((K0 + 3))
for q in 997953 1000000 7; do spoke_b --epoch "$E" --keepalive --seq "$q"; done
expect_drops "hub: drops in the window test" hub w0 "replay=+3"
snap hub w1
expect_eq "hub: keepalives accepted from spoke B" $(($(jv w1 peer.3.keepalive_rx) - K0)) 3
expect_eq "hub: spoke B's accepted epoch" "$(jv w1 peer.3.rx_epoch)" "$E"
pass "replay, stale_epoch, auth_fail, unknown_peer, short, bad_version, bad_header counted exactly; nothing delivered or moved; window >= 2048"
