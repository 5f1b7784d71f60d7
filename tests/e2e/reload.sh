#!/usr/bin/env bash
# Hot reload: peers come and go on a running hub without touching the
# others' tunnels; a bad config is refused whole.
#
# A third spoke, spoke-c (id 4, 10.0.0.4, LAN 192.168.3.0/24, its own key
# from `subnetra genkey`), runs from the start, unknown to the hub (its
# datagrams count unknown_peer). While a paced TCP transfer (sha256 checked)
# and a ping every 10 ms run LAN A -> LAN B:
#   1. spoke-a learns the route to LAN C (config + `subnetra reload`);
#   2. the hub learns spoke-c (config + SIGHUP): LAN C reaches the hub and
#      LAN A within 2 s of the signal;
#   3. a config that fails its check (overlay.mtu: 100, plus a new policy
#      rule) is refused whole, by SIGHUP (the log names file:line:col) and by
#      `subnetra reload` (the tool prints it); status unchanged;
#   4. a changed overlay.mtu is refused with "restart subnetrad to apply";
#   5. spoke-c is removed (config + SIGHUP): exactly the N datagrams it then
#      sends count unknown_peer at the hub, its route is gone.
# Then: no ping lost, the transfer arrives intact, and no tunnel started
# over: the hub's epoch and the epochs it accepted from spoke-a/b (and how
# many) are unchanged, as are the hub epoch spoke-a/b accepted.
#   6. spoke-c is added back (`subnetra reload`) and continues its session:
#      LAN A reaches LAN C at once, before spoke-c has sent anything (the hub
#      kept the endpoint it had learnt), then LAN C reaches the hub, and
#      spoke-c drops nothing. The hub keeps its epoch, so the wire protocol
#      (section 4: "seq ... increases by one for every datagram sent in that
#      direction"; "a (key, nonce) pair is never used twice") requires its
#      datagrams to spoke-c to continue above the sequence numbers it already
#      used with the same key; spoke-c's replay window enforces exactly that.
#      (This found the nonce reuse fixed in 1a1e44f.)
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin reload

# spoke-c [172.31.5.2] -- hub [172.31.5.1]; LAN C [192.168.3.10] -- [192.168.3.1] spoke-c
NS_C=snc-$STAR_ID
NS_LC=slc-$STAR_ID
star_ns "$NS_C" && star_ns "$NS_LC" || fail "cannot create spoke-c's namespaces"
star_veth "$NS_HUB" hs5 172.31.5.1/30 "$NS_C" ul 172.31.5.2/30 &&
	star_veth "$NS_C" lan 192.168.3.1/24 "$NS_LC" eth0 192.168.3.10/24 || fail "spoke-c's links"
ip -n "$NS_LC" route add default via 192.168.3.1
nsx "$NS_C" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
star_node spoke-c "$NS_C"

C=$STAR_DIR
(umask 077; "$SUBNETRA" genkey >"$C/keys/spoke-c.key")
C_PUB=$("$SUBNETRA" pubkey <"$C/keys/spoke-c.key")
HUB_PUB=$(cat "$C/keys/hub.pub")
cat >"$C/spoke-c.yaml" <<YAML
node:
  id: 4
  role: spoke
  private_key_file: keys/spoke-c.key
  state_dir: state/spoke-c
overlay:
  subnet: 10.0.0.0/24
  address: 10.0.0.4
  lans: [192.168.3.0/24]
hub:
  id: 1
  name: hub
  public_key: $HUB_PUB
  endpoint: 172.31.5.1:51820
  address: 10.0.0.1
  routes: [192.168.1.0/24]
keepalive: 3600
control:
  socket: run/spoke-c.sock
YAML

# The hub's configs: as shipped (a, b), with spoke-c (a, b, c), and broken.
cp "$C/hub.yaml" "$C/hub.ab"
"$PY" - "$C/hub.ab" "$C/hub.abc" "$C_PUB" <<'EOF'
import sys
src, dst, pub = sys.argv[1:]
lines = open(src).read().split("\n")
at = next(i for i, l in enumerate(lines) if l.startswith("keepalive:"))
peer = ["  - id: 4", "    name: spoke-c", f"    public_key: {pub}", "    address: 10.0.0.4",
        "    routes:", "      - 192.168.3.0/24", ""]
