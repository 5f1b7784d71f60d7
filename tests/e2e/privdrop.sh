#!/usr/bin/env bash
# node.user: after setup the daemon runs as that user for good: spoke-a
# (overlay.manage_routes on) keeps only CAP_NET_ADMIN, spoke-b
# (manage_routes: false) no capability; both have an empty bounding set
# and no_new_privs. Traffic still flows, the control socket still answers,
# reloads (SIGHUP and `subnetra reload`) still work and apply changes (the
# private key file stays root's, 0600), and on SIGTERM spoke-a still removes
# the routes it added and exits 0. Core dumps are off in every daemon
# (RLIMIT_CORE 0, not dumpable), and node.user: root is refused.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin privdrop
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"

chmod 755 "$T" # a reload as nobody rereads the config
sed -i '/^node:/a\  user: nobody' "$STAR_DIR/spoke-a.yaml" "$STAR_DIR/spoke-b.yaml"
sed -i '/^overlay:/a\  manage_routes: false' "$STAR_DIR/spoke-b.yaml"

# the hub runs without CAP_SYS_PTRACE (it needs none), so that a root
# process without it can tell whether the hub is dumpable (below)
NOPTRACE="setpriv --bounding-set=-sys_ptrace"
STAR_WRAP=$NOPTRACE star_start hub
wait_socket hub
star_start spoke-a
star_start spoke-b
wait_for 5 "spoke-b's TUN device" eval 'nsx "$NS_B" ip route | grep -q "dev subnetra0"'
nsx "$NS_B" ip route add 192.168.1.0/24 dev subnetra0 # spoke-b does not manage routes
star_wait_ping "$NS_LA" 192.168.2.10 20 || fail "no traffic with node.user set"

nobody=$(id -u nobody)
pst() { awk -v k="$2:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' /proc/"$(star_pid "$1")"/status; }
for node in spoke-a spoke-b; do
	want=0000000000000000
	[ $node = spoke-a ] && want=0000000000001000 # CAP_NET_ADMIN only
	expect_eq "$node: Uid (real, effective, saved, fs)" "$(pst $node Uid)" "$nobody $nobody $nobody $nobody"
	expect_eq "$node: CapEff" "$(pst $node CapEff)" $want
	expect_eq "$node: CapPrm" "$(pst $node CapPrm)" $want
	expect_eq "$node: CapBnd (empty)" "$(pst $node CapBnd)" 0000000000000000
	expect_eq "$node: CapAmb (empty)" "$(pst $node CapAmb)" 0000000000000000
	expect_eq "$node: NoNewPrivs" "$(pst $node NoNewPrivs)" 1
	grep -q "running as user nobody" "$STAR_DIR/$node.log" || fail "$node: no log line about the user switch"
	sctl $node status >/dev/null || fail "$node: control socket does not answer after the user switch"
done
nsx "$NS_A" ip route | grep -q "192.168.2.0/24 dev subnetra0" || fail "route missing"

# Core dumps: RLIMIT_CORE 0 (soft and hard) everywhere; the root hub is not
# dumpable either: with the same capabilities (none of them CAP_SYS_PTRACE)
# root may follow /proc/PID/exe of a dumpable process (the sleep) but not
# of one that is not dumpable.
for node in hub spoke-a spoke-b; do
	expect_eq "$node: core file size limit" \
		"$(awk '/^Max core file size/ {print $5, $6}' /proc/"$(star_pid $node)"/limits)" "0 0"
done
bg $NOPTRACE sleep 30
sleep 0.2
$NOPTRACE readlink /proc/$BG_PID/exe >/dev/null ||
	fail "setpriv cannot read a dumpable process: the check below would prove nothing"
if $NOPTRACE readlink /proc/"$(star_pid hub)"/exe >/dev/null 2>&1; then
	fail "the hub is dumpable (/proc/PID/exe readable without CAP_SYS_PTRACE)"
fi

# Reloads as nobody: spoke-a learns a route (a FORWARD rule: CAP_NET_ADMIN
# at work) by SIGHUP, then another by `subnetra reload`; spoke-b (no
# capability) a DROP rule by `subnetra reload`.
expect_eq "spoke-a's key file" "$(stat -c '%U %a' "$STAR_DIR/keys/spoke-a.key")" "root 600"
printf 'policy:\n  - { prefix: 192.168.77.0/24, action: forward, peer: 1 }\n' >>"$STAR_DIR/spoke-a.yaml"
kill -HUP "$(star_pid spoke-a)"
wait_for 5 "spoke-a's SIGHUP reload" grep -q "reload (SIGHUP)" "$STAR_DIR/spoke-a.log"
grep "reload (SIGHUP)" "$STAR_DIR/spoke-a.log" | tail -1 | grep -q "applied" ||
	fail "SIGHUP reload as nobody failed: $(grep "reload (SIGHUP)" "$STAR_DIR/spoke-a.log" | tail -1)"
nsx "$NS_A" ip route | grep -q "192.168.77.0/24 dev subnetra0" || fail "SIGHUP reload did not add its route"
echo "  - { prefix: 192.168.78.0/24, action: forward, peer: 1 }" >>"$STAR_DIR/spoke-a.yaml"
out=$(sctl spoke-a reload 2>&1) || fail "subnetra reload as nobody failed: $out"
nsx "$NS_A" ip route | grep -q "192.168.78.0/24 dev subnetra0" || fail "subnetra reload did not add its route"
printf 'policy:\n  - { prefix: 198.51.100.0/24, action: drop }\n' >>"$STAR_DIR/spoke-b.yaml"
out=$(sctl spoke-b reload 2>&1) || fail "subnetra reload of spoke-b (no capability) failed: $out"
# outputs in variables: `sctl | grep -q` under pipefail fails when grep
# stops reading early (SIGPIPE)
out=$(sctl spoke-b policy list) || fail "policy list of spoke-b failed"
grep -q "198.51.100.0/24" <<<"$out" || fail "spoke-b's reload did not apply its rule: $out"
out=$(sctl spoke-a status) || fail "status of spoke-a failed"
grep -q " 2 reloads" <<<"$out" || fail "spoke-a does not count 2 reloads: $out"
star_wait_ping "$NS_LA" 192.168.2.10 5 || fail "no traffic after the reloads"

# node.user: root is refused when the config is loaded, before any setup
# (run inside a namespace of the test anyway).
sed -e 's/^  user: nobody/  user: root/' -e 's/spoke-b\.sock/root.sock/' -e 's,state/spoke-b,state/root,' \
	"$STAR_DIR/spoke-b.yaml" >"$STAR_DIR/root.yaml"
if out=$(nsx "$NS_LA" timeout 10 "$SUBNETRAD" -c "$STAR_DIR/root.yaml" 2>&1); then
	fail "subnetrad started with node.user: root"
fi
grep -q "node.user: 'root' is uid 0, so the daemon would keep every privilege" <<<"$out" ||
	fail "node.user: root message: $out"

rc=0
star_stop spoke-a || rc=$?
expect_eq "spoke-a exit status after SIGTERM" "$rc" 0
expect_eq "routes left in spoke-a after exit" "$(nsx "$NS_A" ip route | grep -E "192.168.(2|77|78).0/24" || true)" ""
pass "as nobody: CAP_NET_ADMIN only with managed routes, else none; empty bounding set, no_new_privs; no core dumps; reloads work; root refused; routes removed at exit"
