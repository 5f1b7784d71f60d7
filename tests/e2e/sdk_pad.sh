#!/usr/bin/env bash
# The SDK's walkthrough example, the transform egress pad (docs/plugin-sdk.md,
# "Writing a transform egress"), as its author meets it: the SDK installed
# into a prefix; the example copied from where the SDK installs it, built out
# of tree against that prefix alone (-Werror), its own unit test built
# against the installed mock host and run; the installed example.yaml
# passes --check, and with a misspelled option does not. Then the star (a
# hub and two spokes) runs pad over raw_direct, block 64, from the prefix's
# plugin directory: --check shows the stack; 20 pings LAN A -> LAN B and 4 MB over
# TCP cross (sha256 equal); every datagram on the hub's underlay is a
# multiple of 64 bytes (a 56-byte ping, 120 sealed, is 128) and raw_direct
# still sends GSO runs (units longer than one frame on the veth); status
# shows `pad over raw_direct`; two datagrams padded wrong, sent to the hub,
# move its bad_pad by 2 (status, JSON, metrics) and rx_error by 2, and
# nothing else drops anywhere.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin sdk_pad
PREFIX=$T/prefix

echo "== the example, built against the installed SDK"
cmake --install "$SN_BUILD" --prefix "$PREFIX" >"$T/install.log" || fail "cmake --install"
cp -r "$PREFIX/share/doc/subnetra/sdk/examples/egress_pad" "$T/pad" || fail "egress_pad not installed"
cmake -S "$T/pad" -B "$T/pad/build" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_INSTALL_PREFIX="$PREFIX" \
	-DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$T/cfg.log" ||
	{ cat "$T/cfg.log"; fail "configure"; }
cmake --build "$T/pad/build" >"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "build"; }
! grep -q -- "$SN_SRC" "$T/pad/build/compile_commands.json" || fail "the build refers to the source tree"
cmake --install "$T/pad/build" >>"$T/install.log" || fail "install of the example"
SO=$(find "$PREFIX" -name egress_pad.so | head -1)
[ -n "$SO" ] || fail "egress_pad.so not installed"
PLUGDIR=$(dirname "$SO")
[ -f "$PLUGDIR/egress_raw_direct.so" ] || fail "no raw_direct beside it in $PLUGDIR"
echo "  built and installed $SO"

echo "== its unit test, against the installed mock host"
PCDIR=$(dirname "$(find "$PREFIX" -name subnetra-sdk.pc | head -1)")
MOCK=$PREFIX/share/subnetra/sdk/mock
# shellcheck disable=SC2046  # pkg-config's flags are words
cc -std=c11 -Wall -Wextra -Wno-unused-parameter -Werror \
	$(PKG_CONFIG_PATH=$PCDIR pkg-config --cflags subnetra-sdk cmocka) -I"$MOCK" \
	"$T/pad/test_pad.c" "$T/pad/pad.c" "$MOCK/mock_host.c" $(pkg-config --libs cmocka) \
	-o "$T/test_pad" || fail "the example's unit test does not build against the installed SDK"
"$T/test_pad" >"$T/test_pad.log" 2>&1 || { cat "$T/test_pad.log"; fail "the example's unit test"; }
grep -E '^\[  PASSED  \] [0-9]+ test' "$T/test_pad.log"

echo "== the installed example config"
mkdir -p "$T/node"
(umask 077; "$PREFIX/bin/subnetra" genkey >"$T/node/spoke.key")
HUBPUB=$("$PREFIX/bin/subnetra" genkey | "$PREFIX/bin/subnetra" pubkey)
sed -e "s|HUB_PUBLIC_KEY|$HUBPUB|; s|^plugins:|plugins:\n  directory: $PLUGDIR|" \
	"$PREFIX/share/doc/subnetra/sdk/examples/egress_pad/example.yaml" >"$T/node/example.yaml"
out=$("$PREFIX/sbin/subnetrad" -c "$T/node/example.yaml" --check) || fail "example.yaml: --check: $out"
grep -q '^  over      raw_direct ' <<<"$out" || fail "example.yaml: pad is not over raw_direct: $out"
sed -i 's|block: 64|blok: 64|' "$T/node/example.yaml"
if out=$("$PREFIX/sbin/subnetrad" -c "$T/node/example.yaml" --check 2>&1); then
	fail "example.yaml with a misspelled option passed --check"
