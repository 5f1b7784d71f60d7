#!/usr/bin/env bash
# A reload never stops the packet path (docs/configuration.md, Reloading):
# spoke A names its hub by a host name, served by a name server of the
# test's own inside spoke A's namespace; a reload that changes it to a name
# whose answer takes 5 s resolves it off the loop. Meanwhile LAN A keeps
# pinging LAN B every 20 ms and every ping is answered within 100 ms, the
# control socket answers `status` at once, a second `subnetra reload` is
# told that one is running, and `subnetra reload` itself returns once the
# name is resolved (after >= 5 s), with the new endpoint applied.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin reload_slow_dns

# ip netns exec puts /etc/netns/NS/resolv.conf in place of /etc/resolv.conf
mkdir -p "/etc/netns/$NS_A"
e2e_defer rm -rf "/etc/netns/$NS_A"
printf 'nameserver 127.0.0.1\noptions timeout:15 attempts:1\n' >"/etc/netns/$NS_A/resolv.conf"
bg nsx "$NS_A" "$PKT" dns --listen 127.0.0.1:53 --answer hub.test=172.31.2.1 \
	--answer slow.test=172.31.2.1 --delay slow.test=5 --ready "$T/dns.ready" --log "$T/dns.log" --secs 120
wait_for 10 "the name server" test -e "$T/dns.ready"
sed -i 's|endpoint: 172.31.2.1:51820|endpoint: hub.test:51820|' "$STAR_DIR/spoke-a.yaml"
grep -q 'endpoint: hub.test:51820' "$STAR_DIR/spoke-a.yaml" || fail "endpoint edit not applied"
e2e_start_all

echo "== reload spoke A with a hub name whose answer takes 5 s"
sed -i 's|endpoint: hub.test:51820|endpoint: slow.test:51820|' "$STAR_DIR/spoke-a.yaml"
bg nsx "$NS_LA" ping -n -i 0.02 -c 350 -W 1 192.168.2.10 >"$T/ping.txt" 2>&1
ping_pid=$BG_PID
sleep 0.5
t0=$(date +%s.%N)
bg sctl spoke-a reload
reload_pid=$BG_PID
wait_for 3 "the slow query" grep -q slow.test "$T/dns.log"
# while it resolves: the control socket answers, a second reload is refused
s0=$(date +%s.%N)
snap spoke-a during
s1=$(date +%s.%N)
expect_le "seconds for a status request during the reload" "$(awk "BEGIN { print $s1 - $s0 }")" 0.5
if out=$(sctl spoke-a reload 2>&1); then fail "a second reload during the first was accepted: $out"; fi
grep -q "a reload is running already" <<<"$out" || fail "second reload: $out"
echo "  second reload: $out"
wait "$reload_pid" || fail "subnetra reload failed"
t1=$(date +%s.%N)
took=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
echo "  subnetra reload returned after $took s"
expect_ge "seconds until the reload returned (the 5 s answer)" "$took" 5
wait "$ping_pid" || true
"$PKT" ping "$T/ping.txt" >"$T/ping.json"
echo "  pings during the reload: $(cat "$T/ping.json")"
expect_eq "pings answered (of 350, 7 s at 20 ms)" "$(jv ping received)" 350
expect_le "slowest ping during the reload, ms" "$(jv ping max)" 100
snap spoke-a after
expect_eq "spoke A: reloads" "$(jv after node.reloads)" 1
expect_eq "spoke A: the hub's endpoint (slow.test)" "$(jv after peer.1.endpoint)" 172.31.2.1:51820
expect_eq "spoke A: the hub's session kept (epochs accepted)" "$(jv after peer.1.epochs_accepted)" \
	"$(jv start.spoke-a peer.1.epochs_accepted)"
pass "a reload waiting 5 s for a name: 350 of 350 pings, max $(jv ping max) ms; status answered; reload returned after $took s"
