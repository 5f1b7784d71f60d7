#!/usr/bin/env bash
# fec_xor over raw_direct on the whole star (docs/fec_xor.md): spoke A's
# underlay runs through a userspace relay (pkt.py relay --drop-fec) that
# drops, in each direction, the data frame at index 1 of every 3rd group -
# deterministic, one datagram per group at most, never a parity. 4 MB LAN A
# -> LAN B over TCP arrive with a matching sha256, and the counters are
# exact: the hub's `recovered` equals the frames the relay dropped towards
# it, spoke A's those dropped towards spoke A, nothing is unrecoverable,
# and no datagram is dropped anywhere after the start (every rebuilt one
# passed the replay window, the tag and the inner source checks). The
# stack shows in --check and status (egress fec_xor over raw_direct).
#
# Layout as in impaired_underlay.sh: spoke A's hub endpoint is the relay at
# 127.0.0.1:51821 in spoke A's namespace, which forwards to the hub at
# 172.31.2.1:51820 and back.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin fec_xor

for n in hub spoke-a spoke-b; do
	sed -i 's|^  egress: raw_direct.*|  egress: fec_xor\n  options:\n    fec_xor: { over: raw_direct, k: 4 }|' \
		"$STAR_DIR/$n.yaml"
	grep -q '^  egress: fec_xor' "$STAR_DIR/$n.yaml" || fail "egress edit not applied to $n"
done
sed -i 's|endpoint: 172.31.2.1:51820|endpoint: 127.0.0.1:51821|' "$STAR_DIR/spoke-a.yaml"
grep -q 'endpoint: 127.0.0.1:51821' "$STAR_DIR/spoke-a.yaml" || fail "endpoint edit not applied"

echo "== --check shows the stack"
out=$("$SUBNETRAD" -c "$STAR_DIR/hub.yaml" --plugin-dir "$PLUGINS" --check) || fail "--check: $out"
grep -q '^  egress    fec_xor .*egress_fec_xor.so' <<<"$out" || fail "--check: no fec_xor line: $out"
grep -q '^  over      raw_direct .*egress_raw_direct.so' <<<"$out" || fail "--check: no over line: $out"

bg nsx "$NS_A" timeout 170 "$PKT" relay --listen 127.0.0.1:51821 --to 172.31.2.1:51820 \
	--stats "$T/relay.json" --ready "$T/relay.ready" --drop-fec 3 --secs 160
relay_pid=$BG_PID
wait_for 10 "the relay" test -e "$T/relay.ready"

e2e_start_all
got=$(ping_n "$NS_LA" 192.168.2.10 20)
echo "  LAN A -> LAN B: $got of 20 echo replies"
expect_eq "echo replies through the relay" "$got" 20

echo "== 4 MB LAN A -> LAN B over TCP"
head -c 4M /dev/urandom >"$T/blob"
want=$(sha256sum "$T/blob" | cut -d' ' -f1)
bg nsx "$NS_LB" timeout 100 "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$T/rx.ready" \
	--secs 90 >"$T/rx.out"
rx_pid=$BG_PID
wait_for 10 "the TCP receiver" test -e "$T/rx.ready"
sent=$(nsx "$NS_LA" timeout 100 "$PKT" tcp-send --to 192.168.2.10:5001 --file "$T/blob" --secs 90) ||
	fail "TCP send failed"
wait "$rx_pid" || fail "TCP receiver failed"
read -r rx_bytes rx_sha <"$T/rx.out"
echo "  sent $sent (bytes, sha256, seconds)"
expect_eq "bytes received" "$rx_bytes" $((4 * 1024 * 1024))
expect_eq "sha256 on arrival" "$rx_sha" "$want"

echo "== stop the relay; count"
sleep 0.2 # the last groups' parities (flush_ms 5)
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "the relay failed"
cat "$T/relay.json"; echo
read -r UP DOWN <<<"$(jv relay up.drop down.drop | tr '\n' ' ')"
[ "$UP" -gt 10 ] && [ "$DOWN" -gt 0 ] || fail "the relay dropped too little ($UP up, $DOWN down)"
snap hub h
snap spoke-a a
snap spoke-b b
fec() { "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["egress"] == ["fec_xor", "raw_direct"], d["egress"]
print(d["plugins"]["fec_xor"][sys.argv[2]])' "$T/$1.json" "$2"; }
expect_eq "hub: recovered = dropped towards it" "$(fec h recovered)" "$UP"
expect_eq "spoke A: recovered = dropped towards it" "$(fec a recovered)" "$DOWN"
expect_eq "spoke B: recovered (no relay)" "$(fec b recovered)" 0
for n in h a b; do
	expect_eq "$n: unrecoverable" "$(fec $n unrecoverable)" 0
	expect_eq "$n: bad frames" "$(fec $n bad_frames)" 0
	[ "$(fec $n parities_sent)" -gt 0 ] || fail "$n sent no parity"
done
# congestion's drops (tun_queue, aqm) are allowed in a bulk transfer; no other
expect_eq "hub: drops since the start (but congestion's)" "$(faults start.hub h)" none
expect_eq "spoke A: drops since the start (but congestion's)" "$(faults start.spoke-a a)" none
expect_eq "spoke B: drops since the start (but congestion's)" "$(faults start.spoke-b b)" none
# the outputs in variables: `sctl | grep -q` under pipefail fails when grep
# stops reading early (SIGPIPE)
st_text=$(sctl hub status)
metrics=$(sctl hub metrics)
grep -q '^  egress    fec_xor over raw_direct$' <<<"$st_text" ||
	fail "status: no egress line 'fec_xor over raw_direct': $(grep egress <<<"$st_text")"
grep -q '^  plugin    fec_xor: groups .*recovered '"$UP"',' <<<"$st_text" ||
	fail "status: no plugin line with recovered $UP: $(grep plugin <<<"$st_text")"
grep -q '^subnetra_plugin_fec_xor_recovered_total '"$UP"'$' <<<"$metrics" ||
	fail "metrics: no subnetra_plugin_fec_xor_recovered_total $UP"
pass "4 MB intact; recovered = frames dropped ($UP up, $DOWN down), nothing unrecoverable, no drop"
