#!/usr/bin/env bash
# status, --json and metrics against a live node after known traffic: the
# counters equal the packets sent, drop reasons included, and the three views
# (JSON status, the status table, Prometheus metrics) show the same numbers.
#
#  1. N pings LAN A -> LAN B (ping -s 100: 128-byte IPv4 packets). Every
#     counter of all three nodes moves by exactly what those packets explain
#     and nothing else moves: the hub receives N from spoke-a and N from
#     spoke-b and sends as many (relayed 2N); each spoke reads N from its
#     TUN and writes N to it. Keepalives: the spokes' copies say keepalive:
#     3600, so once the hub answered them (e2e_start_all waits for that) no
#     keepalive falls inside the test; keepalive_rx/tx are asserted to stay 0.
#  2. Drops with known counts, a different count for each reason, so a
#     counter read from the wrong reason cannot pass: crafted datagrams sent
#     to the hub's UDP port from spoke-a's namespace (short 2, bad_version 4,
#     bad_header 1, unknown_peer 3 via sn-inject --raw-key-id 99, stale_epoch
#     6, replay 7, auth_fail 5 via --flip), and real packets: 8 pings to
#     192.168.2.10 while a run-time DROP rule covers it (policy_drop 8) and 9
#     pings to an overlay address nobody owns (no_route 9). None of the
#     crafted datagrams authenticates, so they move no traffic counter.
#  3. With nothing happening: `--json status`, the `status` table and
#     `metrics` of every node agree value for value; the metrics text passes
#     a strict parser of the exposition format.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"

N=50          # pings in part 1
SZ=128        # IPv4 bytes of one ping -s 100 packet (20 + 8 + 100)
HUB_UDP=172.31.2.1:51820

e2e_begin status_counters
set_conf spoke-a keepalive 3600
set_conf spoke-b keepalive 3600
e2e_start_all

deltas() { # deltas NODE OLD NEW PATH=N...: exactly these moved between settle OLD and NEW
	local n=$1 a=$2 b=$3; shift 3
	echo " $n:"
	expect_deltas "$a.$n" "$b.$n" --exact "$@"
}

echo "== 1. $N pings LAN A -> LAN B, $SZ bytes each"
settle before hub spoke-a spoke-b
got=$(ping_n "$NS_LA" 192.168.2.10 "$N" -i 0.02 -W 1 -s 100)
expect_eq "ping replies" "$got" "$N"
settle after hub spoke-a spoke-b
deltas hub before after \
	node.rx_packets=$((2 * N)) node.tx_packets=$((2 * N)) \
	node.rx_bytes=$((2 * N * SZ)) node.tx_bytes=$((2 * N * SZ)) node.relayed_packets=$((2 * N)) \
	peer.2.rx_packets=$N peer.2.tx_packets=$N peer.2.rx_bytes=$((N * SZ)) \
	peer.2.tx_bytes=$((N * SZ)) peer.2.relayed_packets=$N \
	peer.3.rx_packets=$N peer.3.tx_packets=$N peer.3.rx_bytes=$((N * SZ)) \
	peer.3.tx_bytes=$((N * SZ)) peer.3.relayed_packets=$N
for s in spoke-a spoke-b; do
	deltas "$s" before after \
		node.tun_rx_packets=$N node.tun_tx_packets=$N \
		node.rx_packets=$N node.tx_packets=$N node.rx_bytes=$((N * SZ)) node.tx_bytes=$((N * SZ)) \
		peer.1.rx_packets=$N peer.1.tx_packets=$N peer.1.rx_bytes=$((N * SZ)) \
		peer.1.tx_bytes=$((N * SZ))
done

