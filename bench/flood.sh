#!/usr/bin/env bash
# bench/flood.sh: the legit traffic's throughput against a flood of hostile
# datagrams (issue 11, item 5). On the star of tests/e2e (hub, spokes A and
# B, their LANs, the attacker's namespace on the hub's underlay): iperf3 TCP
# from LAN A to LAN B through the hub, unflooded and while sn-loadgen floods
# the hub at RATE datagrams a second with
#   mix     unknown key_ids, bad tags and forged newer epochs of spoke A,
#           stale epochs, short datagrams, spoke A's recorded datagrams
#   spoof   the same (but the recordings) from random spoofed sources
#   epoch   forged newer epochs of spoke A only (the candidate limit)
# Each round runs baseline, mix, spoof, epoch; the hub's drops and CPU and
# what the floods achieved are recorded. Then the price of each kind alone:
# the hub's CPU time per hostile datagram, flooded at COST_RATE (default
# 100,000 a second) for SECS without other traffic.
#
# Usage: bench/flood.sh [-r ROUNDS] [--rate R] [--procs P] [--secs S] [-o OUTDIR]
#   --procs P  flooding processes, RATE/P each (default 2: one sender process
#              tops out near 200,000 a second on this 2-core machine)
# Results: OUTDIR (default bench/results/flood-<date-time>)/results.jsonl.
# Needs root, iperf3 and a build (SN_BUILD, default build/).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export SN_SRC=${SN_SRC:-$(cd "$BENCH/.." && pwd)}
export SN_BUILD=${SN_BUILD:-$SN_SRC/build}
ROUNDS=3 RATE=200000 PROCS=2 SECS=10 OUT="" COST_RATE=100000
while [ $# -gt 0 ]; do
	case $1 in
	-r) ROUNDS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--procs) PROCS=$2; shift 2 ;;
	--cost-rate) COST_RATE=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
command -v iperf3 >/dev/null || { echo "error: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }
OUT=${OUT:-$BENCH/results/flood-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
RES=$OUT/results.jsonl
: >"$RES"

. "$SN_SRC/tests/e2e/e2e_lib.sh"
e2e_begin bench-flood
e2e_attacker
e2e_start_all
E_A=$(jv start.hub peer.2.rx_epoch)
sniff_start "$NS_HUB" hs2 rec 3 --src 172.31.2.2 --max 200
ping_n "$NS_LA" 192.168.2.10 50 -i 0.02 >/dev/null
wait "$BG_PID" || true
bg nsx "$NS_LB" iperf3 -s -B 192.168.2.10
sleep 1

say() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*"; }
hub_ticks() { awk '{print $14 + $15}' "/proc/$(star_pid hub)/stat"; }
hub_user() { awk '{print $14}' "/proc/$(star_pid hub)/stat"; }

# the floods' totals: sent, the rate they achieved together
flood_sum() {
	"$PY" - "$T"/fl.*.json <<'PYEOF'
import json, sys
r = [json.load(open(p)) for p in sys.argv[1:]]
kinds = {}
for x in r:
    for k, v in x["kinds"].items():
        kinds[k] = kinds.get(k, 0) + v
print(json.dumps({"sent": sum(x["sent"] for x in r), "rate": round(sum(x["rate"] for x in r)),
                  "procs": len(r), "kinds": kinds}))
PYEOF
}

# one KIND [flood args]: iperf3 for SECS, with the flood (none: baseline)
one() {
	local kind=$1 fls=() t0 t1 gbps i; shift
	rm -f "$T"/fl.*.json
	snap hub b
	t0=$(hub_ticks)
	if [ "$kind" != baseline ]; then
		for i in $(seq "$PROCS"); do
			nsx "$NS_X" "$SN_LOADGEN" flood --to 172.31.4.1:51820 --rate $((RATE / PROCS)) \
				--secs $((SECS + 1)) --peer 2 --epoch "$E_A" --result "$T/fl.$i.json" "$@" &
			fls+=($!)
		done
		sleep 0.5
	fi
	nsx "$NS_LA" iperf3 -c 192.168.2.10 -t "$SECS" -J >"$T/ip.json" || fail "iperf3 ($kind)"
	for i in "${fls[@]}"; do wait "$i"; done
	t1=$(hub_ticks)
	snap hub a
	gbps=$("$PY" -c "import json; print(round(json.load(open('$T/ip.json'))['end']['sum_received']['bits_per_second'] / 1e9, 4))")
	printf '{"kind":"%s","round":%s,"gbps":%s,"hub_cpu_s":%s,"flood":%s,"drops":"%s","load":%s}\n' \
		"$kind" "$r" "$gbps" "$(awk "BEGIN { print ($t1 - $t0) / $(getconf CLK_TCK) }")" \
		"$([ ${#fls[@]} -gt 0 ] && flood_sum || echo null)" "$(drops b a)" \
		"$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RES"
}

for r in $(seq "$ROUNDS"); do
	say "round $r"
	one baseline
	one mix --kinds unknown,badtag,epoch,stale,short,replay --replay-frames "$T/rec.frames"
	one spoof --kinds unknown,badtag,epoch,stale,short --spoof 198.18.0.0/15
	one epoch --kinds epoch
done
# cost KIND [flood args]: the hub's CPU per datagram of KIND, nothing else running
cost() {
	local kind=$1 t0 t1 u0 u1 sent; shift
	snap hub b
	t0=$(hub_ticks)
	u0=$(hub_user)
	nsx "$NS_X" "$SN_LOADGEN" flood --to 172.31.4.1:51820 --rate "$COST_RATE" --secs "$SECS" \
		--peer 2 --epoch "$E_A" --result "$T/cost.json" --kinds "$kind" "$@"
	sleep 0.5
	t1=$(hub_ticks)
	u1=$(hub_user)
	snap hub a
	sent=$(jv cost sent)
	printf '{"kind":"cost","flood":"%s","sent":%s,"rate":%s,"hub_cpu_s":%s,"hub_us_per_datagram":%s,"hub_user_us_per_datagram":%s,"drops":"%s","load":%s}\n' \
		"$kind" "$sent" "$(jv cost rate)" "$(awk "BEGIN { print ($t1 - $t0) / $(getconf CLK_TCK) }")" \
		"$(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / $(getconf CLK_TCK) / $sent * 1e6 }")" \
		"$(awk "BEGIN { printf \"%.3f\", ($u1 - $u0) / $(getconf CLK_TCK) / $sent * 1e6 }")" \
		"$(drops b a)" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RES"
}
say "the price of each kind"
for k in unknown badtag epoch stale short; do cost "$k"; done
cost replay --replay-frames "$T/rec.frames"
cost unknown --spoof 198.18.0.0/15

snap hub end
expect_eq "hub: spoke A still verified in its epoch" \
	"$(jv end peer.2.state)/$(jv end peer.2.rx_epoch)" "verified/$E_A"
pass "results in $RES"
