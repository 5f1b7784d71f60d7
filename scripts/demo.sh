#!/usr/bin/env bash
# scripts/demo.sh: the Subnetra demo, from a fresh Debian 12 machine, as root.
#
# Installs what is missing, builds, then in network namespaces it makes a hub
# and two spokes, each spoke with a LAN host behind it (192.168.1.0/24 and
# 192.168.2.0/24), starts the three daemons with the configs in conf/, pings
# and copies a 20 MB file from LAN host A to LAN host B through the hub
# (checking its sha256), prints every node's `subnetra status`, and removes
# everything it created.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

bash scripts/deps.sh
echo "== building"
bash scripts/build.sh "$SRC/build" >/dev/null

export STAR_BUILD=$SRC/build STAR_ID=demo$$
. scripts/lib/star.sh
WORK=$(mktemp -d /tmp/subnetra-demo.XXXXXX)
# star_down fails when a daemon's log holds a sanitizer report
cleanup() { local rc=$?; star_down || rc=1; rm -rf "$WORK"; exit "$rc"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "namespaces: hub $NS_HUB, spoke-a $NS_A (LAN host $NS_LA), spoke-b $NS_B (LAN host $NS_LB)"
star_up
star_conf "$WORK/conf"

step "starting subnetrad on the hub and both spokes (configs: conf/hub.yaml, conf/spoke-a.yaml, conf/spoke-b.yaml)"
star_start hub
for _ in $(seq 50); do [ -S "$STAR_DIR/run/hub.sock" ] && break; sleep 0.1; done
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || { tail -n 20 "$STAR_DIR"/*.log; exit 1; }
for n in hub spoke-a spoke-b; do sed 's/^/  /' "$STAR_DIR/$n.log"; done

step "ping: LAN host A (192.168.1.10) -> LAN host B (192.168.2.10), through the hub"
nsx "$NS_LA" ping -c 5 -i 0.2 192.168.2.10
step "ping: spoke-a (10.0.0.2) -> hub (10.0.0.1), and hub -> spoke-b (10.0.0.3)"
nsx "$NS_A" ping -c 3 -i 0.2 10.0.0.1 | tail -2
nsx "$NS_HUB" ping -c 3 -i 0.2 10.0.0.3 | tail -2

step "file transfer: 20 MB from LAN host A to LAN host B, sha256 checked"
head -c 20M /dev/urandom >"$WORK/file"
want=$(sha256sum "$WORK/file" | cut -d' ' -f1)
PKT=tests/e2e/pkt.py   # the traffic tool of the end-to-end tests
nsx "$NS_LB" timeout 60 "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$WORK/ready" \
	>"$WORK/recv.out" &
rpid=$!
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
out=$(nsx "$NS_LA" timeout 60 "$PKT" tcp-send --to 192.168.2.10:5001 --file "$WORK/file") ||
	{ echo "demo: the transfer failed" >&2; exit 1; }
read -r n _ secs <<<"$out"
wait $rpid
got=$(cut -d' ' -f2 "$WORK/recv.out")
echo "sent     sha256 $want ($n bytes in $secs s)"
echo "received sha256 $got"
[ "$want" = "$got" ] || { echo "demo: the file arrived corrupted" >&2; exit 1; }
echo "transfer OK"

for n in hub spoke-a spoke-b; do
	step "subnetra status on $n"
	star_ctl "$n" status
done

step "stopping the daemons (SIGTERM: routes removed, clean shutdown) and removing the namespaces"
for n in spoke-a spoke-b hub; do star_stop "$n"; done
echo "demo finished"