open(dst, "w").write("\n".join(lines[:at] + peer + lines[at:]))
EOF
grep -q "^  mtu: 1420 " "$C/hub.abc" || fail "hub.yaml has no 'mtu: 1420' line to break"
sed 's/^  mtu: 1420 /  mtu: 100  /' "$C/hub.abc" >"$C/hub.mtu100"
printf 'policy:\n  - { prefix: 10.77.0.0/16, action: drop }\n' >>"$C/hub.mtu100"
sed 's/^  mtu: 1420 /  mtu: 1400 /' "$C/hub.abc" >"$C/hub.mtu1400"
MTU_LINE=$(grep -n "^  mtu: 100 " "$C/hub.mtu100" | cut -d: -f1)
MTU_COL=$(( $(sed -n "${MTU_LINE}p" "$C/hub.mtu100" | grep -bo 100 | head -1 | cut -d: -f1) + 1 ))
# spoke-a with a route to LAN C
sed 's|^\(    - 192.168.2.0/24.*\)$|\1\n    - 192.168.3.0/24|' "$C/spoke-a.yaml" >"$C/spoke-a.ac"
grep -q "192.168.3.0/24" "$C/spoke-a.ac" || fail "could not add LAN C to spoke-a's config"

# use NODE FILE: make FILE NODE's config, atomically (the daemon never sees half a file)
use() { cp "$C/$2" "$C/.$1.tmp" && mv "$C/.$1.tmp" "$C/$1.yaml"; }
hub_pid() { star_pid hub; }
# log_wait N TEXT: wait (5 s) until the hub log has at least N lines containing TEXT
log_wait() {
	wait_for 5 "hub.log line $1 with '$2'" sh -c "[ \$(grep -cF -- '$2' '$C/hub.log') -ge $1 ]"
}

e2e_start_all
star_start spoke-c
wait_socket spoke-c
wait_for 10 "spoke-c's first datagrams to reach the hub (unknown_peer)" \
	eval 'st hub >"$T/.w.json" && [ "$(jv .w drops.unknown_peer)" -gt 0 ]'
expect_eq "LAN C -> hub before the hub knows spoke-c (replies)" "$(ping_n "$NS_LC" 10.0.0.1 1 -W 1)" 0

echo "== traffic LAN A -> LAN B during every reload: paced TCP (sha256) and ping -i 0.01"
for n in hub spoke-a spoke-b; do snap "$n" "t0.$n"; done
bg nsx "$NS_LB" "$PKT" tcp-recv --listen 192.168.2.10:5001 --ready "$T/ready" --secs 90 >"$T/recv.out"
RECV=$BG_PID
wait_for 10 "the TCP receiver" test -e "$T/ready"
bg nsx "$NS_LA" "$PKT" tcp-send --to 192.168.2.10:5001 --bytes $((48 * 1000 * 1000)) --mbps 16 \
	--secs 90 >"$T/send.out"
SEND=$BG_PID
bg nsx "$NS_LA" ping -n -q -i 0.01 -c 2800 -W 1 -w 90 192.168.2.10 >"$T/ping.txt" 2>&1
PING=$BG_PID
sleep 1

echo "== 1. spoke-a learns LAN C: config + subnetra reload"
use spoke-a spoke-a.ac
out=$(sctl spoke-a reload) || fail "spoke-a reload: $out"
echo "  $out"
expect_eq "spoke-a reload reply" "$out" "reloaded $C/spoke-a.yaml, policy version 2"

echo "== 2. the hub learns spoke-c: config + SIGHUP"
NR=0
snap hub r0
use hub hub.abc
t_hup=$(date +%s.%N)
kill -HUP "$(hub_pid)"
ok=0
for _ in $(seq 40); do
	if nsx "$NS_LC" ping -n -q -c1 -W 0.2 10.0.0.1 >/dev/null 2>&1; then ok=1; break; fi
