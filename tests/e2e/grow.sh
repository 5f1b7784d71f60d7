#!/usr/bin/env bash
# Growing a network with the tool (docs/onboarding.md), against a live hub:
#   1. `subnetra init hub` writes hub.yaml, hub.key (0600) and an empty
#      peers.d/ in a fresh directory; an operator's comment is added to
#      hub.yaml, whose bytes are kept to compare at the end;
#   2. the hub starts with no spoke at all;
#   3. `subnetra add-spoke` adds spoke-a (LAN 192.168.1.0/24) and spoke-b
#      (LAN 192.168.2.0/24, its own hub endpoint): ids 2 and 3, addresses
#      10.0.0.2 and 10.0.0.3, and the running hub reloads each time; a
#      second spoke-a and a LAN inside spoke-a's are refused, naming why;
#   4. each spoke's generated file and key are copied to a "branch"
#      directory of its own, pass `subnetrad --check` there, and run in
#      the spoke's namespace; all verify each other;
#   5. pings: spoke A -> hub and -> spoke B over the overlay, LAN A <-> LAN B
#      through the hub (the spokes reach each other's LANs by the hub's
#      spoke route 192.168.0.0/16, known to spoke-a before spoke-b existed);
#   6. `subnetra remove-spoke spoke-b`: its files go, the hub reloads and
#      no longer lists it, LAN A no longer reaches LAN B, and spoke A still
#      reaches the hub; adding a spoke while the hub is stopped says so;
#   7. hub.yaml is byte for byte what it was before the first add-spoke.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin grow

# The hub's directory is the star's: the daemon logs land where the
# cleanup prints them from, and sctl/wait_socket/peer_up work on "hub".
STAR_DIR=$T/etc
H=$STAR_DIR
grow() { timeout 30 "$SUBNETRA" "$@"; }

# ---- 1. init hub -----------------------------------------------------------
grow init hub --dir "$H" --endpoint 172.31.2.1:51820 --spoke-route 192.168.0.0/16 \
	--state-dir "$H/state/hub" --socket "$H/run/hub.sock" >"$T/init.out" ||
	fail "init hub failed: $(cat "$T/init.out")"
cat "$T/init.out"
expect_eq "hub.key mode" "$(stat -c %a "$H/hub.key")" 600
expect_eq "hub.yaml mode" "$(stat -c %a "$H/hub.yaml")" 600
expect_eq "config dir mode" "$(stat -c %a "$H")" 700
expect_eq "peers.d is empty" "$(ls -A "$H/peers.d" | wc -l)" 0
grep -qx 'peers_dir: peers.d' "$H/hub.yaml" || fail "hub.yaml names no peers_dir"
if grow init hub --dir "$H" --endpoint 172.31.2.1:51820 2>"$T/again.err"; then
	fail "a second init hub overwrote the hub's files"
fi
grep -q "hub.yaml exists; nothing was written" "$T/again.err" || fail "second init: $(cat "$T/again.err")"
echo "  ok  a second init hub is refused: $(cat "$T/again.err")"
printf '\n# operator: the hub in rack 4, keep this note\n' >>"$H/hub.yaml"
cp -p "$H/hub.yaml" "$T/hub.yaml.orig"

# ---- 2. the hub, with no spoke -----------------------------------------------
star_start hub
wait_socket hub
snap hub empty
expect_eq "peers of the new hub" "$(jv empty peer.2.state)" absent

# ---- 3. add-spoke against the running hub ------------------------------------
add() {
	local name=$1; shift
	grow add-spoke "$name" --dir "$H" --state-dir "$T/branch-$name/state" \
		--socket "$T/branch-$name/run.sock" "$@" >"$T/add-$name.out" 2>&1 ||
		fail "add-spoke $name failed: $(cat "$T/add-$name.out")"
	cat "$T/add-$name.out"
	grep -q "^reloading the hub ($H/run/hub.sock): reloaded $H/hub.yaml" "$T/add-$name.out" ||
		fail "add-spoke $name did not reload the running hub"
}
add spoke-a --lan 192.168.1.0/24
add spoke-b --lan 192.168.2.0/24 --endpoint 172.31.3.1:51820
cmp -s "$H/hub.yaml" "$T/hub.yaml.orig" || fail "add-spoke changed hub.yaml"
echo "  ok  hub.yaml unchanged after two add-spoke"
snap hub added
expect_eq "peer 2 at the hub" "$(jv added peer.2.name)" spoke-a
expect_eq "peer 3 at the hub" "$(jv added peer.3.name)" spoke-b
grep -q "id 2, overlay address 10.0.0.2" "$T/add-spoke-a.out" || fail "spoke-a is not id 2, 10.0.0.2"
grep -q "id 3, overlay address 10.0.0.3" "$T/add-spoke-b.out" || fail "spoke-b is not id 3, 10.0.0.3"
for f in "$H/peers.d/spoke-a.yaml" "$H/spokes/spoke-a.yaml" "$H/spokes/spoke-a.key"; do
	expect_eq "mode of ${f#"$T"/}" "$(stat -c %a "$f")" 600
done
if grow add-spoke spoke-a --dir "$H" 2>"$T/dup.err"; then fail "a second spoke-a was added"; fi
grep -q "there is a spoke called spoke-a already (id 2, $H/peers.d/spoke-a.yaml)" "$T/dup.err" ||
	fail "duplicate: $(cat "$T/dup.err")"
if grow add-spoke spoke-c --lan 192.168.1.128/25 --dir "$H" 2>"$T/lan.err"; then
	fail "a LAN inside spoke-a's was accepted"
