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
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin rekey_reload

C=$STAR_DIR
e2e_start_all

reload_hub() {
	local before; before=$(grep -c "reload (SIGHUP)" "$C/hub.log" || true)
	kill -HUP "$(star_pid hub)"
	for _ in $(seq 50); do
		[ "$(grep -c "reload (SIGHUP)" "$C/hub.log" || true)" -gt "$before" ] && return 0
		sleep 0.1
	done
	fail "the hub logged nothing after SIGHUP"
}

# background ping LAN A -> hub overlay address through spoke-a, all along
bg nsx "$NS_LA" ping -i 0.02 -c 600 -q 10.0.0.1 >"$T/ping_a.txt" 2>&1
PING=$BG_PID
snap hub s0

echo "== 1. re-key spoke-b"
(umask 077; "$SUBNETRA" genkey >"$T/spoke-b.new")
newpub=$("$SUBNETRA" pubkey <"$T/spoke-b.new")
oldpub=$(cat "$C/keys/spoke-b.pub")
sed -i "s|$oldpub|$newpub|" "$C/hub.yaml"
reload_hub
grep "reload (SIGHUP)" "$C/hub.log" | tail -1 | grep -q "applied" || { tail -3 "$C/hub.log"; fail "re-key reload refused"; }
snap hub k0
if nsx "$NS_LA" ping -c 3 -W 1 -q 192.168.2.10 >/dev/null 2>&1; then
	fail "LAN B still reachable with spoke-b's old key"
fi
nsx "$NS_B" ping -c 3 -i 0.2 -W 1 -q 10.0.0.1 >/dev/null 2>&1 || true
snap hub k1
# re-keyed, spoke-b is a new identity the hub has not verified: its
# datagrams are dropped as unverified, and since their tags do not verify
# under the new key none of them earns a challenge
expect_eq "hub: spoke-b's state after the re-key" "$(jv k1 peer.3.state)" unverified
expect_ge "hub: unverified while spoke-b still has its old key" \
	$(($(jv k1 drops.unverified) - $(jv k0 drops.unverified))) 1
expect_eq "hub: challenges to spoke-b's old-key datagrams" \
	$(($(jv k1 peer.3.challenge_tx) - $(jv k0 peer.3.challenge_tx))) 0
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
grep "reload (SIGHUP)" "$C/hub.log" | tail -1 | grep -q "applied" || { tail -3 "$C/hub.log"; fail "rcvbuf reload refused"; }
rb_after=$(rb)
echo "  hub socket receive buffer: $rb_before -> $rb_after"
expect_eq "hub socket receive buffer (rcvbuf 1 MiB; the kernel doubles it)" "$rb_after" rb2097152
sed -i 's|^    raw_direct: { rcvbuf: 1048576 }|    raw_direct: { rcvbuf: 1048576 }\n    linux: { txqueuelen: 200 }|' "$C/hub.yaml"
if out=$(sctl hub reload 2>&1); then fail "an os plugin option change was accepted: $out"; fi
echo "  $out"
grep -qF "plugins.options.linux changed, and plugin 'linux' cannot apply options at run time: restart subnetrad to apply them" <<<"$out" ||
	fail "unexpected refusal: $out"
expect_eq "hub socket receive buffer after the refused reload" "$(rb)" "$rb_after"

wait "$PING" || true
expect_eq "LAN A -> hub pings answered during all of it (of 600)" \
	"$(grep -o '[0-9]* received' "$T/ping_a.txt" | cut -d' ' -f1)" 600
snap hub s1
expect_eq "hub: spoke-a's accepted epoch" "$(jv s1 peer.2.rx_epoch)" "$(jv s0 peer.2.rx_epoch)"
expect_eq "hub: epochs accepted from spoke-a (did not start over)" "$(jv s1 peer.2.epochs_accepted)" \
	"$(jv s0 peer.2.epochs_accepted)"
expect_eq "hub: its own epoch" "$(jv s1 node.epoch)" "$(jv s0 node.epoch)"
# the only drops charged to spoke-a: its LAN's pings to LAN B while the
# re-keyed spoke-b was not verified yet (its new identity unanswered)
d=$(nonzero_drops s1 2)
echo "  drops charged to spoke-a: $d"
[[ $d =~ ^unverified=([0-9]+)$ ]] || fail "drops charged to spoke-a other than unverified: $d"
expect_ge "hub: spoke-a's unverified (the limbo pings)" "${BASH_REMATCH[1]}" 3
pass "re-key and plugin options applied by reload; spoke-a's tunnel untouched"
