#!/usr/bin/env bash
# Switching the egress of the whole star: raw_direct -> kcp_arq (over
# raw_direct) -> fec_xor (over raw_direct) -> raw_direct, with overlay.mtu
# not set, so each stack gets its automatic MTU (docs/configuration.md,
# overlay.mtu: 1420, 1382, 1412).
#
# A reload cannot switch the egress (core/reload.c: the stack, its
# overhead and so the MTU are fixed while a node runs), and the two ends of
# a link must run the same stack (a kcp_arq or fec_xor frame means nothing
# to a raw_direct node: docs/kcp_arq.md, docs/fec_xor.md). So each step
#   1. writes the new egress into every node's config; `--check` shows the
#      stack and its automatic MTU, and warns of nothing; the network plan
#      has that MTU and its MSS clamp (MTU - 40);
#   2. reloads every node: each refuses with "plugins.egress changed:
#      restart subnetrad to apply that change", runs on unchanged (same
#      egress, same reload count) and still carries traffic;
#   3. restarts the three nodes (hub, then spokes), a ping LAN A -> LAN B
#      every 0.1 s running across: the window of loss is from the first
#      node's stop until every node verified its peers again, measured and
#      printed (pings lost x 0.1 s) and bounded by 15 s;
#   4. then: every TUN device has the stack's MTU, the start-up log says
#      it, status shows it (automatic), the egress and its counters
#      (kcp_arq: first sendings and acknowledgements; fec_xor: groups and
#      parities, nothing unrecoverable; raw_direct: no layer counters);
#      20 of 20 pings and 1 MB over TCP with a matching sha256 pass, and no
#      node dropped anything since its start but congestion's (tun_queue,
#      aqm) nor saw a bad frame.
# On kcp_arq also: a set overlay.mtu 1420 is warned of by --check (1522-byte
# datagrams, 1398 fits); reloading `mtu: 1382` (the automatic value) is
# applied, `mtu: 1400` is refused.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin egress_switch

NODES="hub spoke-a spoke-b"
for n in $NODES; do
	sed -i '/^  mtu: 1420/d' "$STAR_DIR/$n.yaml" # the automatic MTU
	! grep -q '^  mtu:' "$STAR_DIR/$n.yaml" || fail "mtu line left in $n.yaml"
	cp "$STAR_DIR/$n.yaml" "$T/base.$n.yaml"
done

declare -A MTU=([raw_direct]=1420 [kcp_arq]=1382 [fec_xor]=1412)
declare -A STACK=([raw_direct]="raw_direct" [kcp_arq]="kcp_arq over raw_direct"
	[fec_xor]="fec_xor over raw_direct")
declare -A JSTACK=([raw_direct]='["raw_direct"]' [kcp_arq]='["kcp_arq", "raw_direct"]'
	[fec_xor]='["fec_xor", "raw_direct"]')
declare -A PLUGIN_LINE=([raw_direct]='  egress: raw_direct'
	[kcp_arq]='  egress: kcp_arq\n  options:\n    kcp_arq: { over: raw_direct }'
	[fec_xor]='  egress: fec_xor\n  options:\n    fec_xor: { over: raw_direct, k: 4 }')
NS_OF=([0]="$NS_HUB" [1]="$NS_A" [2]="$NS_B")

# conf_egress EGRESS: every node's config from its base copy with EGRESS
conf_egress() {
	local n
	for n in $NODES; do
		sed "s|^  egress: raw_direct.*|${PLUGIN_LINE[$1]}|" "$T/base.$n.yaml" >"$STAR_DIR/$n.yaml"
		grep -q "^  egress: $1\$" "$STAR_DIR/$n.yaml" || fail "egress edit not applied to $n"
	done
}

# check_conf EGRESS: --check of every node: the stack, MTU (automatic), no warning
check_conf() {
	local n out
	for n in $NODES; do
		out=$("$SUBNETRAD" -c "$STAR_DIR/$n.yaml" --plugin-dir "$PLUGINS" --check 2>"$T/check.err") ||
			fail "--check $n: $out $(cat "$T/check.err")"
		grep -q "^  node .*, MTU ${MTU[$1]} (automatic)\$" <<<"$out" ||
			fail "--check $n: no 'MTU ${MTU[$1]} (automatic)': $(grep '^  node' <<<"$out")"
		grep -q "^  egress    $1 " <<<"$out" || fail "--check $n: no egress $1: $out"
		! grep -q warning "$T/check.err" || fail "--check $n warned: $(cat "$T/check.err")"
	done
	echo "  ok  --check of the 3 nodes: egress ${STACK[$1]}, MTU ${MTU[$1]} (automatic)"
	out=$("$SUBNETRAD" -c "$STAR_DIR/spoke-a.yaml" --plugin-dir "$PLUGINS" --print-network-plan \
		2>/dev/null) || fail "--print-network-plan failed"
	grep -q "^#   ip link set dev subnetra0 mtu ${MTU[$1]} up\$" <<<"$out" ||
		fail "plan: no MTU ${MTU[$1]}: $(grep -i mtu <<<"$out")"
	grep -q "^# MTU ${MTU[$1]} leaves a TCP MSS of $((MTU[$1] - 40)) (MTU - 40)" <<<"$out" ||
		fail "plan: no MSS $((MTU[$1] - 40)): $(grep -i mss <<<"$out")"
	echo "  ok  spoke A's network plan: MTU ${MTU[$1]}, MSS clamp $((MTU[$1] - 40))"
}

