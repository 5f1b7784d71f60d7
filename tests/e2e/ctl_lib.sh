# shellcheck shell=bash
# tests/e2e/ctl_lib.sh: helpers of the control-plane end-to-end tests
# (policy_swap.sh, reload.sh, status_counters.sh); sourced after
# `set -euo pipefail`. Builds on lib.sh (fail, pass, skip) and
# scripts/lib/star.sh (the namespace star and its daemons), which it does not
# change: extra namespaces and daemons are added to star.sh's own lists
# (STAR_NS, STAR_PIDS), so star_down removes them too.
#
#   ctl_begin NAME       e2e_begin NAME (e2e_lib.sh): root check, temp dir $T,
#                        namespaces with a per-run suffix, an EXIT trap removing
#                        all of it even on failure, the config copy in
#                        $STAR_DIR. Starts nothing.
#   ctl_start_all        start hub and spokes; wait (bounded) until every
#                        tunnel is up both ways and LAN A reaches LAN B
#   sctl NODE ARGS...    the subnetra tool against NODE (bounded)
#   snap NODE NAME       NODE's `subnetra --json status` saved as $T/NAME.json
#   jv NAME PATH...      values from a saved status (pingstat.py get)
#   drops NAME1 NAME2 [PEER]  drop counters that moved between two snapshots
#   expect_eq / expect_le / expect_ge WHAT GOT WANT   assert, print the evidence
#   wait_for SECS WHAT CMD...   poll CMD every 0.1 s; fail after SECS
#   bg CMD...            run a helper in the background (killed at exit);
#                        its PID is in $BG_PID
#   inject NS ARGS...    sn-inject in namespace NS
#   ps_py ARGS...        python3 tests/e2e/pingstat.py ARGS
#   peer_up NODE PEER    NODE knows PEER's endpoint and accepted an epoch from it
#   ping_q NS DST N [ping args]   N pings; prints how many were answered

# The begin/cleanup machinery, wait_for, inject, expect_eq and the background
# helper list come from e2e_lib.sh. snap, jv and drops are redefined below:
# the control-plane tests read status snapshots with pingstat.py.
. "$(dirname "${BASH_SOURCE[0]}")/e2e_lib.sh"
CTL_E2E=$E2E_DIR
BG_PID=

ctl_begin() {
	command -v ping >/dev/null || skip "ping missing"
	e2e_begin "$1"
}

sctl() { local n=$1; shift; timeout 15 "$SUBNETRA" -c "$STAR_DIR/$n.yaml" "$@"; }
snap() { sctl "$1" --json status >"$T/$2.json" || fail "cannot read the status of $1"; }
jv() { local f=$1; shift; python3 "$CTL_E2E/pingstat.py" get "$T/$f.json" "$@"; }
drops() { python3 "$CTL_E2E/pingstat.py" drops "$T/$1.json" "$T/$2.json" ${3:+"$3"}; }
ps_py() { python3 "$CTL_E2E/pingstat.py" "$@"; }

expect_le() {
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$2" "$3" ||
		fail "$1: got $2, want <= $3"
	echo "  ok  $1 = $2 (<= $3)"
}

expect_ge() {
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$2" "$3" ||
		fail "$1: got $2, want >= $3"
	echo "  ok  $1 = $2 (>= $3)"
}

bg() {
	"$@" &
	BG_PID=$!
	E2E_BG+=("$BG_PID")
}

# peer_up NODE PEER: NODE knows PEER's endpoint and has accepted an epoch from it.
peer_up() {
	sctl "$1" --json status >"$T/.up.json" 2>/dev/null || return 1
	[ "$(jv .up "peer.$2.endpoint")" != null ] && [ "$(jv .up "peer.$2.rx_epoch")" != null ]
}

wait_socket() {
	wait_for 10 "the control socket of $1" test -S "$STAR_DIR/run/$1.sock"
}

ctl_start_all() {
	star_start hub
	wait_socket hub
	star_start spoke-a
	star_start spoke-b
	wait_for 15 "the hub to hear spoke-a" peer_up hub 2
	wait_for 15 "the hub to hear spoke-b" peer_up hub 3
	wait_for 15 "spoke-a to hear the hub" peer_up spoke-a 1
	wait_for 15 "spoke-b to hear the hub" peer_up spoke-b 1
	star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"
}

# ping_q NS DST N [args]: N pings; prints how many came back.
ping_q() {
	local ns=$1 dst=$2 n=$3 out got; shift 3
	out=$(nsx "$ns" timeout $((n + 10)) ping -n -q -c "$n" -W 1 "$@" "$dst" 2>&1) || true
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out")
	echo "${got:-0}"
}
