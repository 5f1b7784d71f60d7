# shellcheck shell=bash
# scripts/lib/star.sh: a hub and two spokes with a LAN host each, in network
# namespaces, running subnetrad with the configs from conf/. Sourced by the
# demo (scripts/demo.sh) and the end-to-end tests (tests/e2e/e2e_lib.sh).
#
#   lan-a [192.168.1.10] -- [192.168.1.1] spoke-a [172.31.2.2] --+
#                                                                 hub [172.31.2.1, 172.31.3.1]
#   lan-b [192.168.2.10] -- [192.168.2.1] spoke-b [172.31.3.2] --+
#   overlay 10.0.0.0/24: hub .1, spoke-a .2, spoke-b .3
#
# Namespace names carry a per-run suffix ($STAR_ID), so runs never collide;
# star_down removes everything star_up made (and every namespace star_ns
# added, and every daemon star_start started) and is safe to call twice.
# Only addresses inside these namespaces are ever used.
#
#   star_up / star_down        build / remove the star
#   star_ns NS                 one more namespace (removed by star_down)
#   star_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2   a veth pair between two namespaces
#   star_conf DIR              copy conf/ to DIR ($STAR_DIR), keys 0600
#   star_node NODE NS          NODE's daemon runs in NS (hub, spoke-a, spoke-b: set)
#   star_start NODE [args]     start NODE's subnetrad ($STAR_WRAP before it)
#   star_pid NODE / star_stop NODE / star_ctl NODE ARGS...
#   star_wait_ping NS DST SECS / star_start_all
#   nsx NS CMD...              run CMD in namespace NS

STAR_SRC=${STAR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STAR_BUILD=${STAR_BUILD:-$STAR_SRC/build}
STAR_ID=${STAR_ID:-$$}
NS_HUB=snh-$STAR_ID
NS_A=sna-$STAR_ID
NS_B=snb-$STAR_ID
NS_LA=sla-$STAR_ID
NS_LB=slb-$STAR_ID
STAR_NS="$NS_HUB $NS_A $NS_B $NS_LA $NS_LB"   # every namespace star_down removes
STAR_DIR=${STAR_DIR:-}     # per-run copy of conf/ (configs, keys, state, sockets, logs)
STAR_PIDS=()

star_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# star_ns NS: a namespace NS (lo up, no IPv6, no reverse-path filter, TCP
# asking for ECN so that an AQM marks rather than drops), added to STAR_NS
# so star_down removes it.
star_ns() {
	ip netns add "$1" || return 1
	STAR_NS="${STAR_NS:+$STAR_NS }$1"
	ip -n "$1" link set lo up
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.tcp_ecn=1 >/dev/null
}

# star_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair IF1 (in NS1, address
# ADDR1 as a.b.c.d/len) <-> IF2 (in NS2, ADDR2), both up.
star_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

# star_node NODE NS: subnetrad for NODE (config $STAR_DIR/NODE.yaml, log
# $STAR_DIR/NODE.log) runs in NS; star_up names hub, spoke-a and spoke-b.
star_node() { eval "STAR_NODE_NS_${1//-/_}=\$2"; }

star_up() {
	local ns all="$NS_HUB $NS_A $NS_B $NS_LA $NS_LB"
	STAR_NS=
	for ns in $all; do star_ns "$ns" || return 1; done
	star_veth "$NS_HUB" hs2 172.31.2.1/30 "$NS_A" ul 172.31.2.2/30 &&
	star_veth "$NS_HUB" hs3 172.31.3.1/30 "$NS_B" ul 172.31.3.2/30 &&
	star_veth "$NS_A" lan 192.168.1.1/24 "$NS_LA" eth0 192.168.1.10/24 &&
	star_veth "$NS_B" lan 192.168.2.1/24 "$NS_LB" eth0 192.168.2.10/24 || return 1
	ip -n "$NS_LA" route add default via 192.168.1.1
	ip -n "$NS_LB" route add default via 192.168.2.1
	nsx "$NS_A" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	star_node hub "$NS_HUB"
	star_node spoke-a "$NS_A"
	star_node spoke-b "$NS_B"
}

# star_conf DIR: copy conf/ into DIR with private keys at mode 0600.
star_conf() {
	STAR_DIR=$1
	mkdir -p "$STAR_DIR"
	cp -r "$STAR_SRC/conf/." "$STAR_DIR/"
	chmod 600 "$STAR_DIR"/keys/*.key
}

# star_start NODE [extra subnetrad args]: NODE is hub, spoke-a, spoke-b or
# one named with star_node. $STAR_WRAP, if set, runs before subnetrad
# (valgrind, env LD_PRELOAD=...).
star_start() {
	local node=$1 v="STAR_NODE_NS_${1//-/_}"; shift
	[ -n "${!v:-}" ] || { star_log "star_start: no namespace for node '$node' (star_node)"; return 1; }
	ip netns exec "${!v}" ${STAR_WRAP:-} "$STAR_BUILD/subnetrad" -c "$STAR_DIR/$node.yaml" \
		--plugin-dir "$STAR_BUILD/plugins" "$@" >"$STAR_DIR/$node.log" 2>&1 </dev/null &
	eval "STAR_PID_${node//-/_}=$!"
	STAR_PIDS+=($!)
}

# star_pid NODE: the daemon's PID.
star_pid() { local v="STAR_PID_${1//-/_}"; echo "${!v:-}"; }

# star_stop NODE: SIGTERM and wait (10 s) for a clean exit, else SIGKILL; returns its status.
star_stop() {
	local pid; pid=$(star_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	local _
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null
}

# star_ctl NODE ARGS...: run `subnetra` against NODE's control socket.
star_ctl() {
	local node=$1; shift
	"$STAR_BUILD/subnetra" -c "$STAR_DIR/$node.yaml" "$@"
}

# star_wait_ping NS DST SECONDS
star_wait_ping() {
	local _
	for _ in $(seq $(($3 * 5))); do
		nsx "$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

star_start_all() {
	star_start hub "$@"
	star_start spoke-a "$@"
	star_start spoke-b "$@"
	star_wait_ping "$NS_LA" 192.168.2.10 20
}

star_down() {
	local ns pid
	for pid in "${STAR_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${STAR_PIDS[@]}"; do
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	STAR_PIDS=()
	for ns in $STAR_NS; do
		ip netns list 2>/dev/null | grep -qw "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	star_check_logs
}

# star_check_logs: a daemon that reported a sanitizer finding (an ASan or
# UBSan build) fails the run, even when the test itself passed: star_down
# returns 1 then, and its caller (an EXIT trap) makes that the exit status.
star_check_logs() {
	local f bad=0
	[ -n "$STAR_DIR" ] || return 0
	for f in "$STAR_DIR"/*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			echo "sanitizer report in $f:" >&2
			sed -n '1,60p' "$f" >&2
			bad=1
		fi
	done
	[ $bad = 0 ]
}
