#!/usr/bin/env bash
# Policy swaps under load: 1000 run-time policy changes on the hub, unrelated
# to the traffic, while a TCP stream and a fast ping run LAN A -> LAN B
# through it, cost the traffic nothing; a DROP rule for the stream's
# destination stops it at once and removing it restores it; a refused change
# changes nothing.
#
# Measurement (parts a-c). One TCP stream (iperf3, paced at $RATE) and one
# ping every 5 ms run for the whole measurement; the time is cut into
# $SLOTS slots of $SLOT_SECS s, taken in pairs: in each pair one baseline
# slot (B: no control request at all) and one swap slot (S), the order inside
# the pair fixed by a seeded random draw. The 1000 swaps (add, del, replace
# with drop and forward rules, replace to empty; all on 10.200-203.x, which no
# traffic uses) are spread evenly over the S slots, one about every 25 ms
# there. Swaps and baseline so see the same stream and, interleaved twice a
# second, the same background load. Why not two whole windows: on this shared
# 2-core machine (other engineers' benchmarks, load average 3-7 when this was
# written) whole windows differ among themselves by far more than 20% in p99
# RTT, swaps or not (A/A runs: 0.4x to 2.7x), because one scheduling stall of
# 50-150 ms decides a window's p99. The stream is paced (20 Mbit/s) because an
# unpaced one fills the queues: its RTT is bufferbloat (p50 ~9 ms, p99 20-60
# ms), which would hide a swap's spike rather than show it.
#
#  (a) nothing lost to the swaps: TCP retransmissions (the sender namespace's
#      RetransSegs, read at every slot boundary) in the S slots <=
#      max(2 * B, B + 50); no ping lost; TCP bytes received = sent; no drop
#      counter of the hub moved, node-wide or per peer.
#  (b) latency: the median over the S slots of each slot's own p99 RTT is
#      within 20% of the same over the B slots (a slot has ~100 replies, so
#      its p99 is its second-worst RTT); pooled p99s are printed too. This is
#      the "median of interleaved pairs of windows", with pairs short enough
#      to share the background noise. Its noise, measured by permuting B/S
#      labels within pairs on recorded runs: log-sd 0.06-0.17, i.e. a 20%
#      bound is 1-3 sd away. So the decision is sequential: when the first
#      measurement exceeds the bound, a second one is made and the decision
#      is taken on both together (all slots; never the better of the two). A
#      swap that really holds the loop (milliseconds) fails both. For scale:
#      a swap costs the hub ~20 us of CPU (1000 swaps: 2 ticks); with drop-only
#      swaps or read-only `policy list` requests in the S slots the ratio was
#      0.95-1.14; with these swaps 1.04-1.21 while the driver ran at normal
#      priority, 0.97-1.07 at nice 19, and 0.95-1.06 with the same driver
#      talking to a dummy socket instead of the hub: the driver's own CPU use
#      on the 2 cores, not the daemon, made the difference. So it runs at
#      nice 10, and swaps it cannot start in time move on to the next S slot
#      (at least 95% must land in S slots; B slots never get one).
#  (c) the hub's policy version grew by exactly the number of swaps (1000 per
#      measurement), and every swap's reply reported the previous version + 1.
#  (d) `policy add 192.168.2.10/32 drop`: every ping after it is lost, and
#      the hub's policy_drop grows by exactly the pings sent (the stream has
#      ended, nothing else travels LAN A -> LAN B) while no other counter but
#      spoke-a's rx moves; a TCP connect under the rule fails and every one of
#      its packets that reached the hub is a policy_drop; `policy del`
#      restores the path at once.
#  (e) refused changes (a forward rule over peer 3's route, a prefix with host
#      bits, an existing rule, a replace with one bad rule among good ones,
#      inline and as `subnetra policy replace FILE`) print the reason, leave
#      the version and the rules as they were; a good FILE replaces the
#      run-time rules and an empty one clears them; traffic flows.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"

RATE=${SN_SWAP_RATE:-20M}      # iperf3 -b (0 = unpaced)
SLOTS=${SN_SWAP_SLOTS:-100}    # 50 pairs
SLOT_SECS=0.5
SWAPS=1000
PING_IV=0.005

command -v iperf3 >/dev/null || skip "iperf3 missing"
e2e_begin policy_swap
e2e_start_all
SOCK=$STAR_DIR/run/hub.sock
SWAPLOAD=$E2E_DIR/swapload.py
MEAS=$(awk "BEGIN { print $SLOTS * $SLOT_SECS }")
MEAS_INT=${MEAS%.*}

