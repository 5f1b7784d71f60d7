#!/usr/bin/env bash
# A hub endpoint given by name is resolved again while the spoke runs, off
# the loop, all its A records tried in order (docs/configuration.md,
# hub.endpoint). Spoke A names its hub hub.test, served by a name server of
# the test's own in spoke A's namespace, keepalive 1 s; the hub has the
# extra addresses 172.31.9.1 and 172.31.9.2 (bound to 0.0.0.0).
#  1. hub.test has two A records, 172.31.9.9 (nothing answers there) and
#     172.31.9.1: after 3 silent keepalive intervals spoke A moves to the
#     second and verifies the hub there.
#  2. The hub leaves 172.31.9.1 and hub.test now answers 172.31.9.2: once
#     the hub is silent, spoke A looks the name up again and moves to
#     172.31.9.2, without a reload, and LAN A reaches LAN B again.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin endpoint_names

ip -n "$NS_HUB" addr add 172.31.9.1/32 dev hs2
ip -n "$NS_HUB" addr add 172.31.9.2/32 dev hs2
ip -n "$NS_A" route add 172.31.9.0/24 via 172.31.2.1 dev ul
# ip netns exec puts /etc/netns/NS/resolv.conf in place of /etc/resolv.conf
mkdir -p "/etc/netns/$NS_A"
e2e_defer rm -rf "/etc/netns/$NS_A"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"/etc/netns/$NS_A/resolv.conf"

# dns NAME ANSWER: (re)start the name server with hub.test=ANSWER
dns_pid=
dns() {
	[ -z "$dns_pid" ] || { kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; }
	rm -f "$T/dns.ready"
	bg nsx "$NS_A" "$PKT" dns --listen 127.0.0.1:53 --answer "hub.test=$1" \
		--ready "$T/dns.ready" --log "$T/dns.log" --secs 120
	dns_pid=$BG_PID
	wait_for 10 "the name server" test -e "$T/dns.ready"
}

dns 172.31.9.9,172.31.9.1
sed -i 's|endpoint: 172.31.2.1:51820|endpoint: hub.test:51820|' "$STAR_DIR/spoke-a.yaml"
grep -q 'endpoint: hub.test:51820' "$STAR_DIR/spoke-a.yaml" || fail "endpoint edit not applied"
set_conf spoke-a keepalive 1

echo "== 1. two A records, the first dead"
e2e_start_all
expect_eq "spoke A: the hub's endpoint (the second A record)" \
	"$(jv start.spoke-a peer.1.endpoint)" 172.31.9.1:51820
grep -q 'endpoint 172.31.9.9:51820 -> 172.31.9.1:51820 (address 2 of 2 of hub.test)' \
	"$STAR_DIR/spoke-a.log" || fail "no log line of the move to the second address"
echo "  $(grep -m1 -- '-> 172.31.9.1:51820' "$STAR_DIR/spoke-a.log")"
lookups=$(grep -c ' hub.test 1$' "$T/dns.log" || true)
expect_ge "A queries for hub.test (at load, at start, when silent)" "$lookups" 2

echo "== 2. the hub moves to 172.31.9.2, and so does hub.test"
dns 172.31.9.2
ip -n "$NS_HUB" addr del 172.31.9.1/32 dev hs2
wait_for 30 "spoke A to move to 172.31.9.2" \
	bash -c "\"$SUBNETRA\" -c \"$STAR_DIR/spoke-a.yaml\" --json status | grep -q '\"endpoint\":\"172.31.9.2:51820\"'"
grep -q 'hub.test now resolves to 1 address(es); endpoint .* -> 172.31.9.2:51820' \
	"$STAR_DIR/spoke-a.log" || fail "no log line of the new answer"
echo "  $(grep -m1 -- '-> 172.31.9.2:51820' "$STAR_DIR/spoke-a.log")"
answered=$(ping_n "$NS_LA" 192.168.2.10 10)
expect_eq "pings LAN A -> LAN B answered after the move" "$answered" 10
snap spoke-a after
expect_eq "spoke A: the hub's endpoint" "$(jv after peer.1.endpoint)" 172.31.9.2:51820
expect_eq "spoke A: reloads (none needed)" "$(jv after node.reloads)" 0
pass "hub.test: the dead first A record gave way to the second after 3 keepalive intervals; a changed answer moved spoke A to 172.31.9.2 without a reload ($answered/10 pings)"
