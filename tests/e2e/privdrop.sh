#!/usr/bin/env bash
# node.user: after setup the daemon runs as that user, keeping only
# CAP_NET_ADMIN; traffic still flows, the control socket still answers, and
# on SIGTERM it still removes the routes it added and exits 0.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
e2e_begin privdrop

sed -i '/^node:/a\  user: nobody' "$STAR_DIR/spoke-a.yaml"
e2e_start_all

pid=$(star_pid spoke-a)
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$pid"/status)
capeff=$(awk '/^CapEff:/ {print $2}' /proc/"$pid"/status)
capprm=$(awk '/^CapPrm:/ {print $2}' /proc/"$pid"/status)
nobody=$(id -u nobody)
echo "spoke-a pid $pid"
expect_eq "spoke-a: Uid (real, effective, saved, fs)" "$uid" "$nobody $nobody $nobody $nobody"
expect_eq "spoke-a: CapEff (only CAP_NET_ADMIN)" "$capeff" 0000000000001000
expect_eq "spoke-a: CapPrm (only CAP_NET_ADMIN)" "$capprm" 0000000000001000
grep -q "running as user nobody" "$STAR_DIR/spoke-a.log" || fail "no log line about the user switch"

sctl spoke-a status >/dev/null || fail "control socket does not answer after the user switch"
nsx "$NS_A" ip route | grep -q "192.168.2.0/24 dev subnetra0" || fail "route missing"

rc=0
star_stop spoke-a || rc=$?
expect_eq "spoke-a exit status after SIGTERM" "$rc" 0
expect_eq "routes to 192.168.2.0/24 left in spoke-a" "$(nsx "$NS_A" ip route | grep "192.168.2.0/24" || true)" ""
pass "runs as nobody with only CAP_NET_ADMIN, removes its routes at exit"