# measure K: one interleaved measurement; files $T/m<K>.*
measure() {
	local k=$1 anchor srv cli png npings
	echo "== measurement $k: TCP at $RATE and ping every ${PING_IV}s LAN A -> LAN B;" \
		"$SLOTS slots of ${SLOT_SECS}s (B/S pairs), $SWAPS swaps in the S slots"
	# an anchor process in LAN A's namespace: /proc/PID/net/snmp is that namespace's
	bg nsx "$NS_LA" sleep $((MEAS_INT + 120))
	anchor=$BG_PID
	bg nsx "$NS_LB" timeout $((MEAS_INT + 60)) iperf3 -s -1 -B 192.168.2.10 >"$T/m$k.iperf-s.log" 2>&1
	srv=$BG_PID
	wait_for 10 "the iperf3 server" sh -c "ip netns exec '$NS_LB' ss -ltn | grep -q ':5201 '"
	bg nsx "$NS_LA" timeout $((MEAS_INT + 60)) iperf3 -c 192.168.2.10 -t $((MEAS_INT + 4)) \
		-b "$RATE" -J >"$T/m$k.iperf.json" 2>"$T/m$k.iperf.err"
	cli=$BG_PID
	sleep 1   # past slow start
	npings=$(awk "BEGIN { printf \"%d\", ($MEAS + 2) / $PING_IV }")
	bg nsx "$NS_LA" ping -D -n -i "$PING_IV" -c "$npings" -W 1 -w $((MEAS_INT + 40)) \
		192.168.2.10 >"$T/m$k.ping" 2>&1
	png=$BG_PID
	sleep 0.3
	# the driver is test-rig load on a 2-core machine: low priority, so its
	# own CPU time does not pass for the daemon's
	nice -n 10 "$SWAPLOAD" swapload "$SOCK" --pid "$anchor" --slots "$SLOTS" \
		--slot-secs "$SLOT_SECS" --swaps "$SWAPS" >"$T/m$k.swaps.json" || fail "the swap driver failed (above)"
	wait "$png" || true
	wait "$cli" || { cat "$T/m$k.iperf.err" "$T/m$k.iperf.json" >&2; fail "iperf3 client failed"; }
	wait "$srv" || true
	kill "$anchor" 2>/dev/null || true
	"$PKT" iperf "$T/m$k.iperf.json" >"$T/m$k.iperfsum.json" || fail "cannot read the iperf3 result"
	"$PKT" ping "$T/m$k.ping" >"$T/m$k.pingsum.json"
	echo "  iperf3 (whole stream): $(cat "$T/m$k.iperfsum.json")"
	echo "  ping (whole run):      $(cat "$T/m$k.pingsum.json")"
	echo "  swap requests:         $(jv "m$k.swaps" swaps carried first_version last_version \
		lat_p50_ms lat_p99_ms lat_max_ms | paste -sd' ' |
		awk '{ printf "%s swaps (%s carried), versions %s..%s, latency p50 %s p99 %s max %s ms", $1, $2, $3, $4, $5, $6, $7 }')"
	expect_eq "pings lost" "$(jv "m$k.pingsum" lost)" 0
	expect_eq "TCP bytes received = sent" "$(jv "m$k.iperfsum" received_bytes)" \
		"$(jv "m$k.iperfsum" sent_bytes)"
}

# analyse K: measurements 1..K together into $T/slots.json, printed; sets
# B_P99, S_P99 (median slot p99 per kind) and BOUND (B_P99 + 20%)
analyse() {
	local i args=()
	for i in $(seq "$1"); do args+=("$T/m$i.ping" "$T/m$i.swaps.json"); done
	"$SWAPLOAD" slots "${args[@]}" >"$T/slots.json" || fail "cannot split the pings into slots"
	"$SWAPLOAD" report "$T/slots.json"
	B_P99=$(jv slots B.slot_p99_median)
	S_P99=$(jv slots S.slot_p99_median)
	num_ok "median slot p99s" "$B_P99" "$S_P99"
	BOUND=$(awk "BEGIN { printf \"%.3f\", $B_P99 * 1.2 }")
}

snap hub s0
measure 1
echo "== results"
analyse 1
M=1
if ! awk "BEGIN { exit !($S_P99 <= $BOUND) }"; then
	echo "  median slot p99 during swaps $S_P99 ms > $BOUND ms (baseline + 20%) in one measurement:"
	echo "  measuring once more and deciding on both together"
	measure 2
	echo "== results of both measurements together"
	analyse 2
	M=2
fi
snap hub s1
B_RT=$(jv slots B.retrans)
S_RT=$(jv slots S.retrans)
S_SW=$(jv slots S.swaps)

