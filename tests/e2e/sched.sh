#!/usr/bin/env bash
# The packet thread's scheduling (docs/configuration.md, node.rt_priority and
# node.slice_us), read from /proc/PID/task/TID/stat (policy: 0 SCHED_OTHER,
# 1 SCHED_FIFO):
# - the hub with rt_priority: 10 and node.user: nobody runs its packet
#   thread at SCHED_FIFO 10 (asked before the privileges are dropped) and
#   says so in its log; a thread it starts later (a reload's worker) runs
#   SCHED_OTHER (SCHED_RESET_ON_FORK);
# - spoke A, started under `chrt -f 5` without rt_priority, keeps SCHED_FIFO
#   5: slice_us does not take it away (sched_setattr with SCHED_OTHER would);
# - spoke B with rt_priority: 10 but neither CAP_SYS_NICE nor an
#   RLIMIT_RTPRIO stays SCHED_OTHER, warns once and names what it needs;
# - traffic flows through all three; a reload that changes rt_priority is
#   refused, naming it, and the hub keeps its policy.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin sched
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
command -v chrt >/dev/null || skip "no chrt (util-linux)"
command -v prlimit >/dev/null || skip "no prlimit (util-linux)"

chmod 755 "$T" # a reload as nobody rereads the config
sed -i '/^node:/a\  rt_priority: 10\n  user: nobody' "$STAR_DIR/hub.yaml"
sed -i '/^node:/a\  rt_priority: 10' "$STAR_DIR/spoke-b.yaml"

# "POLICY PRIORITY" of one thread: fields 41 and 40 of its stat, counted
# after the command name in parentheses (which may hold spaces)
sched_of() { sed 's/^.*) //' "/proc/$1/task/$2/stat" | awk '{ print $39, $38 }'; }

star_start hub
wait_socket hub
STAR_WRAP="chrt -f 5" star_start spoke-a
STAR_WRAP="prlimit --rtprio=0:0 setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice" \
	star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || fail "no traffic between the LANs"

hub=$(star_pid hub)
a=$(star_pid spoke-a)
b=$(star_pid spoke-b)
expect_eq "hub: packet thread (policy, priority)" "$(sched_of "$hub" "$hub")" "1 10"
expect_eq "hub: runs as nobody" "$(awk '$1 == "Uid:" { print $3 }' /proc/"$hub"/status)" \
	"$(id -u nobody)"
grep -qF "subnetrad: info: node.rt_priority: the packet thread runs at SCHED_FIFO priority 10" \
	"$STAR_DIR/hub.log" || fail "hub.log does not say it runs at SCHED_FIFO 10: $(cat "$STAR_DIR/hub.log")"
echo "  ok  hub.log: node.rt_priority: the packet thread runs at SCHED_FIFO priority 10"

expect_eq "spoke A (chrt -f 5): packet thread (policy, priority)" "$(sched_of "$a" "$a")" "1 5"
grep -qF "node.slice_us: not asked; the packet thread keeps the policy it was started with (SCHED_FIFO)" \
	"$STAR_DIR/spoke-a.log" || fail "spoke-a.log does not say the slice was not asked"
echo "  ok  spoke-a.log: node.slice_us: not asked"

expect_eq "spoke B (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): packet thread (policy, priority)" \
	"$(sched_of "$b" "$b")" "0 0"
WANT="subnetrad: warning: node.rt_priority: 10 not applied (sched_setscheduler: Operation not permitted; it needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 10, and under systemd RestrictRealtime=no); packets may wait for a CPU behind other work"
expect_eq "spoke-b.log: the warning, once" "$(grep -cF "$WANT" "$STAR_DIR/spoke-b.log")" 1

echo "== a reload starts a worker thread on the hub; it runs SCHED_OTHER"
sctl hub reload >/dev/null || fail "the hub's reload failed"
# the worker may be gone by now: look at every thread the hub has while
# reloads run, and require that one was seen
seen=0
for _ in $(seq 20); do
	sctl hub reload >/dev/null &
	rp=$!
	for _ in $(seq 50); do
		for task in /proc/"$hub"/task/*; do
			tid=${task##*/}
			[ "$tid" = "$hub" ] && continue
			s=$(sched_of "$hub" "$tid" 2>/dev/null) || continue
			[ "$s" = "0 0" ] || fail "hub thread $tid runs at (policy, priority) $s, not SCHED_OTHER"
			seen=$((seen + 1))
		done
		[ "$seen" -gt 0 ] && break
		sleep 0.005
	done
	wait "$rp" || fail "a reload of the hub failed"
	[ "$seen" -gt 0 ] && break
done
[ "$seen" -gt 0 ] || fail "no thread but the packet thread was ever seen in the hub during 20 reloads"
echo "  ok  a hub thread other than the packet thread: SCHED_OTHER"
expect_eq "hub: packet thread after the reloads" "$(sched_of "$hub" "$hub")" "1 10"

echo "== a changed rt_priority needs a restart"
sed -i 's/^  rt_priority: 10$/  rt_priority: 20/' "$STAR_DIR/hub.yaml"
expect_restart_needed hub node.rt_priority
expect_eq "hub: packet thread after the refused reload" "$(sched_of "$hub" "$hub")" "1 10"
star_wait_ping "$NS_LB" 192.168.1.10 10 || fail "no traffic after the reloads"
pass "sched"
