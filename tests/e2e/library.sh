#!/usr/bin/env bash
# The end-to-end library itself (e2e_lib.sh, scripts/lib/star.sh):
#   - its one cleanup removes everything a test made - the daemons, the
#     background helpers, the star's namespaces, an extra namespace and the
#     attacker's, the temp dir - and runs the deferred commands (last first),
#     when a test fails (exit 1, the daemons' logs printed), when it is
#     killed with SIGTERM (exit 143), and when it passes but a daemon's log
#     holds a sanitizer report (exit 1: the run fails);
#   - the attacker namespace (e2e_attacker --routed) sends captured
#     datagrams again from its own address with an ordinary UDP socket
#     (replay_udp): spoke B's to the hub and the hub's to spoke A are
#     counted as replay, exactly, and move no endpoint; traffic still flows.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin library

echo "== the cleanup, after a failure, after SIGTERM and after a sanitizer report"
# a test that builds everything the library can clean up, records it in
# $OUT, then fails ($2 = fail), waits to be killed ($2 = term) or passes
# with a sanitizer report in the hub's log ($2 = asan)
cat >"$T/child.sh" <<'SH'
set -euo pipefail
OUT=$1
. "$E2E_DIR/e2e_lib.sh"
e2e_begin library-child
e2e_start_all
e2e_attacker
star_ns "snq-$STAR_ID"
bg nsx "$NS_LA" sleep 300
helper=$BG_PID
e2e_defer sh -c 'echo first >>"$1"' sh "$OUT/deferred"
e2e_defer sh -c 'echo second >>"$1"' sh "$OUT/deferred"
echo "$STAR_NS" >"$OUT/ns"
echo "$(star_pid hub) $(star_pid spoke-a) $(star_pid spoke-b) $helper" >"$OUT/pids"
echo "$T" >"$OUT/tmp"
touch "$OUT/ready"
[ "$2" = fail ] && fail "failing on purpose"
if [ "$2" = asan ]; then
	star_stop hub   # (its last writes would land over the planted line)
	echo "==1==ERROR: AddressSanitizer: heap-use-after-free (planted by library.sh)" >>"$STAR_DIR/hub.log"
	pass "passing on purpose"
	exit 0
fi
bg sleep 300
wait "$BG_PID"   # (a signal interrupts a wait; a foreground command would run to its end first)
SH

# child MODE: run the child test (fail, asan: to its end; term: SIGTERM once
# it is set up); sets RC and leaves its output in $T/MODE/
child() {
	local out=$T/$1 pid
	mkdir -p "$out"
	RC=0
	# (started directly, so $! is the child's own PID)
	SN_SRC=$SN_SRC SN_BUILD=$SN_BUILD E2E_DIR=$E2E_DIR bash "$T/child.sh" "$out" "$1" \
		>"$out/stdout" 2>"$out/stderr" &
	pid=$!
	E2E_BG+=("$pid")   # (stopped by the cleanup if this test fails first)
	if [ "$1" != term ]; then
		wait "$pid" || RC=$?
		return
	fi
	wait_for 60 "the child test to set up" test -e "$out/ready"
	kill -TERM "$pid"
	wait "$pid" || RC=$?
}

# gone MODE: nothing the child made is left
gone() {
	local out=$T/$1 ns left=() pid
	for ns in $(cat "$out/ns"); do
		ip netns list | grep -qw "$ns" && left+=("$ns")
	done
	expect_eq "$1: namespaces left of $(wc -w <"$out/ns")" "${left[*]:-}" ""
	left=()
	for pid in $(cat "$out/pids"); do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
	expect_eq "$1: daemons and helper left of 4" "${left[*]:-}" ""
	expect_eq "$1: its temp dir left" "$(ls -d "$(cat "$out/tmp")" 2>/dev/null || true)" ""
	expect_eq "$1: deferred commands (last first)" "$(paste -sd' ' "$out/deferred")" "second first"
}

child fail
expect_eq "fail: exit status" "$RC" 1
grep -q "^FAIL: failing on purpose" "$T/fail/stderr" || fail "fail: no FAIL line: $(cat "$T/fail/stderr")"
expect_eq "fail: daemon logs printed" "$(grep -c '^---- .*\.log (last 40 lines)$' "$T/fail/stderr")" 3
gone fail
child term
expect_eq "term: exit status after SIGTERM" "$RC" 143
expect_eq "term: daemon logs printed" "$(grep -c '^---- .*\.log (last 40 lines)$' "$T/term/stderr")" 3
gone term
child asan
expect_eq "asan: exit status of a passing test with a sanitizer report" "$RC" 1
grep -q "^PASS: passing on purpose" "$T/asan/stdout" || fail "asan: the child did not pass"
grep -q "^sanitizer report in .*/hub.log:" "$T/asan/stderr" || fail "asan: the report was not shown"
gone asan

echo "== the attacker replays captured datagrams from its own address"
e2e_start_all
e2e_attacker --routed
echo "  attacker $NS_X at 172.31.4.2"
sniff_start "$NS_HUB" hs3 b 25 --src 172.31.3.2 --udp-port 51820 --min-len 37 --max 3
sniff_pid=$BG_PID
expect_eq "spoke B -> hub replies (of 3)" "$(ping_n "$NS_B" 10.0.0.1 3)" 3
wait "$sniff_pid" || fail "the sniffer failed"
sniff_start "$NS_A" ul h 25 --src 172.31.2.1 --udp-port 51820 --min-len 37 --max 1
sniff_pid=$BG_PID
expect_eq "hub -> spoke A replies (of 1)" "$(ping_n "$NS_HUB" 10.0.0.2 1)" 1
wait "$sniff_pid" || fail "the sniffer failed"
expect_eq "datagrams captured (spoke B's, the hub's)" "$(cat "$T/b.frames" "$T/h.frames" | wc -l)" 4
snap hub h0
snap spoke-a a0
PA=$(jv a0 node.listen | sed 's/.*://')
replay_udp "$NS_X" "$T/b.frames" 172.31.4.1:51820 --times 2
replay_udp "$NS_X" "$T/h.frames" "172.31.2.2:$PA" --from 172.31.4.2:40000
expect_drops "hub: drops after spoke B's 3 datagrams twice from the attacker" hub h0 "replay=+6"
expect_drops "spoke A: drops after the hub's datagram from the attacker" spoke-a a0 "replay=+1"
snap hub h1
snap spoke-a a1
for k in peer.3.endpoint peer.3.rx_epoch node.tun_tx_packets; do
	expect_eq "hub: $k (unchanged)" "$(jv h1 "$k")" "$(jv h0 "$k")"
done
for k in peer.1.endpoint node.tun_tx_packets; do
	expect_eq "spoke A: $k (unchanged)" "$(jv a1 "$k")" "$(jv a0 "$k")"
done
expect_eq "LAN A -> LAN B replies (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3)" 3
pass "the cleanup removes everything after a failure, SIGTERM and a sanitizer report; the attacker's replays are counted (hub replay +6, spoke A +1) and move nothing"