done
t_ok=$(date +%s.%N)
[ "$ok" = 1 ] || fail "LAN C never reached the hub after the SIGHUP"
dt=$(awk "BEGIN { printf \"%.2f\", $t_ok - $t_hup }")
expect_le "seconds from SIGHUP to LAN C's first answered ping to the hub" "$dt" 2
NR=$((NR + 1))
log_wait $NR "subnetrad: info: reload (SIGHUP) applied: $C/hub.yaml"
expect_eq "LAN C -> LAN A (of 3)" "$(ping_n "$NS_LC" 192.168.1.10 3 -i 0.1 -W 1)" 3
snap hub r1
expect_eq "hub peers after adding spoke-c" "$(jv r1 peer.2.id peer.3.id peer.4.id | tr '\n' ' ')" "2 3 4 "
expect_eq "hub reloads" "$(jv r1 node.reloads)" 1
expect_eq "policy version +1 by the reload" $(( $(jv r1 node.policy_version) - $(jv r0 node.policy_version) )) 1
expect_eq "hub route to LAN C" "$(ip -n "$NS_HUB" route show 192.168.3.0/24 | cut -d' ' -f1-3)" \
	"192.168.3.0/24 dev subnetra0"

echo "== 3. a config that fails its check is refused whole (overlay.mtu: 100, plus a new policy rule)"
snap hub b0
use hub hub.mtu100
kill -HUP "$(hub_pid)"
WANT="$C/hub.yaml:$MTU_LINE:$MTU_COL: overlay.mtu: 100 is out of range (expected 576..9000)"
log_wait 1 "subnetrad: error: reload (SIGHUP) refused, running state unchanged: $WANT"
echo "  hub.log: $(grep -F "$WANT" "$C/hub.log" | tail -1)"
rc=0
err=$(sctl hub reload 2>&1 >/dev/null) || rc=$?
echo "  subnetra reload -> exit $rc: $err"
expect_eq "subnetra reload with mtu: 100" "$rc: $err" "1: subnetra: $WANT"
echo "== 4. a changed overlay.mtu needs a restart"
use hub hub.mtu1400
rc=0
err=$(sctl hub reload 2>&1 >/dev/null) || rc=$?
echo "  subnetra reload -> exit $rc: $err"
WANT="$C/hub.yaml: overlay.mtu changed: restart subnetrad to apply that change"
expect_eq "subnetra reload with mtu: 1400" "$rc: $err" "1: subnetra: $WANT"
kill -HUP "$(hub_pid)"
log_wait 1 "subnetrad: error: reload (SIGHUP) refused, running state unchanged: $WANT"
echo "  hub.log: $(grep -F "$WANT" "$C/hub.log" | tail -1)"
use hub hub.abc
snap hub b1
for k in node.policy_version node.policy_rules node.runtime_rules node.reloads node.mtu \
	peer.4.id peer.4.rx_epoch; do
	expect_eq "hub $k after the refused reloads" "$(jv b1 "$k")" "$(jv b0 "$k")"
done
sctl hub --json policy list >"$T/rules.json" || fail "policy list"
grep -q '10\.77\.0\.0/16' "$T/rules.json" && fail "the refused config's policy rule is active"
echo "  ok  10.77.0.0/16 (only in the refused config) is not in the policy"
expect_eq "LAN C -> hub after the refused reloads (of 3)" "$(ping_n "$NS_LC" 10.0.0.1 3 -i 0.1 -W 1)" 3

echo "== 5. spoke-c is removed: config + SIGHUP"
use hub hub.ab
kill -HUP "$(hub_pid)"
NR=$((NR + 1))
log_wait $NR "subnetrad: info: reload (SIGHUP) applied: $C/hub.yaml"
snap hub c0
expect_eq "hub peer 4 after the removal" "$(jv c0 peer.4.id)" absent
expect_eq "hub route to LAN C after the removal" "$(ip -n "$NS_HUB" route show 192.168.3.0/24)" ""
N=5
expect_eq "LAN C -> hub after the removal (replies of $N)" "$(ping_n "$NS_LC" 10.0.0.1 $N -i 0.1 -W 0.3)" 0
snap hub c1
expect_eq "hub drops while spoke-c sent $N pings" "$(drops c0 c1)" "unknown_peer=+$N"
kill -0 "$PING" 2>/dev/null || fail "the LAN A -> LAN B ping ended before the reloads were done; make it longer"
kill -0 "$SEND" 2>/dev/null || fail "the TCP transfer ended before the reloads were done; make it longer"
echo "  (the transfer and the ping were still running after the last reload)"

