#!/usr/bin/env bash
# Keepalives (docs/protocol.md, sections 3, 5, 8): an idle spoke configured
# with keepalive: 2 sends the hub a KEEPALIVE every 2 s - 36-byte datagrams
# with flags 0x01 and consecutive seqs - measured from a packet capture at
# the hub over 9 s (4 or 5 of them, median spacing 2.0 +/- 0.3 s) and
# matched by the hub's per-peer keepalive_rx counter. While the spoke sends
# traffic to the hub more often than every 2 s, it sends no keepalive.
# Also, from a capture started before spoke A: its first datagram is a
# CHALLENGE in the epoch of its state file with a random seq (top bit set),
# answered by the hub's RESPONSE (key_id 1, the hub's epoch, a random seq);
# the first sequenced datagram each way (section 5: seq starts at 0 in each
# epoch, per direction) is a keepalive with seq 0: spoke A's once it
# verified the hub, the hub's once it verified spoke A.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin keepalive

set_conf spoke-a keepalive 2
star_start hub
wait_for 10 "the hub's epoch" test -s "$STAR_DIR/state/hub/epoch"
sniff_start "$NS_HUB" hs2 first 25 --udp-port 51820
first_pid=$BG_PID
star_start spoke-a
wait_for 15 "the hub to verify spoke A" peer_up hub 2
wait_for 15 "spoke A to verify the hub" peer_up spoke-a 1
sleep 1

echo "== the first datagrams each way"
# headers: SRC:PORT DST:PORT LEN VERSION FLAGS RESERVED KEY_ID EPOCH SEQ
first() { # SRC [FLAGS...]: "key_id epoch seq flags" of the first datagram from SRC (with FLAGS)
	local src=$1; shift
	"$PKT" headers "$T/first.json" | awk -v src="$src" -v want=" $* " \
		'index($1, src ":") == 1 && (want == "  " || index(want, " " $5 " ")) { print $7, $8, $9, $5; exit }'
}
random_seq() { /usr/bin/python3 -c 'import sys; sys.exit(0 if int(sys.argv[1]) >= 1 << 63 else 1)' "$1"; }
read -r id ep seq fl <<<"$(first 172.31.2.2)"
expect_eq "spoke A's first datagram: key_id epoch flags" "$id $ep $fl" "2 $(epoch_of spoke-a) 02"
random_seq "$seq" || fail "spoke A's challenge has seq $seq, not a random one >= 2^63"
read -r id ep seq fl <<<"$(first 172.31.2.1)"
expect_eq "the hub's first datagram to spoke A: key_id epoch flags" "$id $ep $fl" "1 $(epoch_of hub) 04"
random_seq "$seq" || fail "the hub's response has seq $seq, not a random one >= 2^63"
expect_eq "spoke A's first sequenced datagram: key_id epoch seq flags" "$(first 172.31.2.2 00 01)" \
	"2 $(epoch_of spoke-a) 0 01"
expect_eq "the hub's first sequenced datagram to spoke A: key_id epoch seq flags" \
	"$(first 172.31.2.1 00 01)" "1 $(epoch_of hub) 0 01"
kill -TERM "$first_pid" 2>/dev/null || true  # (reaches the sniffer through timeout)

sniff() { # SECS NAME: spoke A's datagrams to the hub, captured at the hub for SECS
	sniff_start "$NS_HUB" hs2 "$2" "$1" --src 172.31.2.2 --udp-port 51820
	wait "$BG_PID" || fail "the sniffer $2 failed"
	"$PKT" headers "$T/$2.json" >"$T/$2.hdr"
}

echo "== idle for 9 s"
snap hub k0
sniff 9 idle
snap hub k1
"$PKT" intervals <"$T/idle.json" >"$T/iv.json"
echo "  capture: $(cat "$T/iv.json")"
count=$(jv iv count)
median=$(jv iv median)
expect_range "keepalives captured in 9 s" "$count" 4 5
expect_range "median spacing, s" "$median" 1.7 2.3
expect_eq "datagram sizes" "$(awk '{ print $3 }' "$T/idle.hdr" | sort -u | tr '\n' ' ')" "36 "
expect_eq "version, flags, reserved" "$(awk '{ print $4 $5 $6 }' "$T/idle.hdr" | sort -u)" 01010000
expect_eq "seq steps between keepalives" "$(jv iv seq_steps)" "[1]"
ka=$(($(jv k1 peer.2.keepalive_rx) - $(jv k0 peer.2.keepalive_rx)))
echo "  hub keepalive_rx from spoke A over the capture (+ status round trips): $ka"
expect_range "hub keepalive_rx delta" "$ka" "$count" $((count + 1))
expect_eq "hub drops" "$(drops k0 k1)" none

echo "== busy: spoke A pings the hub every 0.5 s"
bg nsx "$NS_A" timeout 20 ping -q -n -i 0.5 -c 16 10.0.0.1 >/dev/null
ping_pid=$BG_PID
sleep 1.2
sniff 5 busy
busy_ka=$(awk '$3 == 36' "$T/busy.hdr" | wc -l)
busy_all=$(wc -l <"$T/busy.hdr")
echo "  in 5 s: $busy_all datagrams from spoke A, $busy_ka of them keepalives"
[ "$busy_all" -ge 8 ] || fail "the pings did not flow ($busy_all datagrams)"
expect_eq "keepalives while traffic flows" "$busy_ka" 0
wait "$ping_pid" || fail "pings to the hub were lost"
pass "idle keepalives every ${median} s ($count in 9 s), none under traffic"