# refused_reloads WAS NEW: every node refuses the switch, runs on WAS
refused_reloads() {
	local n out rc want
	for n in $NODES; do
		snap "$n" "pre.$n"
		rc=0
		out=$(sctl "$n" reload 2>&1) || rc=$?
		want="subnetra: $STAR_DIR/$n.yaml: plugins.egress changed: restart subnetrad to apply that change"
		expect_eq "$n: reload to $2" "$rc: $out" "1: $want"
		snap "$n" "post.$n"
		expect_eq "$n: egress after the refused reload" "$(jv "post.$n" egress)" "${JSTACK[$1]}"
		expect_eq "$n: reloads after the refused reload" "$(jv "post.$n" node.reloads)" \
			"$(jv "pre.$n" node.reloads)"
	done
	expect_eq "LAN A -> LAN B echo replies after the refused reloads (still ${STACK[$1]})" \
		"$(ping_n "$NS_LA" 192.168.2.10 5)" 5
}

# restart_all EGRESS: stop the three nodes, start them on the new configs;
# prints the window of loss
restart_all() {
	local n t0 t1 ping_pid tx rx lost
	bg nsx "$NS_LA" ping -n -i 0.1 -W 1 192.168.2.10 >"$T/window.$1"
	ping_pid=$BG_PID
	sleep 1
	t0=$(date +%s%N)
	for n in $NODES; do star_stop "$n"; done
	e2e_start_all
	t1=$(date +%s%N)
	sleep 1
	kill -INT "$ping_pid"
	wait "$ping_pid" || true
	read -r tx rx <<<"$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
		"$T/window.$1")"
	num_ok "pings across the restart" "$tx" "$rx"
	WINDOW_MS=$(((tx - rx) * 100))
	lost=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*time=.*/\1/p' "$T/window.$1" |
		awk -v n="$tx" '{ got[$1] = 1 } END { for (i = 1; i <= n; i++) if (!got[i]) printf "%s%d", s++ ? " " : "", i }')
	echo "  restart to $1: every node verified again after $(((t1 - t0) / 1000000)) ms;" \
		"$((tx - rx)) of $tx pings lost (a window of about $WINDOW_MS ms): icmp_seq ${lost:-none}"
	echo "  ping: $(grep -E 'transmitted' "$T/window.$1")"
	expect_le "window of loss switching to $1 (ms)" "$WINDOW_MS" 15000
	for n in $NODES; do cp "$STAR_DIR/$n.log" "$T/log.$1.$n"; done
}

# transfer NAME: 1 MB LAN A -> LAN B over TCP, sha256 checked
transfer() {
	local rx_pid rx_bytes rx_sha want
	head -c 1M /dev/urandom >"$T/blob"
	want=$(sha256sum "$T/blob" | cut -d' ' -f1)
	rm -f "$T/rx.ready"
	bg nsx "$NS_LB" timeout 60 "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$T/rx.ready" \
		--secs 50 >"$T/rx.out"
	rx_pid=$BG_PID
	wait_for 10 "the TCP receiver" test -e "$T/rx.ready"
	nsx "$NS_LA" timeout 60 "$PKT" tcp-send --to 192.168.2.10:5001 --file "$T/blob" --secs 50 \
		>/dev/null || fail "$1: TCP send failed"
	wait "$rx_pid" || fail "$1: TCP receiver failed"
	read -r rx_bytes rx_sha <"$T/rx.out"
	expect_eq "$1: bytes received" "$rx_bytes" $((1024 * 1024))
	expect_eq "$1: sha256 on arrival" "$rx_sha" "$want"
}