echo "== the traffic during all of it"
wait "$PING" || true
wait "$SEND" || fail "the TCP sender failed: $(cat "$T/send.out")"
wait "$RECV" || fail "the TCP receiver failed"
echo "  ping: $(tail -2 "$T/ping.txt" | head -1)"
read -r tx rx < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$T/ping.txt")
expect_eq "pings lost LAN A -> LAN B" $((tx - rx)) 0
read -r sb sh _ <"$T/send.out"
read -r rb rh <"$T/recv.out"
echo "  sent     $sb bytes sha256 $sh"
echo "  received $rb bytes sha256 $rh"
expect_eq "TCP transfer (bytes sha256)" "$rb $rh" "$sb $sh"
for n in hub spoke-a spoke-b; do snap "$n" "t1.$n"; done
expect_eq "hub epoch" "$(jv t1.hub node.epoch)" "$(jv t0.hub node.epoch)"
for p in 2 3; do
	expect_eq "epoch the hub accepts from peer $p" "$(jv t1.hub peer.$p.rx_epoch)" "$(jv t0.hub peer.$p.rx_epoch)"
	expect_eq "epochs the hub accepted from peer $p" "$(jv t1.hub peer.$p.epochs_accepted)" 1
	expect_eq "hub drops of peer $p (but congestion's)" "$(faults t0.hub t1.hub $p)" none
done
for s in spoke-a spoke-b; do
	expect_eq "$s: the hub's epoch it accepts" "$(jv "t1.$s" peer.1.rx_epoch)" "$(jv t0.hub node.epoch)"
	expect_eq "$s: epochs accepted from the hub" "$(jv "t1.$s" peer.1.epochs_accepted)" 1
	expect_eq "$s: its own epoch" "$(jv "t1.$s" node.epoch)" "$(jv "t0.$s" node.epoch)"
	expect_eq "$s: drops (but congestion's: tun_queue, aqm)" "$(faults "t0.$s" "t1.$s")" none
done
d=$(faults t0.hub t1.hub)
case $d in unknown_peer=+[0-9]*) ;; *) fail "hub drops other than spoke-c's unknown_peer: $d" ;; esac
echo "  ok  hub drops over the whole run: $d (spoke-c while unknown)"

echo "== 6. spoke-c is added back: subnetra reload"
snap spoke-c e0
use hub hub.abc
out=$(sctl hub reload) || fail "hub reload: $out"
echo "  $out"
snap hub e1h
expect_eq "hub: spoke-c's endpoint right after it is back" "$(jv e1h peer.4.endpoint)" \
	"$(jv r1 peer.4.endpoint)"
got_a=$(ping_n "$NS_LA" 192.168.3.10 3 -i 0.1 -W 0.5)
got=$(ping_n "$NS_LC" 10.0.0.1 3 -i 0.1 -W 0.5)
snap spoke-c e1
snap hub e2h
echo "  LAN A -> LAN C: $got_a of 3 answered, then LAN C -> hub: $got of 3; the hub sent spoke-c" \
	"$(jv e2h peer.4.tx_packets) datagrams since it is back; spoke-c's drops meanwhile:" \
	"$(drops e0 e1); the hub's drops for it: $(drops e1h e2h 4)"
if [ "$(drops e0 e1)" != none ] || [ "$got" != 3 ] || [ "$got_a" != 3 ]; then
	fail "spoke-c rejects the hub's datagrams after it was added back ($(drops e0 e1)):" \
		"the hub restarted its sequence numbers for spoke-c at 0 in the same epoch with the" \
		"same key, reusing (key, nonce) pairs (docs/protocol.md, sections 5 and 9)"
fi
expect_eq "hub drops for spoke-c since it is back" "$(drops e1h e2h 4)" none
echo "  ok  LAN A reaches LAN C and LAN C the hub at once, spoke-c drops nothing"

pass "hot reload: spoke-c added (SIGHUP) and removed (SIGHUP) and added again (subnetra reload)," \
	"bad configs refused whole, spoke-a/b traffic untouched (no loss, no new epoch)"