echo "== 2. drops with known counts"
A_EPOCH=$(jv after.hub peer.2.rx_epoch)   # spoke-a's session, as the hub accepted it
HUB_PUB=$(cat "$STAR_DIR/keys/hub.pub")
as_a=(--to "$HUB_UDP" --key "$STAR_DIR/keys/spoke-a.key" --peer-pub "$HUB_PUB" --id 2 --peer-id 1)
# docs/protocol.md, section 3: version 1, flags, 2 reserved bytes, key_id,
# epoch, seq; 36 bytes is the shortest well-formed length.
hdr() { printf '%02x%02x0000%08x%08x%016x' "$1" "$2" "$3" "$A_EPOCH" 0; }
tag=$(printf '00%.0s' $(seq 16))
udp_send "$NS_A" "$HUB_UDP" 00112233445566778899 0011
udp_send "$NS_A" "$HUB_UDP" "$(hdr 2 0 2)$tag" "$(hdr 2 0 2)$tag" "$(hdr 0 0 2)$tag" "$(hdr 255 1 2)$tag"
udp_send "$NS_A" "$HUB_UDP" "$(hdr 1 2 2)$tag"
inject "$NS_A" "${as_a[@]}" --epoch "$A_EPOCH" --seq 1000000 --raw-key-id 99 --count 3
inject "$NS_A" "${as_a[@]}" --epoch $((A_EPOCH - 1)) --seq 1000000 --count 6
inject "$NS_A" "${as_a[@]}" --epoch "$A_EPOCH" --seq 0 --count 7
inject "$NS_A" "${as_a[@]}" --epoch $((A_EPOCH + 1000)) --seq 0 --flip 30 --count 5
echo "  sent: short 2, bad_version 4, bad_header 1, unknown_peer 3, stale_epoch 6, replay 7, auth_fail 5"
out=$(sctl hub policy add 192.168.2.10/32 drop) || fail "policy add 192.168.2.10/32 drop: $out"
echo "  hub: $out"
expect_eq "pings to 192.168.2.10 under a DROP rule answered" "$(ping_n "$NS_LA" 192.168.2.10 8 -i 0.05 -W 0.2 -s 100)" 0
out=$(sctl hub policy del 192.168.2.10/32) || fail "policy del 192.168.2.10/32: $out"
echo "  hub: $out"
expect_eq "pings to 10.0.0.99 (no owner) answered" "$(ping_n "$NS_LA" 10.0.0.99 9 -i 0.05 -W 0.2 -s 100)" 0
settle drops hub spoke-a spoke-b
P=17   # authenticated packets from spoke-a that the hub dropped: 8 policy_drop + 9 no_route
deltas hub after drops \
	drops.short=2 drops.bad_version=4 drops.bad_header=1 drops.unknown_peer=3 \
	drops.stale_epoch=6 drops.replay=7 drops.auth_fail=5 drops.policy_drop=8 drops.no_route=9 \
	peer.2.drops.stale_epoch=6 peer.2.drops.replay=7 peer.2.drops.auth_fail=5 \
	peer.2.drops.policy_drop=8 peer.2.drops.no_route=9 \
	node.rx_packets=$P peer.2.rx_packets=$P node.rx_bytes=$((P * SZ)) peer.2.rx_bytes=$((P * SZ)) \
	node.policy_version=2
deltas spoke-a after drops node.tun_rx_packets=$P node.tx_packets=$P peer.1.tx_packets=$P \
	node.tx_bytes=$((P * SZ)) peer.1.tx_bytes=$((P * SZ))
deltas spoke-b after drops

echo "== 3. --json status, the status table and metrics agree"
for n in hub spoke-a spoke-b; do
	for i in $(seq 10); do
		snap "$n" "v1.$n"
		sctl "$n" status >"$T/v.$n.txt" || fail "$n: status"
		sctl "$n" metrics >"$T/v.$n.prom" || fail "$n: metrics"
		snap "$n" "v2.$n"
		unchanged "v1.$n" "v2.$n" && break
		[ "$i" = 10 ] && fail "$n: counters kept moving while reading the three views"
	done
	echo " $n:"
	sed 's/^/    | /' "$T/v.$n.txt"
	r=$("$SNSTAT" table "$T/v.$n.txt" "$T/v1.$n.json") || fail "$n: the table differs from the JSON"
	echo "  $r"
	"$PKT" metrics "$T/v.$n.prom" >/dev/null || fail "$n: the metrics text is not valid exposition format"
	echo "  metrics text: valid exposition format ($(grep -c '^subnetra_' "$T/v.$n.prom") samples," \
		"$(grep -c '^# TYPE' "$T/v.$n.prom") families, each with HELP and TYPE)"
	r=$("$SNSTAT" agree "$T/v1.$n.json" "$T/v.$n.prom") || fail "$n: metrics differ from the status"
	echo "  $r"
done
# the figures the CI log should show, straight from the metrics text
echo " hub metrics (drops by reason):"
grep -E '^subnetra_drops_total\{reason="(short|bad_version|bad_header|unknown_peer|stale_epoch|replay|auth_fail|policy_drop|no_route)"\}' \
	"$T/v.hub.prom" | sed 's/^/    /'
for k in 'subnetra_drops_total{reason="auth_fail"}' 'subnetra_drops_total{reason="unknown_peer"}' \
	'subnetra_peer_drops_total{peer="spoke-a",id="2",reason="replay"}'; do
	echo "    $k = $("$PKT" metrics "$T/v.hub.prom" "$k")"
done
expect_eq 'subnetra_drops_total{reason="auth_fail"}' \
	"$("$PKT" metrics "$T/v.hub.prom" 'subnetra_drops_total{reason="auth_fail"}')" 5
expect_eq 'subnetra_drops_total{reason="unknown_peer"}' \
	"$("$PKT" metrics "$T/v.hub.prom" 'subnetra_drops_total{reason="unknown_peer"}')" 3
grep -q '^# TYPE subnetra_drops_total counter$' "$T/v.hub.prom" || fail "subnetra_drops_total is not TYPE counter"

pass "status, --json status and metrics agree with the traffic sent, drops by reason included"