# pv NAME PLUGIN COUNTER: a layer's counter from $T/NAME.json
pv() { "$PY" -c 'import json,sys
print(json.load(open(sys.argv[1]))["plugins"][sys.argv[2]][sys.argv[3]])' "$T/$1.json" "$2" "$3"; }

# verify EGRESS: MTU, status, traffic, counters, drops on the running star
verify() {
	local e=$1 i n s text got congested
	echo "== on ${STACK[$e]}: MTU, traffic, status"
	for i in 0 1 2; do
		ip -n "${NS_OF[$i]}" link show subnetra0 | grep -q " mtu ${MTU[$e]} " ||
			fail "TUN MTU in ${NS_OF[$i]}: $(ip -n "${NS_OF[$i]}" link show subnetra0 | head -1)"
	done
	echo "  ok  the 3 TUN devices have MTU ${MTU[$e]}"
	grep -q "info: overlay MTU ${MTU[$e]} (overlay.mtu not set: 1420 less what egress ${STACK[$e]} adds" \
		"$STAR_DIR/hub.log" || fail "hub.log: no automatic MTU line: $(grep -i mtu "$STAR_DIR/hub.log")"
	for n in $NODES; do snap "$n" "ping0.$n"; done
	got=$(ping_n "$NS_LA" 192.168.2.10 20)
	congested=0
	for n in $NODES; do
		snap "$n" "ping1.$n"
		congested=$((congested + $(jv "ping1.$n" drops.aqm) - $(jv "ping0.$n" drops.aqm) +
			$(jv "ping1.$n" drops.tun_queue) - $(jv "ping0.$n" drops.tun_queue)))
		[ "$got" = 20 ] || echo "  $n: drops during the pings: $(drops "ping0.$n" "ping1.$n")"
	done
	# a loaded machine may stall a node long enough for CoDel to drop (aqm):
	# congestion's, counted; any other loss fails
	expect_eq "$e: LAN A -> LAN B echo replies + congestion's drops meanwhile ($congested)" \
		"$((got + congested >= 20 ? 20 : got + congested))" 20
	transfer "$e"
	for n in $NODES; do
		snap "$n" "$e.$n"
		s="$e.$n"
		expect_eq "$n: egress" "$(jv "$s" egress)" "${JSTACK[$e]}"
		expect_eq "$n: mtu, automatic" "$(jv "$s" node.mtu node.mtu_automatic | tr '\n' ' ')" \
			"${MTU[$e]} true "
		expect_eq "$n: datagram_max" "$(jv "$s" node.datagram_max)" 1484
		expect_eq "$n: drops since its start (but congestion's)" "$(faults "start.$n" "$s")" none
		case $e in
		kcp_arq)
			[ "$(pv "$s" kcp_arq sent)" -gt 0 ] || fail "$n: kcp_arq sent nothing under ARQ"
			[ "$(pv "$s" kcp_arq acks_received)" -gt 0 ] || fail "$n: no acknowledgement"
			expect_eq "$n: kcp_arq bad frames" "$(pv "$s" kcp_arq bad_frames)" 0
			# since its start, which includes datagrams to peers not yet
			# running (lost, resent, given up); then the pings and 1 MB alone
			echo "      kcp_arq: sent $(pv "$s" kcp_arq sent), retransmits" \
				"$(pv "$s" kcp_arq retransmits), given up $(pv "$s" kcp_arq given_up);" \
				"during the pings and the transfer: retransmits" \
				"$(($(pv "$s" kcp_arq retransmits) - $(pv "ping0.$n" kcp_arq retransmits))), given up" \
				"$(($(pv "$s" kcp_arq given_up) - $(pv "ping0.$n" kcp_arq given_up)))" ;;
		fec_xor)
			[ "$(pv "$s" fec_xor groups)" -gt 0 ] || fail "$n: fec_xor closed no group"
			[ "$(pv "$s" fec_xor parities_sent)" -gt 0 ] || fail "$n: fec_xor sent no parity"
			expect_eq "$n: fec_xor unrecoverable" "$(pv "$s" fec_xor unrecoverable)" 0
			expect_eq "$n: fec_xor bad frames" "$(pv "$s" fec_xor bad_frames)" 0
			echo "      fec_xor: groups $(pv "$s" fec_xor groups), parities" \
				"$(pv "$s" fec_xor parities_sent), recovered $(pv "$s" fec_xor recovered)" ;;
		raw_direct)
			expect_eq "$n: layer counters" "$(jv "$s" plugins)" "{}"
			[ "$(jv "$s" node.tx_packets)" -gt 0 ] || fail "$n: sent nothing" ;;
		esac
	done
	text=$(sctl hub status) || fail "status failed"
	grep -q "^  overlay   .*, MTU ${MTU[$e]} (automatic)\$" <<<"$text" ||
		fail "status: no 'MTU ${MTU[$e]} (automatic)': $(grep overlay <<<"$text")"
	grep -q "^  egress    ${STACK[$e]}\$" <<<"$text" ||
		fail "status: no egress line '${STACK[$e]}': $(grep egress <<<"$text")"
	if [ "$e" != raw_direct ]; then
		grep -q "^  plugin    $e: " <<<"$text" ||
			fail "status: no plugin line for $e: $(grep plugin <<<"$text")"
	fi
	echo "  status: $(grep -E '^  (overlay|egress|plugin) ' <<<"$text" | sed 's/^ *//' | paste -sd';')"
}