fi
grep -qF "pad: unknown option 'blok' (did you mean 'block'?)" <<<"$out" ||
	fail "the misspelled option is not reported as the SDK says: $out"

echo "== the star on pad over raw_direct"
set_egress pad "over: raw_direct, block: 64"
check_stack "$PLUGDIR" pad

sniff_start "$NS_HUB" hs2 ul 60 --udp-port 51820
sniff_pid=$BG_PID
e2e_start_all --plugin-dir "$PLUGDIR"
got=$(ping_n "$NS_LA" 192.168.2.10 20)
expect_eq "LAN A -> LAN B echo replies" "$got" 20

echo "== 4 MB LAN A -> LAN B over TCP"
head -c 4M /dev/urandom >"$T/blob"
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"
kill -TERM "$sniff_pid" 2>/dev/null || true
wait "$sniff_pid" 2>/dev/null || true

echo "== the datagrams on the hub's underlay"
# shellcheck disable=SC2016
read -r total odd sizes <<<"$("$PY" -c '
import json, sys
lens = [json.loads(l)["len"] for l in open(sys.argv[1]) if l.strip()]
print(len(lens), sum(1 for n in lens if n % 64), max(lens),
      ",".join(str(n) for n in sorted(set(lens))[:10]))
' "$T/ul.json")"
read -r big sizes <<<"$sizes"
echo "  $total datagrams captured on hs2, the largest $big bytes; sizes (the smallest): $sizes"
expect_ge "datagrams captured" "$total" 100
expect_eq "datagrams not a multiple of 64 bytes" "$odd" 0
# raw_direct kept its runs: a UDP GSO unit (several frames, one skb) is
# seen whole on the veth, longer than one 1472-byte frame
expect_ge "the largest unit on the underlay (a GSO run)" "$big" 2944
# the 84-byte echo request sealed is 120 bytes (docs/protocol.md): its frame is 128
grep -q '"len": 128,' "$T/ul.json" || fail "no 128-byte frame (a sealed 56-byte ping) on the underlay"

echo "== status, and a bad pad counted"
snap hub h0
snap spoke-a a0
snap spoke-b b0
expect_eq "hub: egress stack" "$(jv h0 egress)" '["pad", "raw_direct"]'
expect_eq "hub: bad_pad so far" "$(jv h0 plugins.pad.bad_pad)" 0
# outputs in variables: `sctl | grep -q` under pipefail fails when grep
# stops reading early (SIGPIPE)
st_text=$(sctl hub status) || fail "status failed"
grep -q '^  egress    pad over raw_direct$' <<<"$st_text" ||
	fail "status: no egress line 'pad over raw_direct': $(grep egress <<<"$st_text")"
udp_send "$NS_A" 172.31.2.1:51820 --pad 65 ""        # 65 bytes: not a multiple of 64
udp_send "$NS_A" 172.31.2.1:51820 --pad 62 "00ff"    # 64 bytes claiming 255
expect_drops "hub: drops after two bad pads" hub h0 "rx_error=+2"
expect_eq "hub: bad_pad" "$(jv hub-last plugins.pad.bad_pad)" 2
st_text=$(sctl hub status) || fail "status failed"
grep -q '^  plugin    pad: bad_pad 2$' <<<"$st_text" ||
	fail "status: no 'plugin    pad: bad_pad 2': $(grep plugin <<<"$st_text")"
metrics=$(sctl hub metrics) || fail "metrics failed"
grep -q '^subnetra_plugin_pad_bad_pad_total 2$' <<<"$metrics" ||
	fail "metrics: no subnetra_plugin_pad_bad_pad_total 2"
for n in spoke-a spoke-b; do
	snap "$n" "$n-end"
	expect_eq "$n: drops since the start (but congestion's)" "$(faults "start.$n" "$n-end")" none
	expect_eq "$n: bad_pad" "$(jv "$n-end" plugins.pad.bad_pad)" 0
done
expect_eq "hub: drops since the start but the two (and congestion's)" "$(faults start.hub hub-last)" "rx_error=+2"
pass "pad over raw_direct built against the installed SDK: 20/20 pings, 4 MB intact, $total underlay datagrams all multiples of 64, bad_pad 2 for 2 bad frames"
