#!/usr/bin/env bash
# bench/rt-peer.sh — a peer of the shared harness with its daemons' threads at SCHED_FIFO, so that
# it can be compared with Subnetra's node.rt_priority in the same run (bench/run.sh --rt-peers).
# bench/run.sh copies this script to OUTDIR/rt/PEER.sh: run-bench.sh names the implementation
# after the script (PEER, its state in $SN_STATE/PEER as the harness's impl/PEER.sh keeps it), and
# the run is tagged rt. `up` runs the harness's impl/PEER.sh up, then `chrt -a -f -p` every PID it
# recorded; `down` is the harness's.
# Env: SN_RT_HARNESS (the harness copy holding impl/), SN_PEER_CHRT (priority, default 10).
set -euo pipefail
PEER=$(basename "$0" .sh)
H=${SN_RT_HARNESS:?SN_RT_HARNESS (the harness with impl/) is not set}
IMPL=$H/impl/$PEER.sh
[ -x "$IMPL" ] || { echo "rt-peer: $IMPL not found" >&2; exit 1; }
. "$H/lib.sh"
"$IMPL" "$@"
if [ "${1:-}" = up ]; then
  [ -s "$SN_STATE/$PEER/pids" ] || { echo "rt-peer: $PEER recorded no PIDs" >&2; exit 1; }
  while read -r role pid; do
    chrt -a -f -p "${SN_PEER_CHRT:-10}" "$pid" >/dev/null ||
      { echo "rt-peer: chrt failed for $PEER $role ($pid)" >&2; exit 1; }
  done <"$SN_STATE/$PEER/pids"
fi
