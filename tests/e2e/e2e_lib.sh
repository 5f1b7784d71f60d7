# shellcheck shell=bash
# tests/e2e/e2e_lib.sh: the namespace-star helpers the data-plane end-to-end
# tests share (sourced after `set -euo pipefail`). Builds on lib.sh (fail,
# pass, skip) and scripts/lib/star.sh (the star of namespaces and daemons).
#
#   e2e_begin NAME     root check, temp dir $T, namespaces with a per-run
#                      suffix ($$), the EXIT trap that removes all of it
#                      (daemons, helpers, namespaces, $T) even on failure or
#                      a signal, and the config copy in $STAR_DIR. Starts no
#                      daemon.
#   e2e_start_all      start the three daemons, then e2e_wait_all: wait
#                      (bounded) until the hub knows both spokes and both
#                      spokes heard the hub, and LAN A reaches LAN B
#   set_conf NODE KEY VALUE    a top-level "KEY: VALUE" in NODE's config copy
#   st NODE / snap NODE NAME   NODE's `subnetra --json status` (saved as
#                      $T/NAME.json); jv NAME PATH reads a value from it
#                      (snstat.py: node.epoch, drops.replay, peer.2.endpoint)
#   drops NAME1 NAME2 [PEER]   drop counters that moved between two snapshots
#   nonzero_drops NAME [PEER]  drop counters that are not 0 in a snapshot
#   expect_eq WHAT GOT WANT    assert and print the evidence
#   expect_range WHAT GOT LO HI
#   expect_drops WHAT NODE BASE WANT [PEER]   exact drop counter deltas
#   wait_for SECS WHAT CMD...  poll CMD every 0.1 s, fail after SECS
#   peer_known NODE PEER       NODE has an endpoint and an epoch for PEER
#   ping_n NS DST N [ping args] ping N times (0.2 s apart); prints received
#   inject NS ARGS...  run sn-inject in namespace NS with the plugin dir set
#   setb HEX OFF BYTE  HEX with one byte replaced
#   bg CMD...          start a helper in the background ($! in E2E_BG[-1]);
#                      whatever it leaves in a namespace dies with it at exit
#   epoch_of NODE, pubkey_of NODE   from the state directory / key copies
#
# Helpers in python3 (stdlib only): pkt.py (sniffer, frame replay, UDP and
# TCP senders, impairment relay), snstat.py (status JSON).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 directly (a pyenv shim in PATH costs 0.1 s per call).
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
SN_INJECT=$SN_BUILD/tests/sn-inject
E2E_BG=()
T=

