#!/usr/bin/env bash
# Keepalives (wire-protocol.md sections 3, 4, 6): an idle spoke configured
# with keepalive: 2 sends the hub a KEEPALIVE every 2 s - 36-byte datagrams
# with flags 0x01 and consecutive seqs - measured from a packet capture at
# the hub over 9 s (4 or 5 of them, median spacing 2.0 +/- 0.3 s) and
# matched by the hub's per-peer keepalive_rx counter. While the spoke sends
# traffic to the hub more often than every 2 s, it sends no keepalive.
# Also, from a capture started before spoke A: its first datagram is a
# keepalive in the epoch of its state file with seq 0 (section 4: seq
# starts at 0 in each epoch, per direction), and the hub's first datagram
# to it carries key_id 1, the hub's epoch and seq 0 too.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin keepalive

set_conf spoke-a keepalive 2
star_start hub
wait_for 10 "the hub's epoch" test -s "$STAR_DIR/state/hub/epoch"
bg ip netns exec "$NS_HUB" timeout 30 "$PY" "$E2E_DIR/pkt.py" sniff --iface hs2 --secs 25 --udp-port 51820 \
	--ready "$T/first.ready" >"$T/first.json"
first_pid=${E2E_BG[-1]}
wait_for 10 "the sniffer" test -e "$T/first.ready"
star_start spoke-a
wait_for 15 "the hub to learn spoke A" peer_known hub 2
wait_for 15 "spoke A to hear the hub" peer_known spoke-a 1
sleep 1

echo "== the first datagram each way"
first() { # SRC: "key_id epoch seq flags" of the first datagram from SRC
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["src"] == sys.argv[2]:
        h = d["head"]
        print(int(h[8:16], 16), int(h[16:24], 16), int(h[24:40], 16), h[2:4]); break' \
		"$T/first.json" "$1"
}
expect_eq "spoke A's first datagram: key_id epoch seq flags" "$(first 172.31.2.2)" \
	"2 $(epoch_of spoke-a) 0 01"
expect_eq "the hub's first datagram to spoke A: key_id epoch seq" "$(first 172.31.2.1 | cut -d' ' -f1-3)" \
	"1 $(epoch_of hub) 0"
kill -TERM "$first_pid" 2>/dev/null || true  # (reaches the sniffer through timeout)

sniff() { # SECS OUT: spoke A's datagrams to the hub, captured at the hub
	nsx "$NS_HUB" timeout $(($1 + 10)) "$PY" "$E2E_DIR/pkt.py" sniff --iface hs2 --secs "$1" \
		--src 172.31.2.2 --udp-port 51820 --ready "$T/$2.ready" >"$T/$2"
}

echo "== idle for 9 s"
snap hub k0
sniff 9 idle.json
snap hub k1
stats=$("$PY" "$E2E_DIR/pkt.py" intervals <"$T/idle.json")
echo "  capture: $stats"
sizes=$("$PY" -c 'import json,sys
print(" ".join(sorted({str(json.loads(l)["len"]) for l in open(sys.argv[1])})))' "$T/idle.json")
flags=$("$PY" -c 'import json,sys
print(" ".join(sorted({json.loads(l)["head"][:8] for l in open(sys.argv[1])})))' "$T/idle.json")
gaps=$("$PY" -c 'import json,sys
s=[int(json.loads(l)["head"][24:40],16) for l in open(sys.argv[1])]
print(" ".join(str(b-a) for a,b in zip(s,s[1:])))' "$T/idle.json")
count=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["count"])' "$stats")
median=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get("median",0))' "$stats")
expect_range "keepalives captured in 9 s" "$count" 4 5
expect_range "median spacing, s" "$median" 1.7 2.3
expect_eq "datagram sizes" "$sizes" 36
expect_eq "version, flags, reserved" "$flags" 01010000
expect_eq "seq steps between keepalives" "$(tr ' ' '\n' <<<"$gaps" | sort -u | tr '\n' ' ' | sed 's/ $//')" 1
ka=$(($(jv k1 peer.2.keepalive_rx) - $(jv k0 peer.2.keepalive_rx)))
echo "  hub keepalive_rx from spoke A over the capture (+ status round trips): $ka"
expect_range "hub keepalive_rx delta" "$ka" "$count" $((count + 1))
expect_eq "hub drops" "$(drops k0 k1)" none

echo "== busy: spoke A pings the hub every 0.5 s"
bg nsx "$NS_A" timeout 20 ping -q -n -i 0.5 -c 16 10.0.0.1 >/dev/null
ping_pid=${E2E_BG[-1]}
sleep 1.2
sniff 5 busy.json
busy_ka=$("$PY" -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["len"] == 36))' "$T/busy.json")
busy_all=$(wc -l <"$T/busy.json")
echo "  in 5 s: $busy_all datagrams from spoke A, $busy_ka of them keepalives"
[ "$busy_all" -ge 8 ] || fail "the pings did not flow ($busy_all datagrams)"
expect_eq "keepalives while traffic flows" "$busy_ka" 0
wait "$ping_pid" || fail "pings to the hub were lost"
pass "idle keepalives every ${median} s ($count in 9 s), none under traffic"
