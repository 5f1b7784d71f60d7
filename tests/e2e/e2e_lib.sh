# shellcheck shell=bash
# tests/e2e/e2e_lib.sh: the one library of the end-to-end tests. A test is
#
#   #!/usr/bin/env bash
#   # what it proves
#   set -euo pipefail
#   . "$(dirname "$0")/e2e_lib.sh"
#   e2e_begin NAME
#   ...steps...
#   pass "what was shown, with figures"
#
# Setup and cleanup
#   e2e_begin NAME [--no-netns]  temp dir $T; the one EXIT/signal trap; with
#                        namespaces (the default): root check, the star of
#                        scripts/lib/star.sh with a per-run suffix ($$), the
#                        config copy in $STAR_DIR. Starts no daemon.
#   e2e_defer CMD...     run CMD in the cleanup (last registered first, before
#                        the daemons stop and the namespaces go): extra files,
#                        mounts, a SIGCONT for a stopped daemon
#   e2e_attacker [--routed]  namespace $NS_X (snx-<suffix>) on the hub's
#                        underlay: hub hs4 172.31.4.1/30 <-> $NS_X ul
#                        172.31.4.2/30, default route via the hub; --routed:
#                        the hub namespace forwards, so $NS_X also reaches
#                        (and is reached from) the spokes' underlay addresses
#   The cleanup, on success, failure or signal: stops the background helpers,
#   prints the daemons' logs (failure only), runs the deferred commands,
#   stops the daemons and removes every namespace (star_down; a sanitizer
#   report in a log fails the run), removes $T.
# Daemons
#   e2e_start_all [args] start hub (then wait for its socket) and spokes, then
#                        e2e_wait_all
#   e2e_wait_all         wait (bounded) until the hub verified both spokes and
#                        both spokes verified the hub (docs/protocol.md,
#                        "Verifying a peer"), snapshot each node's status as
#                        start.NODE, and wait until LAN A reaches LAN B
#   wait_socket NODE [SECS]  wait for NODE's control socket (default 10 s)
#   set_conf NODE KEY VALUE  a top-level "KEY: VALUE" in NODE's config copy
#   sctl NODE ARGS...    the subnetra tool against NODE (bounded)
#   set_egress PLUGIN [OPTIONS]  every node's config copy on egress PLUGIN
#                        (in place of raw_direct), with "options: PLUGIN:
#                        { OPTIONS }" when given
#   check_stack DIR PLUGIN  --check on the hub's copy shows egress PLUGIN
#                        over raw_direct, both loaded from DIR
#   epoch_of NODE, pubkey_of NODE   from the state directory / key copies
#   (star.sh: star_start, star_stop, star_pid, star_node, star_ns, star_veth,
#   star_wait_ping, nsx NS CMD...)
# Status and counters (snstat.py)
#   st NODE              NODE's JSON status on stdout (returns non-zero on error)
#   snap NODE NAME       the JSON status saved as $T/NAME.json (fails the test)
#   jv NAME PATH...      values from $T/NAME.json (any JSON file in $T), one a
#                        line: node.epoch, drops.replay, peer.2.endpoint;
#                        "absent" for a missing peer
#   drops OLD NEW [PEER] drop counters that moved: "name=+n ..." or "none"
#   faults OLD NEW [PEER] the same without congestion's (tun_queue: the TUN
#                        queue was full; aqm: CoDel's signal), which bulk TCP
#                        may meet by design: the drops that are faults
#   nonzero_drops NAME [PEER]  drop counters that are not 0, or "none"
#   nonzero_faults NAME [PEER] the same without congestion's (tun_queue, aqm)
#   sanitized            true when SN_BUILD is a sanitizer build (ASan: every
#                        node several times slower, timing claims void)
#   expect_drops WHAT NODE BASE WANT [PEER]  NODE's drops since snapshot BASE
#                        become exactly WANT (10 s) and stay so for 0.3 s
#   expect_deltas OLD NEW [--exact] PATH=N...  counters moved by exactly N
#                        (--exact: and nothing else moved)
#   unchanged OLD NEW    true when no counter moved between two snapshots
#   settle NAME NODE...  snapshots $T/NAME.NODE.json, taken again until two
#                        rounds agree (nothing in flight; 20 s at most)
#   peer_up NODE PEER    NODE verified PEER and has its endpoint and epoch
# Assertions (each prints its evidence)
#   expect_eq WHAT GOT WANT, expect_le / expect_ge WHAT GOT BOUND,
#   expect_range WHAT GOT LO HI (integers or decimals)
#   num_ok WHAT VALUE... each VALUE is a decimal number (else fail)
#   wait_for SECS WHAT CMD...  poll CMD every 0.1 s; fail after SECS
#   fail MSG / skip MSG (exit 77) / pass MSG
# Background helpers
#   bg CMD...            run CMD in the background, its PID in $BG_PID (also
#                        for `bg nsx NS CMD`: the PID is CMD's own); stopped
#                        by the cleanup
# Traffic (pkt.py; $PKT runs it, also inside `nsx`)
#   ping_n NS DST N [ping args]  N pings (-i 0.2 -W 2 unless given); prints
#                        how many were answered
#   sniff_start NS IFACE NAME SECS [sniff args]  a capture in the background
#                        ($T/NAME.json lines, $T/NAME.frames), waits until
#                        it is bound; $BG_PID
#   replay_frames NS IFACE FRAMES [--times N]  the frames again, byte for byte
#   replay_udp NS FRAMES ADDR:PORT [--from ADDR[:PORT]] [--times N]  their UDP
#                        payloads again, from an ordinary socket in NS (so
#                        from NS's address: the attacker's, or an added one)
#   udp_send NS ADDR:PORT [--pad N] [--count N] HEX...  crafted datagrams
#   inject NS ARGS...    sn-inject (sealed datagrams) in NS
#   tcp_transfer NAME FROM_NS TO_NS TO_ADDR FILE [tcp-send args]  FILE over
#                        TCP from FROM_NS to TO_ADDR:5001 in TO_NS (110 s at
#                        most); prints the rate, sets $TCP_SECS (the sender's
#                        seconds); fails unless every byte arrives and the
#                        sha256 on arrival is FILE's
#   relay_a [relay args] spoke A reaches the hub through a userspace relay
#                        (pkt.py relay: --loss, --swap, --dup, --drop-fec ...)
#                        at 127.0.0.1:51821 in spoke A's namespace, which
#                        forwards to the hub at 172.31.2.1:51820 and back
#                        (spoke A's config copy edited); before the daemons
#                        start. relay_a_stop: stop it, print $T/relay.json
#                        (jv relay up.drop down.dup ... reads it)
#   lg_run NAME ARGS...  sn-loadgen run (many spokes, tests/tools/loadgen/) in
#                        the attacker's namespace $NS_X against the hub at
#                        172.31.4.1, seed $LG_SEED, status in $T/NAME.json
#                        (jv NAME PATH reads it); $BG_PID
#   setb HEX OFF BYTE    HEX with one byte replaced
#
# Variables: $T, $STAR_DIR, $NS_HUB $NS_A $NS_B $NS_LA $NS_LB (and $NS_X),
# $SUBNETRAD $SUBNETRA $SN_INJECT $SN_LOADGEN $PLUGINS (of $SN_BUILD), $PY, $PKT,
# $SNSTAT, $E2E_DIR.
# Tools: pkt.py (traffic and packets), snstat.py (status), swapload.py
# (policy_swap.sh's measurement); python3 stdlib only, run by /usr/bin/python3.

