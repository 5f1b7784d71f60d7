#!/usr/bin/env bash
# The data path allocates nothing per packet (core/datapath.c, arena.h: "the
# data plane never allocates"). The hub and spoke A run under the
# malloc_count.so LD_PRELOAD shim; after a warm-up, SIGUSR2 snapshots their
# heap call counts around 20 000 and then 40 000 flood pings LAN A -> LAN B
# (every one sealed by spoke A, opened and resealed by the hub, opened by
# spoke B, and back), and around TCP transfers both ways with every offload
# and the AQM at work: spoke A reads TSO super-packets and cuts them, the
# hub and spoke A take UDP GRO trains and send UDP GSO runs, spoke A writes
# coalesced segments, and CoDel, set to act at once (a reload before the
# window), marks ECN-capable packets and drops the others; the counters of
# each must move. malloc + calloc + realloc + memalign must not move at all
# in any window, nor free. The control socket is not queried inside a
# window (a request allocates in its arena by design). The hub runs the
# default crypto plugin (crypto_openssl where it is built), spoke A
# crypto_chacha: both plugins are counted. With SN_E2E_EGRESS=fec_xor
# (tests/e2e/no_malloc_fec.sh) every node runs fec_xor over raw_direct, so
# the layer's framing, parities and rebuilding are counted too; with
# SN_E2E_EGRESS=kcp_arq (tests/e2e/no_malloc_kcp.sh) kcp_arq's framing,
# acknowledgements, timer and resendings.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
SO=$SN_BUILD/tests/malloc_count.so
[ -f "$SO" ] || skip "$SO not built (sanitizer builds leave it out)"
e2e_begin no_malloc${SN_E2E_EGRESS:+_$SN_E2E_EGRESS}
case "${SN_E2E_EGRESS:-}" in
"") ;;
fec_xor | kcp_arq)
	set_egress "$SN_E2E_EGRESS"
	# kcp_arq's frames are up to 38 bytes longer: room in the underlay's
	# 1500 for GSO and GRO (docs/kcp_arq.md, "MTU")
	[ "$SN_E2E_EGRESS" != kcp_arq ] ||
		sed -i 's|^  mtu: 1420|  mtu: 1380|' "$STAR_DIR/hub.yaml" "$STAR_DIR/spoke-a.yaml" "$STAR_DIR/spoke-b.yaml"
	;;
*) fail "SN_E2E_EGRESS=$SN_E2E_EGRESS: fec_xor or kcp_arq" ;;
esac

sed -i -E '/^\s+#?\s*crypto:/d; s/^plugins:$/plugins:\n  crypto: chacha/' "$STAR_DIR/spoke-a.yaml"
STAR_WRAP="env LD_PRELOAD=$SO SN_MALLOC_COUNT_FILE=$T/mc.hub" star_start hub
STAR_WRAP="env LD_PRELOAD=$SO SN_MALLOC_COUNT_FILE=$T/mc.spoke-a" star_start spoke-a
star_start spoke-b
e2e_wait_all
crypto_of() { sed -n 's/.* up on .*, crypto \([a-z_]*\)$/\1/p' "$STAR_DIR/$1.log"; }
echo "  hub on crypto $(crypto_of hub)"
expect_eq "spoke A: crypto plugin" "$(crypto_of spoke-a)" chacha

# counts NODE TAG: SIGUSR2 NODE, wait for its dump, keep it as $T/TAG.NODE
counts() {
	rm -f "$T/mc.$1"
	kill -USR2 "$(star_pid "$1")"
	wait_for 5 "$1's heap counts" test -s "$T/mc.$1"
	cp "$T/mc.$1" "$T/$2.$1"
}
# heap_delta NODE TAG1 TAG2: "allocs=N frees=N" between two dumps
heap_delta() {
	"$PY" - "$T/$2.$1" "$T/$3.$1" <<'PY'
import sys
def rd(p):
    return {k: int(v) for k, v in (w.split("=") for w in open(p).read().split())}
a, b = rd(sys.argv[1]), rd(sys.argv[2])
d = {k: b[k] - a[k] for k in a}
print("allocs=%d frees=%d (%s)" % (d["malloc"] + d["calloc"] + d["realloc"] + d["memalign"],
      d["free"], " ".join("%s%+d" % (k, v) for k, v in sorted(d.items()))))
PY
}
flood() { # N: flood pings LAN A -> LAN B; prints how many came back
	local out
	out=$(nsx "$NS_LA" timeout 100 ping -q -n -f -c "$1" -W 1 192.168.2.10 2>&1) || true
	sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out"
}

