#!/usr/bin/env bash
# Hot reload re-keys a peer and applies plugin options:
#   1. spoke-b gets a new key pair: the hub's config names the new public key
#      (SIGHUP). Until spoke-b restarts with its new private key, its
#      datagrams fail authentication at the hub (auth_fail); afterwards LAN A
#      reaches LAN B again. spoke-a's tunnel never notices (same epochs, no
#      ping lost, no drop).
#   2. raw_direct's rcvbuf option changes on the hub (SIGHUP): applied at
#      once to the running socket (ss shows the new buffer), nothing else
#      changes; an os plugin option (linux txqueuelen) cannot be applied at
#      run time: the reload is refused whole with "restart subnetrad".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root

export STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=rk$$
. "$SN_SRC/scripts/lib/star.sh"
T=$(mktemp -d /tmp/sn-rekey.XXXXXX)
trap 'star_down; rm -rf "$T"' EXIT
star_up
star_conf "$T/conf"
C=$STAR_DIR
star_start hub
for _ in $(seq 50); do [ -S "$C/run/hub.sock" ] && break; sleep 0.1; done
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || fail "no traffic at start"

js() { star_ctl "$1" --json status; }
val() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
peer() { echo "[p for p in d['peers'] if p['id'] == $1][0]"; }
reload_hub() {
	local before; before=$(grep -c "reload" "$C/hub.log" || true)
	kill -HUP "$(star_pid hub)"
	for _ in $(seq 50); do
		[ "$(grep -c "reload" "$C/hub.log" || true)" -gt "$before" ] && return 0
		sleep 0.1
	done
	fail "the hub logged nothing after SIGHUP"
}

# background ping LAN A -> hub overlay address through spoke-a, all along
nsx "$NS_LA" ping -i 0.02 -c 600 -q 10.0.0.1 >"$T/ping_a.txt" 2>&1 &
PING=$!
s=$(js hub)
a_epoch=$(val "$(peer 2)['rx_epoch']" <<<"$s")
a_accepted=$(val "$(peer 2)['epochs_accepted']" <<<"$s")
hub_epoch=$(val "d['node']['epoch']" <<<"$s")

echo "== 1. re-key spoke-b"
(umask 077; "$STAR_BUILD/subnetra" genkey >"$T/spoke-b.new")
newpub=$("$STAR_BUILD/subnetra" pubkey <"$T/spoke-b.new")
oldpub=$(cat "$C/keys/spoke-b.pub")
sed -i "s|$oldpub|$newpub|" "$C/hub.yaml"
reload_hub
grep -q "reloaded" <(tail -1 "$C/hub.log") || { tail -3 "$C/hub.log"; fail "re-key reload refused"; }
before=$(js hub | val "d['drops']['auth_fail']")
if nsx "$NS_LA" ping -c 3 -W 1 -q 192.168.2.10 >/dev/null 2>&1; then
	fail "LAN B still reachable with spoke-b's old key"
fi
nsx "$NS_B" ping -c 3 -i 0.2 -W 1 -q 10.0.0.1 >/dev/null 2>&1 || true
after=$(js hub | val "d['drops']['auth_fail']")
echo "  hub auth_fail while spoke-b still has its old key: $before -> $after"
[ "$after" -gt "$before" ] || fail "old-key datagrams not counted auth_fail"
star_stop spoke-b
cp "$T/spoke-b.new" "$C/keys/spoke-b.key"
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 20 || fail "LAN B unreachable after spoke-b restarted with its new key"
echo "  LAN A -> LAN B works again with spoke-b's new key"

echo "== 2. plugin options"
rb() { nsx "$NS_HUB" ss -uamn "sport = :51820" | grep -o 'rb[0-9]*' | head -1; }
rb_before=$(rb)
sed -i '/^plugins:/a\  options:\n    raw_direct: { rcvbuf: 1048576 }' "$C/hub.yaml"
reload_hub
grep -q "reloaded" <(tail -1 "$C/hub.log") || { tail -3 "$C/hub.log"; fail "rcvbuf reload refused"; }
rb_after=$(rb)
echo "  hub socket receive buffer: $rb_before -> $rb_after"
[ "$rb_after" = rb2097152 ] || fail "rcvbuf 1 MiB not applied (kernel doubles it: want rb2097152)"
sed -i 's|^    raw_direct: { rcvbuf: 1048576 }|    raw_direct: { rcvbuf: 1048576 }\n    linux: { txqueuelen: 200 }|' "$C/hub.yaml"
if out=$(star_ctl hub reload 2>&1); then fail "an os plugin option change was accepted: $out"; fi
echo "  $out"
grep -q "plugins.options.linux changed, and plugin 'linux' cannot apply options at run time: restart subnetrad to apply them" <<<"$out" ||
	fail "unexpected refusal: $out"
[ "$(rb)" = "$rb_after" ] || fail "a refused reload changed the socket"

wait $PING || true
lost=$(grep -o '[0-9]* received' "$T/ping_a.txt" | cut -d' ' -f1)
echo "  LAN A -> hub pings during all of it: $lost of 600 answered"
[ "$lost" = 600 ] || fail "spoke-a's tunnel lost pings during the reloads"
s=$(js hub)
[ "$(val "$(peer 2)['rx_epoch']" <<<"$s")" = "$a_epoch" ] || fail "spoke-a's epoch changed"
[ "$(val "$(peer 2)['epochs_accepted']" <<<"$s")" = "$a_accepted" ] || fail "spoke-a started over"
[ "$(val "d['node']['epoch']" <<<"$s")" = "$hub_epoch" ] || fail "the hub's epoch changed"
# the only drops charged to spoke-a: its LAN's pings to LAN B while the
# re-keyed spoke-b had no session yet (no endpoint known for the new key)
other=$(val "{k: v for k, v in $(peer 2)['drops'].items() if v and k != 'no_endpoint'}" <<<"$s")
echo "  drops charged to spoke-a: no_endpoint $(val "$(peer 2)['drops']['no_endpoint']" <<<"$s"), others $other"
[ "$other" = "{}" ] || fail "unexpected drops for spoke-a: $other"
[ "$(val "$(peer 2)['drops']['no_endpoint']" <<<"$s")" -ge 3 ] || fail "the limbo pings were not counted no_endpoint"
pass "re-key and plugin options applied by reload; spoke-a's tunnel untouched"
