#!/usr/bin/env bash
# The data path allocates nothing per packet (core/datapath.c, arena.h: "the
# data plane never allocates"). The hub and spoke A run under the
# malloc_count.so LD_PRELOAD shim; after a warm-up, SIGUSR2 snapshots their
# heap call counts around 20 000 and then 40 000 flood pings LAN A -> LAN B
# (every one sealed by spoke A, opened and resealed by the hub, opened by
# spoke B, and back). malloc + calloc + realloc + memalign must not move at
# all in either window, nor free. The control socket is not queried inside
# a window (a request allocates in its arena by design). The hub runs the
# default crypto plugin (crypto_openssl where it is built), spoke A
# crypto_chacha: both plugins are counted.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
SO=$SN_BUILD/tests/malloc_count.so
[ -f "$SO" ] || skip "$SO not built (sanitizer builds leave it out)"
e2e_begin no_malloc

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

bad=0
for node in hub spoke-a; do
	for w in "c0 c1" "c1 c2"; do
		d=$(heap_delta "$node" $w)
		echo "  $node ${w/ /->}: $d"
		case $d in "allocs=0 frees=0 "*) ;; *) bad=1 ;; esac
	done
done
[ "$bad" = 0 ] || fail "heap calls during the flood windows (see above; 2x packets in window 2)"
pass "no heap call in the hub or spoke A across 60000 flood pings ($relayed packets relayed)"
