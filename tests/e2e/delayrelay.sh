#!/usr/bin/env bash
# sn-delayrelay (tests/tools/delayrelay/), the delay of bench/impaired.sh,
# on the star's underlay: the relay in spoke A's namespace on 127.0.0.1,
# a sink echoing at the hub's underlay address 172.31.2.1, over the veth.
# 1. Two clients through one relay, 10 ms each way, the relay's sockets on
#    the ports of --bind (the sink takes nothing else): every datagram arrives
#    once, byte for byte, each client gets exactly its own echoes back, the
#    one-way delay is at least 10 ms (median within 2.5 ms of it), the
#    round trip at least 20 ms; the relay's counters equal what was sent.
# 2. A full ring drops and counts: in = out + ring_full, nothing queued.
# 3. --reorder 5: the sink sees exactly as many datagrams out of order as
#    the relay says it swapped, and all of them.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
DR=$SN_BUILD/tests/sn-delayrelay
[ -x "$DR" ] || fail "$DR is not built"
e2e_begin delayrelay

HUBUL=172.31.2.1
# relay NAME ARGS...: a relay in spoke A's namespace, 127.0.0.1:7000 -> the sink
relay() {
	local name=$1; shift
	rm -f "$T/$name.ready"
	bg nsx "$NS_A" "$DR" relay --listen 127.0.0.1:7000 --to $HUBUL:7001 \
		--ready "$T/$name.ready" --stats "$T/$name.json" --secs 60 "$@"
	RELAY_PID=$BG_PID
	wait_for 10 "the relay $name" test -e "$T/$name.ready"
}
sink() {
	local name=$1; shift
	rm -f "$T/$name.ready"
	bg nsx "$NS_HUB" "$DR" sink --listen $HUBUL:7001 --ready "$T/$name.ready" \
		--out "$T/$name.json" --secs 60 --idle 2 "$@"
	SINK_PID=$BG_PID
	wait_for 10 "the sink $name" test -e "$T/$name.ready"
}
blast() { nsx "$NS_A" timeout 30 "$DR" blast --to 127.0.0.1:7000 "$@"; }
stop_relay() { kill -TERM "$RELAY_PID"; wait "$RELAY_PID" || fail "the relay failed"; }
val() { jv "$1" "$2"; }
# one_way N "RELAY ARGS" BLAST ARGS...: sink sN, relay rN, one blast without echo
one_way() {
	local n=$1 rargs=$2; shift 2
	sink "s$n"
	# shellcheck disable=SC2086
	relay "r$n" $rargs
	blast "$@" --out "$T/b$n.json" || fail "blast $n failed"
	wait "$SINK_PID" || fail "the sink failed"
	stop_relay
	cat "$T/r$n.json" "$T/s$n.json"
}

echo "== 1. two clients, 10 ms each way, echoed; their sockets on ports 7100 and 7101"
nsx "$NS_HUB" nft -f - <<'NFT' || skip "nftables is not available here"
table ip dr_test {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 7001 udp sport != 7100-7101 counter drop
	}
}
NFT
sink s1 --echo
relay r1 --delay-ms 10 --bind 0.0.0.0:7100
blast --stream 1 --size 1400 --rate 2000 --secs 2 --echo --out "$T/b1.json" &
b1=$!
blast --stream 2 --size 60 --rate 500 --secs 2 --echo --out "$T/b2.json" ||
	fail "blast 2 failed"
wait "$b1" || fail "blast 1 failed"
wait "$SINK_PID" || fail "the sink failed"
stop_relay
cat "$T/b1.json" "$T/b2.json" "$T/s1.json" "$T/r1.json"
sent1=$(val b1 sent) sent2=$(val b2 sent)
expect_range "stream 1 sent (2 s at 2000/s)" "$sent1" 3900 4001
expect_range "stream 2 sent (2 s at 500/s)" "$sent2" 950 1001
for b in b1 b2; do
	expect_eq "$b: echoes back" "$(val $b echoed)" "$(val $b sent)"
	expect_eq "$b: corrupt, duplicate, other clients' echoes" \
		"$(val $b corrupt) $(val $b dups) $(val $b foreign)" "0 0 0"
	expect_ge "$b: round trip min, us" "$(val $b rtt_us.min)" 20000
	# 2 x 10 ms of delay; the relay runs at ordinary priority here, and its
	# wake-ups come 1-4 ms late each way on a busy 2-core machine (CI: 27.5 ms)
	expect_le "$b: round trip median, us" "$(val $b rtt_us.p50)" 30000
done
expect_eq "sink: received" "$(val s1 received)" $((sent1 + sent2))
expect_eq "sink: per stream" "$(val s1 streams.1.received) $(val s1 streams.2.received)" \
	"$sent1 $sent2"
expect_eq "sink: corrupt, duplicates" "$(val s1 corrupt) $(val s1 dups)" "0 0"
expect_ge "one-way delay min, us" "$(val s1 delay_us.min)" 10000
expect_le "one-way delay median, us" "$(val s1 delay_us.p50)" 15000
expect_eq "relay: clients" "$(val r1 clients)" 2
for d in up down; do
	expect_eq "relay $d: in out" "$(val r1 $d.in) $(val r1 $d.out)" \
		"$((sent1 + sent2)) $((sent1 + sent2))"
	expect_eq "relay $d: ring_full too_big send_error no_client queued" \
		"$(val r1 $d.ring_full) $(val r1 $d.too_big) $(val r1 $d.send_error) $(val r1 $d.no_client) $(val r1 $d.queued)" \
		"0 0 0 0 0"
done

nsx "$NS_HUB" nft delete table ip dr_test

echo "== 2. a ring of 64 slots, 50 ms, 2000 datagrams at once"
one_way 2 "--delay-ms 50 --ring 64" --count 2000 --size 1000
full=$(val r2 up.ring_full)
expect_ge "relay: ring_full" "$full" 1
expect_eq "relay: in = out + ring_full" "$(val r2 up.in)" $(($(val r2 up.out) + full))
expect_eq "relay: in = sent, queued" "$(val r2 up.in) $(val r2 up.queued)" "2000 0"
expect_eq "sink: received = relay out" "$(val s2 received)" "$(val r2 up.out)"
expect_eq "sink: corrupt" "$(val s2 corrupt)" 0

echo "== 3. --reorder 5, 5 ms (a datagram a millisecond: the next always comes in time)"
one_way 3 "--delay-ms 5 --reorder 5" --count 1000 --rate 1000
swapped=$(val r3 up.swapped)
expect_range "relay: swapped (every 5th after the first 5 of 1000: 199)" "$swapped" 190 199
expect_eq "sink: reordered = swapped" "$(val s3 reordered)" "$swapped"
expect_eq "sink: received, corrupt, dups" "$(val s3 received) $(val s3 corrupt) $(val s3 dups)" \
	"1000 0 0"
pass "delay >= 10 ms (median $(val s1 delay_us.p50) us), 2 clients mapped, every byte intact; ring_full $full counted; $swapped swaps = $swapped out of order"