fi
grep -q "overlaps 192.168.1.0/24, a LAN of spoke spoke-a" "$T/lan.err" || fail "overlap: $(cat "$T/lan.err")"
echo "  ok  refused: $(cat "$T/dup.err")"
echo "  ok  refused: $(cat "$T/lan.err")"
expect_eq "files after the refusals" "$(ls "$H/peers.d" "$H/spokes" | tr '\n' ' ')" \
	"$H/peers.d: spoke-a.yaml spoke-b.yaml  $H/spokes: spoke-a.key spoke-a.yaml spoke-b.key spoke-b.yaml "

# ---- 4. the spokes, each from its copied file ----------------------------------
# branch NAME NS: copy NAME's two files as an operator would, check, start.
branch() {
	local name=$1 ns=$2 b=$T/branch-$1
	mkdir -p "$b" && chmod 755 "$b"
	cp -p "$H/spokes/$name.yaml" "$H/spokes/$name.key" "$b/"
	"$SUBNETRAD" -c "$b/$name.yaml" --check --plugin-dir "$PLUGINS" >"$T/check-$name.out" 2>&1 ||
		fail "the copied $name.yaml fails --check: $(cat "$T/check-$name.out")"
	echo "  ok  $name.yaml passes --check: $(head -1 "$T/check-$name.out")"
	ip netns exec "$ns" "$SUBNETRAD" -c "$b/$name.yaml" --plugin-dir "$PLUGINS" \
		>"$STAR_DIR/$name.log" 2>&1 </dev/null &
	STAR_PIDS+=($!)
}
spoke_up() {
	timeout 15 "$SUBNETRA" -c "$T/branch-$1/$1.yaml" --json status >"$T/.s.json" 2>/dev/null &&
		[ "$(jv .s peer.1.state)" = verified ]
}
branch spoke-a "$NS_A"
branch spoke-b "$NS_B"
wait_for 15 "the hub to verify spoke-a" peer_up hub 2
wait_for 15 "the hub to verify spoke-b" peer_up hub 3
wait_for 15 "spoke-a to verify the hub" spoke_up spoke-a
wait_for 15 "spoke-b to verify the hub" spoke_up spoke-b

# ---- 5. traffic ---------------------------------------------------------------
star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"
expect_eq "pings spoke A -> hub 10.0.0.1" "$(ping_n "$NS_A" 10.0.0.1 5)" 5
expect_eq "pings spoke A -> spoke B 10.0.0.3" "$(ping_n "$NS_A" 10.0.0.3 5)" 5
expect_eq "pings LAN A -> LAN B" "$(ping_n "$NS_LA" 192.168.2.10 5)" 5
expect_eq "pings LAN B -> LAN A" "$(ping_n "$NS_LB" 192.168.1.10 5)" 5

# ---- 6. remove-spoke -----------------------------------------------------------
grow remove-spoke spoke-b --dir "$H" >"$T/rm.out" 2>&1 || fail "remove-spoke failed: $(cat "$T/rm.out")"
cat "$T/rm.out"
grep -q "^reloading the hub ($H/run/hub.sock): reloaded $H/hub.yaml" "$T/rm.out" ||
	fail "remove-spoke did not reload the running hub"
snap hub removed
expect_eq "spoke-b at the hub after remove-spoke" "$(jv removed peer.3.state)" absent
expect_eq "spoke-a at the hub after remove-spoke" "$(jv removed peer.2.state)" verified
expect_eq "files after remove-spoke" "$(ls "$H/peers.d" "$H/spokes" | tr '\n' ' ')" \
	"$H/peers.d: spoke-a.yaml  $H/spokes: spoke-a.key spoke-a.yaml "
expect_eq "pings LAN A -> LAN B after remove-spoke" "$(ping_n "$NS_LA" 192.168.2.10 3)" 0
expect_eq "pings spoke A -> hub after remove-spoke" "$(ping_n "$NS_A" 10.0.0.1 5)" 5
cmp -s "$H/hub.yaml" "$T/hub.yaml.orig" || fail "remove-spoke changed hub.yaml"
echo "  ok  hub.yaml unchanged after remove-spoke"

# a stopped hub: the spoke is written, the tool says the hub reads it at start
star_stop hub
grow add-spoke spoke-c --lan 192.168.3.0/24 --dir "$H" >"$T/add-c.out" 2>&1 ||
	fail "add-spoke with the hub stopped: $(cat "$T/add-c.out")"
grep -q "the hub is not running (nothing answers on $H/run/hub.sock); it reads $H/peers.d when it starts" \
	"$T/add-c.out" || fail "add-spoke did not say the hub is stopped: $(cat "$T/add-c.out")"
grep -q "id 2, overlay address 10.0.0.2" "$T/add-c.out" && fail "spoke-c took spoke-a's id"
grep -q "id 3, overlay address 10.0.0.3" "$T/add-c.out" || fail "spoke-c did not get spoke-b's freed id and address"
echo "  ok  $(head -1 "$T/add-c.out") (spoke-b's id and address again)"
out=$("$SUBNETRAD" -c "$H/hub.yaml" --check --plugin-dir "$PLUGINS") || fail "--check of the hub: $out"
grep -q "peer      spoke-c (id 3)" <<<"$out" || fail "the hub config does not list spoke-c: $out"

# ---- 7. the operator's file -------------------------------------------------------
cmp "$H/hub.yaml" "$T/hub.yaml.orig" || fail "hub.yaml changed"
pass "init hub, two add-spoke to a live hub (ids 2, 3 and reloads), spokes from their copied files verified, overlay and LAN-to-LAN pings through the hub, remove-spoke dropped spoke-b (status, LAN B unreachable, spoke-a still up), hub.yaml byte-identical ($(wc -c <"$H/hub.yaml") bytes)"
