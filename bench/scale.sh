#!/usr/bin/env bash
# bench/scale.sh: one hub, many spokes (issue 11): what it costs and how
# long it takes, measured with sn-loadgen (tests/tools/loadgen/) on the
# star of tests/e2e (the hub, spokes A and B, their LANs, and the attacker's
# namespace where the loadgen spokes live, one UDP socket each).
#
# Usage: bench/scale.sh [-n SPOKES] [--only "memory join idle status reload restart"]
#                       [--mem-sizes "0 1000 10000"] [--idle-secs S] [--reload-rounds R]
#                       [-o OUTDIR]
#   memory   the hub's RSS with 0, 1,000, 10,000 loadgen spokes, all verified
#   join     N spokes join a fresh hub: time until the hub verified all of them
#   idle     the hub's CPU with N idle spokes (keepalives every 25 s), per 1,000
#   status   `status`, `--json status`, `status summary`, `metrics`: time and size
#   reload   the switch and the loop's longest iteration during reloads of the N-peer
#            config (SUBNETRA_LOOP_STATS=1), and the longest gap of a paced stream
#            through the hub (5,000 packets/s between two more loadgen spokes),
#            against the same measurement without a reload
#   restart  the hub restarts: time until all N are verified again; recorded
#            datagrams replayed count replay/stale_epoch/unverified, none delivered
# Results: OUTDIR (default bench/results/scale-<date-time>)/results.json and a
# summary on stdout. Run it on a quiet machine (it says the load average at each
# step); the figures in bench/README.md come from it. Needs root and a build
# (SN_BUILD, default build/).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export SN_SRC=${SN_SRC:-$(cd "$BENCH/.." && pwd)}
export SN_BUILD=${SN_BUILD:-$SN_SRC/build}
N=10000 ONLY="memory join idle status reload restart" MEM_SIZES="0 1000 10000"
IDLE_SECS=60 ROUNDS=3 OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--mem-sizes) MEM_SIZES=$2; shift 2 ;;
	--idle-secs) IDLE_SECS=$2; shift 2 ;;
	--reload-rounds) ROUNDS=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
