#!/usr/bin/env bash
# The two crypto plugins speak one protocol (docs/plugins.md): the hub on
# crypto_openssl, both spokes on crypto_chacha (plugins.crypto in the config
# copies). Every relayed packet is opened by OpenSSL what libsodium sealed
# and sealed by OpenSSL what libsodium opens. Pings LAN A <-> LAN B both
# ways and spoke <-> hub, the largest inner packet (1420 bytes, DF) both
# ways, 20 MB LAN A -> LAN B over TCP with its sha256 equal on arrival, and
# no drop anywhere after the start (which costs the hub one keepalive per
# spoke, as in transfer.sh).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
[ -f "$PLUGINS/crypto_openssl.so" ] || skip "crypto_openssl is not built (no OpenSSL >= 3)"
e2e_begin crypto_mixed

# set_crypto NODE NAME: plugins.crypto in NODE's config copy
set_crypto() {
	sed -i -E '/^\s+#?\s*crypto:/d; s/^plugins:$/plugins:\n  crypto: '"$2"'/' "$STAR_DIR/$1.yaml"
	[ "$(grep -cE "^  crypto: $2\$" "$STAR_DIR/$1.yaml")" = 1 ] || fail "plugins.crypto not set in $1.yaml"
}
set_crypto hub openssl
set_crypto spoke-a chacha
set_crypto spoke-b chacha

e2e_start_all
for node in hub:openssl spoke-a:chacha spoke-b:chacha; do
	expect_eq "${node%%:*}: crypto plugin in use (its start line)" \
		"$(sed -n 's/.* up on .*, crypto \([a-z_]*\)$/\1/p' "$STAR_DIR/${node%%:*}.log")" "${node#*:}"
done
expect_eq "hub: drops during the start (one keepalive per spoke)" "$(nonzero_drops start.hub)" \
	"unverified=2"
expect_eq "spoke A: drops during the start" "$(nonzero_drops start.spoke-a)" none
expect_eq "spoke B: drops during the start" "$(nonzero_drops start.spoke-b)" none

echo "== pings through the hub, both ways, and the largest inner packet"
expect_eq "LAN A -> LAN B echo replies (of 5)" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
expect_eq "LAN B -> LAN A echo replies (of 5)" "$(ping_n "$NS_LB" 192.168.1.10 5)" 5
expect_eq "LAN A -> LAN B 1420-byte pings, DF (of 3)" "$(ping_n "$NS_LA" 192.168.2.10 3 -M "do" -s 1392)" 3
expect_eq "LAN B -> LAN A 1420-byte pings, DF (of 3)" "$(ping_n "$NS_LB" 192.168.1.10 3 -M "do" -s 1392)" 3

echo "== spoke <-> hub"
expect_eq "spoke A -> hub replies" "$(ping_n "$NS_A" 10.0.0.1 3)" 3
expect_eq "spoke B -> hub replies" "$(ping_n "$NS_B" 10.0.0.1 3)" 3
expect_eq "hub -> spoke A replies" "$(ping_n "$NS_HUB" 10.0.0.2 3)" 3
expect_eq "hub -> spoke B replies" "$(ping_n "$NS_HUB" 10.0.0.3 3)" 3

echo "== 20 MB LAN A -> LAN B over TCP"
head -c 20M /dev/urandom >"$T/blob"
snap hub h0
tcp_transfer "LAN A -> LAN B" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"
snap hub h1
relayed=$(($(jv h1 node.relayed_packets) - $(jv h0 node.relayed_packets)))
echo "  hub relayed $relayed packets for the transfer"
[ "$relayed" -ge 14000 ] || fail "hub relayed only $relayed packets for 20 MB (>= 14000 expected)"

echo "== no drops anywhere after the start"
for node in hub spoke-a spoke-b; do
	snap "$node" "end-$node"
	expect_eq "$node: drops since the start (but congestion's: $(drops "start.$node" "end-$node"))" \
		"$(faults "start.$node" "end-$node")" none
done
pass "hub on openssl, spokes on chacha: pings both ways, 20 MB with matching sha256 ($relayed packets relayed), no drops"