echo " (a) nothing lost"
echo "  swaps in the S slots: $S_SW of $((M * SWAPS)) (the rest ran in a tail slot after the last pair)"
expect_ge "swaps inside the S slots" "$S_SW" $((M * SWAPS * 95 / 100))
expect_le "TCP retransmits during swaps (baseline $B_RT)" "$S_RT" \
	$((2 * B_RT > B_RT + 50 ? 2 * B_RT : B_RT + 50))
expect_eq "hub drop counters moved" "$(drops s0 s1)" none
for p in 2 3; do
	expect_eq "hub drops of peer $p moved" "$(drops s0 s1 $p)" none
done
echo " (b) no latency spike"
expect_le "median slot p99 during swaps, ms ($M measurement(s); baseline $B_P99 ms, +20%)" \
	"$S_P99" "$BOUND"
echo " (c) policy version"
V0=$(jv s0 node.policy_version)
V1=$(jv s1 node.policy_version)
echo "  policy version $V0 -> $V1"
expect_eq "policy version increase" $((V1 - V0)) $((M * SWAPS))
expect_eq "swap replies: first, last version" \
	"$(jv m1.swaps first_version), $(jv "m$M.swaps" last_version)" \
	"$((V0 + 1)), $V1"
expect_eq "run-time rules left (the cycle ends with a clearing replace)" "$(jv s1 node.runtime_rules)" 0

echo "== (d) a DROP rule for the stream's destination"
# nothing may be in flight: wait until two snapshots agree
settle quiet hub
snap hub d0
out=$(sctl hub policy add 192.168.2.10/32 drop) || fail "policy add 192.168.2.10/32 drop: $out"
echo "  subnetra policy add 192.168.2.10/32 drop: $out"
expect_eq "reply" "$out" "policy version $((V1 + 1)), 6 rules (1 run-time)"
NP=20
expect_eq "pings answered under the rule (of $NP, the first sent right after the swap)" \
	"$(ping_n "$NS_LA" 192.168.2.10 $NP -i 0.05 -W 0.3)" 0
snap hub d1
echo "  hub counters, $NP pings after the swap:"
expect_deltas d0 d1 --exact drops.policy_drop=$NP peer.2.drops.policy_drop=$NP \
	node.rx_packets=$NP peer.2.rx_packets=$NP node.rx_bytes=$((NP * 84)) \
	peer.2.rx_bytes=$((NP * 84)) node.policy_version=1 node.policy_rules=1 node.runtime_rules=1
# TCP: SYNs (and the kernel's SYN retries) meet the same rule
if nsx "$NS_LA" timeout 5 "$PY" -c 'import socket; socket.create_connection(("192.168.2.10", 5201), timeout=2.5)' \
	2>/dev/null; then
	fail "a TCP connection to 192.168.2.10 got through the DROP rule"
fi
snap hub d2
TCP_RX=$(( $(jv d2 peer.2.rx_packets) - $(jv d1 peer.2.rx_packets) ))
TCP_PD=$(( $(jv d2 drops.policy_drop) - $(jv d1 drops.policy_drop) ))
echo "  TCP connect under the rule: $TCP_RX packets reached the hub, $TCP_PD policy drops"
expect_ge "TCP packets that reached the hub" "$TCP_RX" 1
expect_eq "policy drops = TCP packets that reached the hub" "$TCP_PD" "$TCP_RX"
expect_eq "packets the hub sent to spoke-b meanwhile" \
	$(( $(jv d2 peer.3.tx_packets) - $(jv d0 peer.3.tx_packets) )) 0
out=$(sctl hub policy del 192.168.2.10/32) || fail "policy del 192.168.2.10/32: $out"
echo "  subnetra policy del 192.168.2.10/32: $out"
expect_eq "reply" "$out" "policy version $((V1 + 2)), 5 rules (0 run-time)"
expect_eq "pings answered right after the rule is gone (of 10)" \
	"$(ping_n "$NS_LA" 192.168.2.10 10 -i 0.05 -W 1)" 10

echo "== (e) refused changes change nothing"
sctl hub policy add 10.250.0.0/24 drop >/dev/null || fail "policy add 10.250.0.0/24 drop"
snap hub e0
sctl hub --json policy list >"$T/rules0.json" || fail "policy list"
refused() { # refused WHAT EXPECTED-STDERR-FRAGMENT CMD...
	local what=$1 want=$2 err rc=0; shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	echo "  $what -> exit $rc: $err"
	[ "$rc" = 1 ] || fail "$what: exit status $rc, want 1"
	case $err in *"$want"*) ;; *) fail "$what: the error does not say '$want'" ;; esac
}
refused "policy add 192.168.2.0/24 forward 2 (peer 3's LAN)" "192.168.2.0/24" \
	sctl hub policy add 192.168.2.0/24 forward 2