e2e_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	trap '' PIPE
	set +e
	for pid in "${E2E_BG[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "${STAR_DIR:-}" ]; then
		for f in "$STAR_DIR"/*.log; do
			[ -s "$f" ] || continue
			echo "---- $(basename "$f") (last 40 lines)" >&2
			tail -40 "$f" >&2
		done
	fi
	declare -F star_down >/dev/null && star_down
	for pid in "${E2E_BG[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	[ -n "$T" ] && rm -rf "$T"
	exit "$rc"
}

e2e_begin() {
	need_root
	local b
	for b in "$SUBNETRAD" "$SUBNETRA" "$SN_INJECT"; do
		[ -x "$b" ] || fail "$b is not built"
	done
	[ -n "$PY" ] || skip "python3 missing"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	T=$(mktemp -d "/tmp/sn-e2e-$1.XXXXXX")
	# shellcheck disable=SC2034  # read by star.sh
	STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=$$
	. "$SN_SRC/scripts/lib/star.sh"
	star_up || fail "star_up"
	star_conf "$T/conf"
	echo "e2e $1: namespaces $STAR_NS, files in $T"
}

# set_conf NODE KEY VALUE: set a top-level "KEY: VALUE" line in NODE's config copy.
set_conf() {
	grep -q "^$2:" "$STAR_DIR/$1.yaml" || fail "no top-level $2 in $1.yaml"
	sed -i "s|^$2:.*|$2: $3|" "$STAR_DIR/$1.yaml"
}

st() { timeout 15 "$SUBNETRA" -c "$STAR_DIR/$1.yaml" --json status; }
snap() { st "$1" >"$T/$2.json" || fail "cannot read the status of $1"; }
jv() { "$PY" "$E2E_DIR/snstat.py" get "$T/$1.json" "$2"; }
drops() { "$PY" "$E2E_DIR/snstat.py" delta "$T/$1.json" "$T/$2.json" ${3:+"$3"}; }
nonzero_drops() { "$PY" "$E2E_DIR/snstat.py" nonzero "$T/$1.json" ${2:+"$2"}; }

expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	echo "  ok  $1 = $2"
}

# expect_range WHAT GOT LO HI (integers or decimals)
expect_range() {
	"$PY" -c "import sys; g,l,h=map(float,sys.argv[1:]); sys.exit(0 if l<=g<=h else 1)" \
		"$2" "$3" "$4" || fail "$1: got $2, want $3..$4"
	echo "  ok  $1 = $2 (in $3..$4)"
}

# expect_drops WHAT NODE BASE WANT [PEER]: NODE's drop counters since the
# snapshot BASE (node-wide, or for PEER) must become exactly WANT ("name=+n
# ..." or "none") within 10 s and still be WANT 0.3 s later (datagrams in
# flight are counted by then). Leaves the last snapshot in $T/NODE-last.json.
expect_drops() {
	local what=$1 node=$2 base=$3 want=$4 peer=${5:-} got='' _
	for _ in $(seq 100); do
		snap "$node" "$node-last"
		got=$(drops "$base" "$node-last" $peer)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	sleep 0.3
	snap "$node" "$node-last"
	got=$(drops "$base" "$node-last" $peer)
	expect_eq "$what" "$got" "$want"
}

# setb HEX OFFSET BYTE: HEX with the byte at OFFSET replaced by BYTE (2 hex digits).
setb() { echo "${1:0:$((2 * $2))}$3${1:$((2 * $2 + 2))}"; }

wait_for() {
	local secs=$1 what=$2 _; shift 2
	for _ in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for $what"
}

ping_n() {
	local ns=$1 dst=$2 n=$3 out got; shift 3
	out=$(nsx "$ns" timeout $((n + 10)) ping -n -q -c "$n" -i 0.2 -W 2 "$@" "$dst" 2>&1) || true
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out")
	echo "${got:-0}"
}

inject() {
	local ns=$1; shift
	nsx "$ns" timeout 10 "$SN_INJECT" --plugin-dir "$SN_BUILD/plugins" "$@" ||
		fail "sn-inject $* failed"
}

bg() {
	"$@" &
	E2E_BG+=($!)
}

# peer_known NODE PEER: NODE has an endpoint and an accepted epoch for PEER.
peer_known() {
	st "$1" >"$T/.known.json" 2>/dev/null || return 1
	[ "$(jv .known "peer.$2.endpoint")" != null ] && [ "$(jv .known "peer.$2.rx_epoch")" != null ]
}

# e2e_start_all [subnetrad args]: start hub and spokes, wait (bounded) until
# the hub knows both spokes' endpoints and both spokes heard the hub (so no
# packet meets a peer without an endpoint), then until LAN A reaches LAN B.
e2e_start_all() {
	star_start hub "$@"
	star_start spoke-a "$@"
	star_start spoke-b "$@"
	e2e_wait_all
}

# e2e_wait_all: the waiting half of e2e_start_all (daemons started by hand).
e2e_wait_all() {
	wait_for 15 "the hub to learn spoke A" peer_known hub 2
	wait_for 15 "the hub to learn spoke B" peer_known hub 3
	wait_for 15 "spoke A to hear the hub" peer_known spoke-a 1
	wait_for 15 "spoke B to hear the hub" peer_known spoke-b 1
	star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"
}

# epoch_of NODE: the epoch in NODE's state directory (the one it runs with).
epoch_of() { cat "$STAR_DIR/state/$1/epoch"; }
pubkey_of() { cat "$STAR_DIR/keys/$1.pub"; }
