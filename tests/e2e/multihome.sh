#!/usr/bin/env bash
# A hub bound to 0.0.0.0 answers each spoke from the local address that
# spoke sent to (docs/configuration.md, hub.endpoint; docs/plugins.md,
# raw_direct: IP_PKTINFO). The hub gets a second address, 172.31.9.1, on
# its underlay link to spoke A; spoke A names it as the hub's endpoint,
# while the hub's route to spoke A has source 172.31.2.1 (what the OS would
# answer from). Everything the hub sends spoke A - responses, relayed
# pings, and 20 MB of TCP from LAN B in UDP GSO runs - comes from
# 172.31.9.1, spoke A's learned endpoint of the hub stays 172.31.9.1:51820,
# and the transfer arrives intact.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin multihome

ip -n "$NS_HUB" addr add 172.31.9.1/32 dev hs2
ip -n "$NS_A" route add 172.31.9.0/24 via 172.31.2.1 dev ul
os_src=$(ip -n "$NS_HUB" route get 172.31.2.2 | grep -o 'src [0-9.]*' | cut -d' ' -f2)
expect_eq "the source the hub's OS picks towards spoke A" "$os_src" 172.31.2.1
sed -i 's|endpoint: 172.31.2.1:51820|endpoint: 172.31.9.1:51820|' "$STAR_DIR/spoke-a.yaml"
grep -q 'endpoint: 172.31.9.1:51820' "$STAR_DIR/spoke-a.yaml" || fail "endpoint edit not applied"

sniff_start "$NS_A" ul cap 60 --udp-port 51820
cap_pid=$BG_PID
e2e_start_all
expect_eq "spoke A: the hub's endpoint once verified" "$(jv start.spoke-a peer.1.endpoint)" \
	172.31.9.1:51820

head -c 20M /dev/urandom >"$T/blob"
tcp_transfer "LAN B -> LAN A through the hub" "$NS_LB" "$NS_LA" 192.168.1.10 "$T/blob"
answered=$(ping_n "$NS_LA" 192.168.2.10 10)
expect_eq "pings LAN A -> LAN B answered" "$answered" 10
snap hub after.hub
snap spoke-a after.spoke-a
expect_eq "spoke A: the hub's endpoint after the traffic" "$(jv after.spoke-a peer.1.endpoint)" \
	172.31.9.1:51820
gso=$(( $(jv after.hub node.tx_gso) - $(jv start.hub node.tx_gso) ))
echo "  hub: $gso GSO messages sent"
expect_ge "hub: GSO messages sent (runs from the second address)" "$gso" 10

kill "$cap_pid" 2>/dev/null || true
wait "$cap_pid" 2>/dev/null || true
from_hub=$(grep -c '"sport": 51820' "$T/cap.json" || true)
from_secondary=$(grep '"sport": 51820' "$T/cap.json" | grep -c '"src": "172.31.9.1"' || true)
from_other=$(grep '"sport": 51820' "$T/cap.json" | grep -vc '"src": "172.31.9.1"' || true)
echo "  datagrams from the hub's port seen by spoke A: $from_hub, from 172.31.9.1: $from_secondary"
expect_ge "datagrams from the hub" "$from_hub" 100
expect_eq "datagrams from the hub not from 172.31.9.1" "$from_other" 0
pass "a hub bound to 0.0.0.0 answered spoke A only from 172.31.9.1 (the address it sent to, not the OS's 172.31.2.1): $from_secondary datagrams, $gso GSO runs, 20 MB intact"