OUT=${OUT:-$BENCH/results/scale-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
RES=$OUT/results.jsonl
: >"$RES"

. "$SN_SRC/tests/e2e/e2e_lib.sh"
e2e_begin bench-scale
e2e_attacker
C=$STAR_DIR
LG_SEED=bench-scale
STREAM_IDS="--first-id 90000 --addr-base 10.0.250.0"

say() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*"; }
# record KEY VALUE...: one result line (JSON) in results.jsonl
record() {
	local k=$1; shift
	printf '{"what":"%s","load":%s,%s}\n' "$k" "$(cut -d' ' -f1 /proc/loadavg)" "$*" >>"$RES"
	say "$k: $*"
}
hub_pid() { star_pid hub; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$(hub_pid)/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$(hub_pid)/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }   # calc EXPR: a JSON number

# peers N: the hub's peers_dir holds N loadgen spokes (+ the stream's two)
peers() {
	rm -rf "$C/lg-peers"
	mkdir -p "$C/lg-peers"
	[ "$1" -gt 0 ] && "$SN_LOADGEN" conf --seed $LG_SEED --count "$1" --routes --peers-dir "$C/lg-peers"
	"$SN_LOADGEN" conf --seed $LG_SEED --count 2 $STREAM_IDS --peers-dir "$C/lg-peers"
}
sed -i 's|^  subnet: 10.0.0.0/24 .*|  subnet: 10.0.0.0/16|' "$C/hub.yaml"
echo "peers_dir: lg-peers" >>"$C/hub.yaml"

# hub_up [fresh]: start the hub (fresh: without its state, so no remembered endpoints)
hub_up() {
	star_stop hub || true
	[ "${1:-}" = fresh ] && rm -rf "$C/state/hub"
	STAR_WRAP="env SUBNETRA_LOOP_STATS=1" star_start hub
	wait_socket hub 120
}
# spokes_up NAME COUNT [ARGS]: the loadgen, and wait until all joined
spokes_up() {
	local name=$1 n=$2; shift 2
	lg_run "$name" --count "$n" "$@"
	eval "PID_$name=$BG_PID"
	wait_for 300 "$n loadgen spokes verified" bash -c \
		"[ -s '$T/$name.json' ] && [ \"\$($SNSTAT get '$T/$name.json' join_s)\" != null ]"
}
spokes_down() { local v="PID_$1"; kill -TERM "${!v}" 2>/dev/null || true; wait "${!v}" 2>/dev/null || true; }

star_start spoke-a
star_start spoke-b
sizes=$("$SN_LOADGEN" sizes)
record sizes "\"sizes\":$sizes"

m_memory() {
	local n base=""
	for n in $MEM_SIZES; do
		peers "$n"
		hub_up fresh
		[ "$n" -gt 0 ] && spokes_up mem "$n"
		sleep 2
		record memory "\"peers\":$n,\"rss_kib\":$(rss_kib),\"hwm_kib\":$(hwm_kib)"
		if [ "$n" -gt 0 ]; then # two reloads (nothing changed): what they leave behind
			sctl hub reload >/dev/null && sleep 1 && sctl hub reload >/dev/null && sleep 2
			record memory "\"peers\":$n,\"after\":\"2 reloads\",\"rss_kib\":$(rss_kib),\"hwm_kib\":$(hwm_kib)"
			spokes_down mem
		fi
	done
}

m_join() {
	local t0 t1
	peers "$N"
	hub_up fresh
	t0=$(date +%s.%N)
	spokes_up lg "$N"
	t1=$(date +%s.%N)
	record join "\"spokes\":$N,\"join_s\":$(jv lg join_s),\"wall_s\":$(calc "$t1 - $t0")," \
		"\"hub_cpu_s\":$(calc "$(cpu_ticks "$(hub_pid)") / $(getconf CLK_TCK)")"
}

m_idle() {
	local h0 h1 l0 l1 tck secs=$IDLE_SECS
	tck=$(getconf CLK_TCK)
	sleep 30 # the joins' eager keepalives over: every spoke on its 25 s interval
	h0=$(cpu_ticks "$(hub_pid)")
	l0=$(cpu_ticks "$PID_lg")
	sleep "$secs"
	h1=$(cpu_ticks "$(hub_pid)")
	l1=$(cpu_ticks "$PID_lg")
	record idle "\"spokes\":$N,\"secs\":$secs,\"hub_cpu_s\":$(calc "($h1 - $h0) / $tck")," \
		"\"hub_cpu_pct_per_1000\":$(calc "($h1 - $h0) / $tck / $secs * 100 * 1000 / $N")," \
		"\"loadgen_cpu_s\":$(calc "($l1 - $l0) / $tck")"
}

m_status() {
	local cmd t0 t1 bytes
	for cmd in "status" "--json status" "status summary" "--json status summary" "status --peer $((100 + N / 2))" "metrics"; do
		t0=$(date +%s.%N)
		bytes=$(sctl hub $cmd | wc -c)
		t1=$(date +%s.%N)
		record status "\"command\":\"$cmd\",\"peers\":$((N + 4)),\"bytes\":$bytes,\"wall_s\":$(calc "$t1 - $t0")"
	done
}

# one reload with changes (10 leave, 10 come, 10 renamed) or none, while the
# stream runs; then the change undone
reload_once() {
	local kind=$1 i
	if [ "$kind" = change ]; then
		mkdir -p "$T/away"
		for i in $(seq 100 109); do mv "$C/lg-peers/$(printf lg-%08u.yaml "$i")" "$T/away/"; done
		"$SN_LOADGEN" conf --seed $LG_SEED --count 10 --first-id 80000 --addr-base 10.0.240.0 \
			--peers-dir "$C/lg-peers"
		sed -i 's/^name: lg-/name: renamed-/' "$C"/lg-peers/lg-00000{200..209}.yaml
	elif [ "$kind" = undo ]; then
		mv "$T"/away/*.yaml "$C/lg-peers/"
		rm -f "$C"/lg-peers/lg-0008000?.yaml
		sed -i 's/^name: renamed-/name: lg-/' "$C"/lg-peers/lg-00000{200..209}.yaml
	fi
	kill -USR2 "$PID_lgs"
	sctl hub reload >/dev/null || fail "reload ($kind)"
	sleep 1.5
	cp "$T/lgs.json" "$T/lgs.reload.json" # the gap before anything else asks the hub
	# the summary: a full status of 10,000 peers holds the packet thread ~70 ms
	sctl hub --json status summary >"$T/rl.json" || fail "status"
	record reload "\"kind\":\"$kind\",\"peers\":$(jv rl node.peers_total),\"switch_us\":$(jv rl node.reload_switch_us)," \
		"\"loop_busy_max_us\":$(jv rl node.loop.reload_busy_max_us),\"loop_cpu_max_us\":$(jv rl node.loop.reload_cpu_max_us)," \
		"\"stream_gap_max_us\":$(jv lgs.reload stream.gap_max_us),\"gaps_over_1ms\":$(jv lgs.reload stream.gaps_over_1ms)," \
		"\"gaps_over_2ms\":$(jv lgs.reload stream.gaps_over_2ms),\"stream_lost\":$(jv lgs.reload stream.lost)," \
		"\"loop_busy_max_since_start_us\":$(jv rl node.loop.busy_max_us),\"loop_cpu_max_since_start_us\":$(jv rl node.loop.cpu_max_us)"
}

m_reload() {
	local r
	# the meter at real-time priority: its own waits for the CPU would
	# otherwise be most of the gaps it sees
	bg nsx "$NS_X" chrt -f 50 "$SN_LOADGEN" run --seed "$LG_SEED" --hub 172.31.4.1:51820 \
		--hub-pub-file "$C/keys/hub.pub" --plugin-dir "$PLUGINS" --status "$T/lgs.json" \
		--count 2 $STREAM_IDS --stream-to 10.0.250.1 --stream-rate 5000
	PID_lgs=$BG_PID
	wait_for 30 "the stream's spokes verified" bash -c \
		"[ -s '$T/lgs.json' ] && [ \"\$($SNSTAT get '$T/lgs.json' join_s)\" != null ]"
	sleep 2
	for r in $(seq "$ROUNDS"); do
		kill -USR2 "$PID_lgs"
		sleep 2.5 # as long as a reload's window: the reload (~1 s) and 1.5 s
		cp "$T/lgs.json" "$T/lgs.base.json"
		record reload "\"kind\":\"baseline\",\"stream_gap_max_us\":$(jv lgs.base stream.gap_max_us)," \
			"\"gaps_over_1ms\":$(jv lgs.base stream.gaps_over_1ms),\"gaps_over_2ms\":$(jv lgs.base stream.gaps_over_2ms)"
		reload_once none
		reload_once change
		reload_once undo
	done
}

m_restart() {
	local e0 t0 t1 got r
	e0=$(jv lg last_epoch)
	star_stop hub
	t0=$(date +%s.%N)
	STAR_WRAP="env SUBNETRA_LOOP_STATS=1" star_start hub
	wait_for 300 "all verified by the restarted hub" bash -c \
		"[ \"\$($SNSTAT get '$T/lg.json' last_epoch)\" != $e0 ] && [ \"\$($SNSTAT get '$T/lg.json' last_all_after_first_s)\" != null ]"
	t1=$(date +%s.%N)
	record restart "\"spokes\":$N,\"after_first_datagram_s\":$(jv lg last_all_after_first_s),\"wall_s\":$(calc "$t1 - $t0")"
	snap hub rs0
	r=$(jv lg replayed)
	kill -USR1 "$PID_lg"
	sleep 3
	snap hub rs1
	got=0
	for k in replay stale_epoch unverified; do got=$((got + $(jv rs1 drops.$k) - $(jv rs0 drops.$k))); done
	record replay "\"replayed\":$(($(jv lg replayed) - r)),\"counted\":$got,\"dup_answers\":$(jv lg pings_dup)"
}

for m in $ONLY; do
	case $m in
	memory) say "memory"; m_memory ;;
	join | idle | status | reload | restart)
		if [ "$m" = join ] || [ -z "${PID_lg:-}" ]; then say "join"; m_join; fi
		[ "$m" != join ] && { say "$m"; "m_$m"; } ;;
	*) fail "unknown measurement $m" ;;
	esac
done
cp "$RES" "$OUT/" 2>/dev/null || true
pass "results in $RES"