SN_SRC=${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SN_BUILD=${SN_BUILD:-$SN_SRC/build}
SUBNETRAD=$SN_BUILD/subnetrad
SUBNETRA=$SN_BUILD/subnetra
PLUGINS=$SN_BUILD/plugins
SN_INJECT=$SN_BUILD/tests/sn-inject
SN_LOADGEN=$SN_BUILD/tests/sn-loadgen
LG_SEED=${LG_SEED:-e2e}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 directly (a pyenv shim in PATH costs 0.1 s per call).
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1   # nothing written into the source tree
# A test run by a service manager: its daemons tell that manager nothing
# (core/notify.c); unit_sandbox.sh gives them a notify socket of its own.
unset NOTIFY_SOCKET
PKT=$E2E_DIR/pkt.py
SNSTAT=$E2E_DIR/snstat.py
E2E_BG=()
E2E_DEFER=()
BG_PID=
RELAY_A_PID=
TCP_SECS=
T=

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

# ---- setup and cleanup --------------------------------------------------------

e2e_cleanup() {
	local rc=$? pid i f
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
	for ((i = ${#E2E_DEFER[@]} - 1; i >= 0; i--)); do eval "${E2E_DEFER[i]}"; done
	if declare -F star_down >/dev/null && ! star_down && { [ "$rc" = 0 ] || [ "$rc" = 77 ]; }; then
		rc=1  # a sanitizer report in a daemon's log
	fi
	for pid in "${E2E_BG[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	[ -n "$T" ] && rm -rf "$T"
	exit "$rc"
}

e2e_begin() {
	local name=$1 mode=${2:-} b
	[ -x "$PY" ] || skip "$PY missing"
	for b in "$SUBNETRAD" "$SUBNETRA"; do
		[ -x "$b" ] || fail "$b is not built"
	done
	if [ "$mode" != --no-netns ]; then
		[ "$(id -u)" = 0 ] || skip "needs root"
		[ -x "$SN_INJECT" ] || fail "$SN_INJECT is not built"
		command -v ping >/dev/null || skip "ping missing"
	fi
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	T=$(mktemp -d "/tmp/sn-e2e-$name.XXXXXX")
	if [ "$mode" = --no-netns ]; then
		echo "e2e $name: files in $T"
		return
	fi
	# shellcheck disable=SC2034  # read by star.sh
	STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=$$
	. "$SN_SRC/scripts/lib/star.sh"
	star_up || fail "star_up"
	star_conf "$T/conf"
	echo "e2e $name: namespaces $STAR_NS, files in $T"
}

# e2e_defer CMD...: CMD (words, quoted as given) runs in the cleanup.
e2e_defer() { E2E_DEFER+=("$(printf '%q ' "$@")"); }

e2e_attacker() {
	NS_X=snx-$STAR_ID
	star_ns "$NS_X" || fail "cannot create the attacker's namespace $NS_X"
	star_veth "$NS_HUB" hs4 172.31.4.1/30 "$NS_X" ul 172.31.4.2/30 || fail "attacker veth"
	ip -n "$NS_X" route add default via 172.31.4.1
	[ "${1:-}" = --routed ] || return 0
	nsx "$NS_HUB" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip -n "$NS_A" route add 172.31.4.0/30 via 172.31.2.1
	ip -n "$NS_B" route add 172.31.4.0/30 via 172.31.3.1
}

# ---- daemons ------------------------------------------------------------------

# set_conf NODE KEY VALUE: set a top-level "KEY: VALUE" line in NODE's config copy.
set_conf() {
	grep -q "^$2:" "$STAR_DIR/$1.yaml" || fail "no top-level $2 in $1.yaml"
	sed -i "s|^$2:.*|$2: $3|" "$STAR_DIR/$1.yaml"
}

# expect_restart_needed NODE KEY: `subnetra reload` of NODE fails, saying that KEY changed and
# needs a restart
expect_restart_needed() {
	local rc=0 err
	err=$(sctl "$1" reload 2>&1 >/dev/null) || rc=$?
	expect_eq "subnetra reload with a changed $2" "$rc: $err" \
		"1: subnetra: $STAR_DIR/$1.yaml: $2 changed: restart subnetrad to apply that change"
}
sctl() { local n=$1; shift; timeout 15 "$SUBNETRA" -c "$STAR_DIR/$n.yaml" "$@"; }

set_egress() {
	local n to="  egress: $1"
	[ -z "${2:-}" ] || to+="\n  options:\n    $1: { $2 }"
	for n in hub spoke-a spoke-b; do
		sed -i "s|^  egress: raw_direct.*|$to|" "$STAR_DIR/$n.yaml"
		grep -q "^  egress: $1\$" "$STAR_DIR/$n.yaml" || fail "egress edit not applied to $n"
	done
}

check_stack() {
	local out
	out=$("$SUBNETRAD" -c "$STAR_DIR/hub.yaml" --plugin-dir "$1" --check) || fail "--check: $out"
	grep -q "^  egress    $2 [0-9.]* (ABI [0-9.]*) from $1/egress_$2.so\$" <<<"$out" ||
		fail "--check: no line 'egress $2' from $1: $out"
	grep -q "^  over      raw_direct [0-9.]* (ABI [0-9.]*) from $1/egress_raw_direct.so\$" <<<"$out" ||
		fail "--check: no line 'over raw_direct' from $1: $out"
}
epoch_of() { cat "$STAR_DIR/state/$1/epoch"; }
pubkey_of() { cat "$STAR_DIR/keys/$1.pub"; }

wait_socket() {
	wait_for "${2:-10}" "the control socket of $1" test -S "$STAR_DIR/run/$1.sock"
}

e2e_start_all() {
	star_start hub "$@"
	wait_socket hub
	star_start spoke-a "$@"
	star_start spoke-b "$@"
	e2e_wait_all
}

e2e_wait_all() {
	wait_for 15 "the hub to verify spoke A" peer_up hub 2
	wait_for 15 "the hub to verify spoke B" peer_up hub 3
	wait_for 15 "spoke A to verify the hub" peer_up spoke-a 1
	wait_for 15 "spoke B to verify the hub" peer_up spoke-b 1
	snap hub start.hub
	snap spoke-a start.spoke-a
	snap spoke-b start.spoke-b
	star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"
}

# ---- status and counters --------------------------------------------------------

st() { sctl "$1" --json status; }
snap() { st "$1" >"$T/$2.json" || fail "cannot read the status of $1"; }
jv() { local f=$1; shift; "$SNSTAT" get "$T/$f.json" "$@"; }
drops() { "$SNSTAT" drops "$T/$1.json" "$T/$2.json" ${3:+"$3"}; }
faults() {
	local d
	d=$(drops "$@" | tr ' ' '\n' | grep -vE '^(tun_queue|aqm)=|^none$' | tr '\n' ' ' || true)
	d=${d% }
	echo "${d:-none}"
}
nonzero_drops() { "$SNSTAT" nonzero "$T/$1.json" ${2:+"$2"}; }
sanitized() { grep -q '^SN_SANITIZE:BOOL=ON$' "$SN_BUILD/CMakeCache.txt" 2>/dev/null; }
nonzero_faults() {
	local d
	d=$(nonzero_drops "$@" | tr ' ' '\n' | grep -vE '^(tun_queue|aqm)=|^none$' | tr '\n' ' ' || true)
	d=${d% }
	echo "${d:-none}"
}
unchanged() { "$SNSTAT" deltas "$T/$1.json" "$T/$2.json" --exact >/dev/null 2>&1; }

# expect_drops WHAT NODE BASE WANT [PEER]: datagrams in flight are counted
# by the end. Leaves the last snapshot in $T/NODE-last.json.
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

expect_deltas() {
	local a=$1 b=$2; shift 2
	"$SNSTAT" deltas "$T/$a.json" "$T/$b.json" "$@" || fail "counters from $a to $b are off (above)"
}

settle() {
	local name=$1 n ok _; shift
	for _ in $(seq 40); do
		ok=1
		for n in "$@"; do snap "$n" ".settle.$n"; done
		sleep 0.3
		for n in "$@"; do
			snap "$n" "$name.$n"
			unchanged ".settle.$n" "$name.$n" || ok=0
		done
		[ "$ok" = 1 ] && return 0
	done
	fail "the counters of $* never stopped moving"
}

peer_up() {
	st "$1" >"$T/.up.json" 2>/dev/null || return 1
	[ "$(jv .up "peer.$2.state")" = verified ] && [ "$(jv .up "peer.$2.endpoint")" != null ] &&
		[ "$(jv .up "peer.$2.rx_epoch")" != null ]
}

# ---- assertions ----------------------------------------------------------------

expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	echo "  ok  $1 = $2"
}

# num_ok WHAT VALUE...: each VALUE is a decimal number
num_ok() {
	local what=$1 v; shift
	for v in "$@"; do
		[[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || fail "$what: '$v' is not a number"
	done
}

expect_le() {
	num_ok "$1" "$2" "$3"
	awk "BEGIN { exit !($2 <= $3) }" || fail "$1: got $2, want <= $3"
	echo "  ok  $1 = $2 (<= $3)"
}

expect_ge() {
	num_ok "$1" "$2" "$3"
	awk "BEGIN { exit !($2 >= $3) }" || fail "$1: got $2, want >= $3"
	echo "  ok  $1 = $2 (>= $3)"
}

expect_range() {
	num_ok "$1" "$2" "$3" "$4"
	awk "BEGIN { exit !($3 <= $2 && $2 <= $4) }" || fail "$1: got $2, want $3..$4"
	echo "  ok  $1 = $2 (in $3..$4)"
}

wait_for() {
	local secs=$1 what=$2 _; shift 2
	for _ in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for $what"
}

# ---- background helpers -----------------------------------------------------------

bg() {
	[ "$1" = nsx ] && { shift; set -- ip netns exec "$@"; }
	"$@" &
	BG_PID=$!
	E2E_BG+=("$BG_PID")
}

# ---- traffic ----------------------------------------------------------------------

ping_n() {
	local ns=$1 dst=$2 n=$3 out got; shift 3
	out=$(nsx "$ns" timeout $((n + 10)) ping -n -q -c "$n" -i 0.2 -W 2 "$@" "$dst" 2>&1) || true
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out")
	echo "${got:-0}"
}

sniff_start() {
	local ns=$1 ifc=$2 name=$3 secs=$4; shift 4
	rm -f "$T/$name.ready"
	bg ip netns exec "$ns" timeout $((${secs%.*} + 5)) "$PKT" sniff --iface "$ifc" --secs "$secs" \
		--ready "$T/$name.ready" --frames "$T/$name.frames" "$@" >"$T/$name.json"
	wait_for 10 "the sniffer $name" test -e "$T/$name.ready"
}

replay_frames() {
	local ns=$1 ifc=$2 frames=$3; shift 3
	nsx "$ns" timeout 10 "$PKT" replay --iface "$ifc" --frames "$frames" "$@" >/dev/null ||
		fail "replay of $frames in $ns failed"
}

replay_udp() {
	local ns=$1 frames=$2 to=$3; shift 3
	nsx "$ns" timeout 10 "$PKT" udp-replay --frames "$frames" --to "$to" "$@" >/dev/null ||
		fail "udp-replay of $frames from $ns failed"
}

udp_send() {
	local ns=$1 to=$2; shift 2
	nsx "$ns" timeout 20 "$PKT" udp --to "$to" "$@" || fail "udp send from $ns to $to failed"
}

inject() {
	local ns=$1; shift
	nsx "$ns" timeout 10 "$SN_INJECT" --plugin-dir "$PLUGINS" "$@" || fail "sn-inject $* failed"
}

tcp_transfer() {
	local name=$1 from=$2 to=$3 dst=$4 file=$5 want sent rx_pid rx_bytes rx_sha; shift 5
	want=$(sha256sum "$file" | cut -d' ' -f1)
	rm -f "$T/rx.ready"
	bg nsx "$to" timeout 120 "$PKT" tcp-recv --listen "$dst:5001" --ready "$T/rx.ready" \
		--secs 110 >"$T/rx.out"
	rx_pid=$BG_PID
	wait_for 10 "the TCP receiver ($name)" test -e "$T/rx.ready"
	sent=$(nsx "$from" timeout 120 "$PKT" tcp-send --to "$dst:5001" --file "$file" --secs 110 "$@") ||
		fail "$name: TCP send failed"
	wait "$rx_pid" || fail "$name: TCP receiver failed"
	read -r rx_bytes rx_sha <"$T/rx.out"
	read -r _ _ TCP_SECS <<<"$sent"
	echo "  $name: $rx_bytes bytes in $TCP_SECS s" \
		"($(awk "BEGIN { s = $TCP_SECS; printf \"%.0f\", (s > 0 ? $rx_bytes * 8 / s / 1e6 : 0) }") Mbit/s)"
	expect_eq "$name: bytes received" "$rx_bytes" "$(stat -c %s "$file")"
	expect_eq "$name: sha256 on arrival" "$rx_sha" "$want"
}

relay_a() {
	sed -i 's|endpoint: 172.31.2.1:51820|endpoint: 127.0.0.1:51821|' "$STAR_DIR/spoke-a.yaml"
	grep -q 'endpoint: 127.0.0.1:51821' "$STAR_DIR/spoke-a.yaml" || fail "endpoint edit not applied"
	rm -f "$T/relay.ready"
	# (bg's PID is timeout's, which forwards SIGTERM to the relay)
	bg nsx "$NS_A" timeout 170 "$PKT" relay --listen 127.0.0.1:51821 --to 172.31.2.1:51820 \
		--stats "$T/relay.json" --ready "$T/relay.ready" --secs 160 "$@"
	RELAY_A_PID=$BG_PID
	wait_for 10 "the relay" test -e "$T/relay.ready"
}

relay_a_stop() {
	kill -TERM "$RELAY_A_PID"
	wait "$RELAY_A_PID" || fail "the relay failed"
	cat "$T/relay.json"; echo
}

setb() { echo "${1:0:$((2 * $2))}$3${1:$((2 * $2 + 2))}"; }

lg_run() {
	local name=$1; shift
	[ -x "$SN_LOADGEN" ] || fail "$SN_LOADGEN is not built"
	bg nsx "$NS_X" "$SN_LOADGEN" run --seed "$LG_SEED" --hub 172.31.4.1:51820 \
		--hub-pub-file "$STAR_DIR/keys/hub.pub" --plugin-dir "$PLUGINS" \
		--status "$T/$name.json" "$@"
}