# mtu_on_kcp: a set MTU is warned of; a reload to the same MTU is applied,
# to another refused
mtu_on_kcp() {
	local out rc err
	echo "== kcp_arq: a set overlay.mtu"
	sed 's|^  address: 10\.0\.0\.1 .*|&\n  mtu: 1420|' "$STAR_DIR/hub.yaml" >"$T/hub.mtu1420.yaml"
	grep -q '^  mtu: 1420$' "$T/hub.mtu1420.yaml" || fail "mtu edit not applied"
	cp "$T/hub.mtu1420.yaml" "$STAR_DIR/hub.mtu1420.yaml" # relative paths as hub.yaml's
	out=$("$SUBNETRAD" -c "$STAR_DIR/hub.mtu1420.yaml" --plugin-dir "$PLUGINS" --check 2>"$T/check.err") ||
		fail "--check with mtu 1420 failed (a warning is not an error): $(cat "$T/check.err")"
	rm -f "$STAR_DIR/hub.mtu1420.yaml"
	err=$(grep 'warning:' "$T/check.err" || true)
	grep -q "overlay.mtu: 1420 makes datagrams of up to 1522 bytes on the underlay (1420 + 36 protocol header and tag + 66 egress kcp_arq over raw_direct: kcp_arq 38, raw_direct 28).*the largest overlay.mtu that fits is 1398" \
		<<<"$err" || fail "--check with mtu 1420: no warning with the numbers: $(cat "$T/check.err")"
	grep -q '^  node .*, MTU 1420$' <<<"$out" || fail "--check with mtu 1420: $(grep '^  node' <<<"$out")"
	echo "  ok  --check warns: ${err#*warning: }"
	snap hub pre.mtu
	sed -i 's|^  address: 10\.0\.0\.1 .*|&\n  mtu: 1382|' "$STAR_DIR/hub.yaml"
	out=$(sctl hub reload 2>&1) || fail "reload with mtu: 1382 (the automatic value) refused: $out"
	snap hub post.mtu
	expect_eq "hub: mtu, automatic after 'mtu: 1382'" \
		"$(jv post.mtu node.mtu node.mtu_automatic | tr '\n' ' ')" "1382 false "
	expect_eq "hub: reloads" "$(jv post.mtu node.reloads)" $(($(jv pre.mtu node.reloads) + 1))
	sed -i 's|^  mtu: 1382$|  mtu: 1400|' "$STAR_DIR/hub.yaml"
	rc=0
	out=$(sctl hub reload 2>&1) || rc=$?
	expect_eq "hub: reload with mtu: 1400" "$rc: $out" \
		"1: subnetra: $STAR_DIR/hub.yaml: overlay.mtu changed: restart subnetrad to apply that change"
	sed -i '/^  mtu: 1400$/d' "$STAR_DIR/hub.yaml"
	out=$(sctl hub reload 2>&1) || fail "reload without mtu refused: $out"
	snap hub post.mtu
	expect_eq "hub: mtu, automatic again" "$(jv post.mtu node.mtu node.mtu_automatic | tr '\n' ' ')" \
		"1382 true "
	expect_eq "LAN A -> LAN B echo replies after the MTU reloads" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
}

echo "== raw_direct"
conf_egress raw_direct
check_conf raw_direct
e2e_start_all
verify raw_direct
WAS=raw_direct
WINDOWS=""
for e in kcp_arq fec_xor raw_direct; do
	echo "== switch ${STACK[$WAS]} -> ${STACK[$e]}"
	conf_egress "$e"
	check_conf "$e"
	refused_reloads "$WAS" "$e"
	restart_all "$e"
	WINDOWS+="${WINDOWS:+, }$e ${WINDOW_MS} ms"
	verify "$e"
	[ "$e" != kcp_arq ] || mtu_on_kcp
	WAS=$e
done
pass "raw_direct -> kcp_arq -> fec_xor -> raw_direct on the 3 nodes: reloads refused with" \
	"'plugins.egress changed', restarts switched (windows of loss: $WINDOWS); MTU 1420/1382/1412" \
	"on every TUN device, traffic and 1 MB intact on each stack, no drop but congestion's"