echo "== warm-up"
flood 3000 >/dev/null
snap hub w0
for node in hub spoke-a; do counts "$node" c0; done
echo "  hub at start of window 1: $(cat "$T/c0.hub")"
echo "  spoke A at start of window 1: $(cat "$T/c0.spoke-a")"
for node in hub spoke-a; do  # the shim is loaded and counting
	grep -qE '^malloc=[1-9]' "$T/c0.$node" || fail "$node: the shim counted no malloc at all"
done

echo "== window 1: 20000 flood pings"
r1=$(flood 20000)
for node in hub spoke-a; do counts "$node" c1; done
echo "== window 2: 40000 flood pings"
r2=$(flood 40000)
for node in hub spoke-a; do counts "$node" c2; done
snap hub w1
relayed=$(($(jv w1 node.relayed_packets) - $(jv w0 node.relayed_packets)))
echo "  echo replies: $r1 of 20000, $r2 of 40000; the hub relayed $relayed packets"
[ "${r1:-0}" -ge 19000 ] && [ "${r2:-0}" -ge 38000 ] || fail "the flood did not get through"
[ "$relayed" -ge $((2 * (r1 + r2))) ] || fail "the hub relayed only $relayed packets"

echo "== window 3: TCP both ways, offloads on, CoDel acting"
for node in hub spoke-a; do
	expect_eq "$node: TUN offloads (rx, tx), underlay runs" \
		"$(jv w1 node.offload.tun_rx node.offload.tun_tx node.offload.underlay_runs | tr '\n' ' ')" \
		"true true true "
	# 0.5 ms, the shortest target the config takes: above a lone packet's
	# wake-up latency, below what bulk TCP makes wait.
	echo "aqm: { target_ms: 0.5, interval_ms: 1 }" >>"$STAR_DIR/$node.yaml"
	sctl "$node" reload >/dev/null || fail "$node: reload with an eager AQM failed"
done
snap hub w2h
snap spoke-a w2a
for node in hub spoke-a; do counts "$node" c3; done
head -c 30M /dev/urandom >"$T/blob"
tcp_transfer "TCP to 192.168.2.10" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"
tcp_transfer "TCP to 192.168.1.10" "$NS_LB" "$NS_LA" 192.168.1.10 "$T/blob"
for node in hub spoke-a; do counts "$node" c4; done
snap hub w3h
snap spoke-a w3a
moved() { echo $(($(jv "$2" "$3") - $(jv "$1" "$3"))); }
expect_ge "spoke A: super-packets read and cut" "$(moved w2a w3a node.tun_rx_gso)" 1
expect_ge "spoke A: coalesced writes" "$(moved w2a w3a node.tun_tx_gso)" 1
expect_ge "spoke A: GRO buffers split" "$(moved w2a w3a node.rx_gro)" 1
expect_ge "hub: GRO buffers split" "$(moved w2h w3h node.rx_gro)" 1
expect_ge "hub: GSO messages sent" "$(moved w2h w3h node.tx_gso)" 1
expect_ge "hub + spoke A: packets marked CE by CoDel" \
	$(($(moved w2h w3h node.aqm_marked) + $(moved w2a w3a node.aqm_marked))) 1
echo "  CoDel: hub marked $(moved w2h w3h node.aqm_marked), dropped $(moved w2h w3h drops.aqm);" \
	"spoke A marked $(moved w2a w3a node.aqm_marked), dropped $(moved w2a w3a drops.aqm)"

bad=0
for node in hub spoke-a; do
	for w in "c0 c1" "c1 c2" "c3 c4"; do
		d=$(heap_delta "$node" $w)
		echo "  $node ${w/ /->}: $d"
		case $d in "allocs=0 frees=0 "*) ;; *) bad=1 ;; esac
	done
done
[ "$bad" = 0 ] || fail "heap calls during the windows (see above; 2x packets in window 2)"
pass "${SN_E2E_EGRESS:-raw_direct}: no heap call in the hub or spoke A across 60000 flood pings ($relayed packets relayed) and 60 MB of TCP with offloads, GRO, GSO and the AQM at work"