refused "policy add 192.168.2.128/25 forward spoke-a (inside peer 3's LAN)" \
	"would take traffic that 192.168.2.0/24 routes to peer 3" \
	sctl hub policy add 192.168.2.128/25 forward spoke-a
refused "policy add 192.168.2.1/24 drop (host bits)" \
	"subnetra: 192.168.2.1/24 has host bits set (did you mean 192.168.2.0/24?)" \
	sctl hub policy add 192.168.2.1/24 drop
refused "policy add 10.250.0.0/24 drop (exists)" \
	"a run-time rule for 10.250.0.0/24 exists already" sctl hub policy add 10.250.0.0/24 drop
# policy replace, sent as the control protocol carries it (rules inline)
refused "policy replace, second rule over peer 3's LAN" \
	"192.168.2.0/25: forward to peer 2 would take traffic that 192.168.2.0/24 routes to peer 3" \
	"$SWAPLOAD" req "$SOCK" "policy replace 10.251.0.0/24 drop;192.168.2.0/25 forward 2;10.252.0.0/24 drop"
refused "policy replace, second rule with host bits" \
	"rule 2 ('10.4.0.1/16 drop'): 10.4.0.1/16 has host bits set (did you mean 10.4.0.0/16?)" \
	"$SWAPLOAD" req "$SOCK" "policy replace 10.251.0.0/24 drop;10.4.0.1/16 drop"
printf '# the second rule has host bits\n10.251.0.0/24 drop\n\n10.4.0.1/16 drop\n' >"$T/bad.rules"
refused "subnetra policy replace FILE, second rule with host bits" \
	"subnetra: rule 2 ('10.4.0.1/16 drop'): 10.4.0.1/16 has host bits set (did you mean 10.4.0.0/16?)" \
	sctl hub policy replace "$T/bad.rules"
snap hub e1
sctl hub --json policy list >"$T/rules1.json" || fail "policy list"
expect_eq "policy version after the refused changes" "$(jv e1 node.policy_version)" "$(jv e0 node.policy_version)"
expect_eq "run-time rules after the refused changes" "$(jv e1 node.runtime_rules)" 1
cmp -s "$T/rules0.json" "$T/rules1.json" || {
	diff "$T/rules0.json" "$T/rules1.json" >&2
	fail "the policy rules changed"
}
echo "  ok  policy list unchanged: $("$PY" -c 'import json,sys; print(", ".join(r["prefix"] + " " + r["action"] for r in json.load(open(sys.argv[1]))["rules"] if r["origin"] == "runtime"))' "$T/rules1.json") (run-time)"
# and an accepted replace through the tool's FILE form, then an empty FILE
printf '10.251.0.0/24 drop   # a comment\n10.252.0.0/24 forward spoke-a\n' >"$T/good.rules"
V=$(jv e1 node.policy_version)
out=$(sctl hub policy replace "$T/good.rules") || fail "policy replace $T/good.rules: $out"
echo "  subnetra policy replace FILE (2 rules): $out"
expect_eq "reply" "$out" "policy version $((V + 1)), 7 rules (2 run-time)"
sctl hub --json policy list >"$T/rules2.json" || fail "policy list"
expect_eq "run-time rules after the replace" \
	"$("$PY" -c 'import json,sys; print("; ".join(r["prefix"] + " " + r["action"] + ("" if r["peer"] is None else " " + str(r["peer"])) for r in json.load(open(sys.argv[1]))["rules"] if r["origin"] == "runtime"))' "$T/rules2.json")" \
	"10.251.0.0/24 drop; 10.252.0.0/24 forward 2"
: >"$T/empty.rules"
out=$(sctl hub policy replace "$T/empty.rules") || fail "policy replace (empty file): $out"
echo "  subnetra policy replace EMPTY-FILE: $out"
expect_eq "reply" "$out" "policy version $((V + 2)), 5 rules (0 run-time)"
expect_eq "pings answered after the refused changes (of 5)" \
	"$(ping_n "$NS_LA" 192.168.2.10 5 -i 0.05 -W 1)" 5

pass "1000 policy swaps under load: nothing lost, median slot p99 $S_P99 ms vs $B_P99 ms baseline," \
	"retransmits $S_RT vs $B_RT; DROP stops at once, refused changes change nothing"
