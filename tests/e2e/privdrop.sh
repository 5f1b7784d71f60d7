#!/usr/bin/env bash
# node.user: after setup the daemon runs as that user, keeping only
# CAP_NET_ADMIN; traffic still flows, the control socket still answers, and
# on SIGTERM it still removes the routes it added and exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"

export STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=pd$$
. "$SN_SRC/scripts/lib/star.sh"
T=$(mktemp -d /tmp/sn-privdrop.XXXXXX)
trap 'star_down; rm -rf "$T"' EXIT
star_up
star_conf "$T/conf"
sed -i '/^node:/a\  user: nobody' "$STAR_DIR/spoke-a.yaml"

star_start hub
for _ in $(seq 50); do [ -S "$STAR_DIR/run/hub.sock" ] && break; sleep 0.1; done
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || { cat "$STAR_DIR"/spoke-a.log; fail "no traffic with node.user set"; }

pid=$(star_pid spoke-a)
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$pid"/status)
capeff=$(awk '/^CapEff:/ {print $2}' /proc/"$pid"/status)
capprm=$(awk '/^CapPrm:/ {print $2}' /proc/"$pid"/status)
nobody=$(id -u nobody)
echo "spoke-a pid $pid: Uid $uid, CapEff $capeff, CapPrm $capprm"
[ "$uid" = "$nobody $nobody $nobody $nobody" ] || fail "daemon still runs as uid $uid"
[ "$capeff" = 0000000000001000 ] || fail "effective capabilities $capeff, want only CAP_NET_ADMIN"
[ "$capprm" = 0000000000001000 ] || fail "permitted capabilities $capprm, want only CAP_NET_ADMIN"
grep -q "running as user nobody" "$STAR_DIR/spoke-a.log" || fail "no log line about the user switch"

star_ctl spoke-a status >/dev/null || fail "control socket does not answer after the user switch"
nsx "$NS_A" ip route | grep -q "192.168.2.0/24 dev subnetra0" || fail "route missing"

star_stop spoke-a && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "daemon exited $rc on SIGTERM"
if nsx "$NS_A" ip route | grep -q "192.168.2.0/24"; then
	fail "route 192.168.2.0/24 left behind after exit"
fi
pass "runs as nobody with only CAP_NET_ADMIN, removes its routes at exit"
