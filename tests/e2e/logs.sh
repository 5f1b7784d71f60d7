#!/usr/bin/env bash
# The log (docs/control.md, "Log lines"): the hub runs with JOURNAL_STREAM
# set to the device and inode of its real stderr (its log file), so it
# takes stderr for the journal and starts every line with its syslog
# priority; the spokes, without it, write plain "subnetrad: level: text".
# Keepalive 1 s everywhere. From the hub's log, each with its priority:
#   - both spokes verified, where and after how long [<6>]
#   - a reload by SIGHUP [<6> applied] and one by `subnetra reload` from a
#     client running as uid 65534 in the control group, with that uid [<6>]
#     (SO_PEERCRED), and a refused one [<3>]
#   - a policy add and del through the control socket, uid 0 [<6>]
#   - spoke A roaming to a new port: an authentic keepalive of spoke A from
#     port 40001 (sn-inject, seq above any it used) moves the hub's
#     endpoint [<6> new endpoint old -> new]
#   - spoke A restarted: its new epoch [<6> new epoch old -> new]
#   - spoke B stopped (SIGSTOP) for three keepalive intervals [<4> silent]
#     and continued (SIGCONT) [<6> back]
#   - a burst of forged datagrams from an attacker's address (flipped
#     bytes: auth_fail, unknown key_ids, short and bad-version datagrams):
#     one summary of 4 lines, the three biggest (reason, source) pairs
#     with their exact counts and the rest [<4>]
# and no line of the hub's log without a priority prefix.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin logs

HUBLOG=$STAR_DIR/hub.log
for n in hub spoke-a spoke-b; do set_conf "$n" keepalive 1; done
# the control group: root's group, so a client running as uid 65534 with
# gid 0 may talk to the hub (and its uid shows in the log)
sed -i 's|^  # group: subnetra .*|  group: root|' "$STAR_DIR/hub.yaml"
grep -q '^  group: root' "$STAR_DIR/hub.yaml" || fail "cannot set control.group"
chmod 0710 "$T"

: >"$HUBLOG"
JS=$(stat -c '%d:%i' "$HUBLOG")
echo "== the hub's stderr is $HUBLOG, JOURNAL_STREAM=$JS"
STAR_WRAP="env JOURNAL_STREAM=$JS" star_start hub
wait_socket hub
star_start spoke-a
star_start spoke-b
e2e_wait_all

# log_has PRIO TEXT: a line of the hub's log is "<PRIO>" followed by text
# that contains TEXT (a fixed string); waits up to 15 s; prints the line
log_has() {
	local prio=$1 text=$2 line _
	for _ in $(seq 150); do
		line=$(grep -F -- "$text" "$HUBLOG" | grep -m1 "^<$prio>" || true)
		[ -n "$line" ] && { echo "  ok  $line"; return 0; }
		sleep 0.1
	done
	echo "hub.log:" >&2
	cat "$HUBLOG" >&2
	fail "no line '<$prio>...$text...' in the hub's log"
}
# lines of the hub's log containing TEXT
count() { grep -cF -- "$1" "$HUBLOG" || true; }

echo "== verified"
log_has 6 "peer spoke-a (2) verified at 172.31.2.2:"
log_has 6 "peer spoke-b (3) verified at 172.31.3.2:"
wait_for 5 "spoke A's plain line for the hub's verification" grep -q \
	"^subnetrad: info: peer hub (1) verified at 172.31.2.1:51820, epoch $(epoch_of hub)" \
	"$STAR_DIR/spoke-a.log"
echo "  ok  spoke A (no JOURNAL_STREAM): $(grep -m1 'peer hub (1) verified' "$STAR_DIR/spoke-a.log")"

echo "== reloads"
kill -HUP "$(star_pid hub)"
# the tool as uid 65534 runs from a directory that uid can enter (a clone
# may sit in a 0700 directory, e.g. one made by mktemp -d)
TOOLDIR=$(mktemp -d /var/lib/sn-e2e-logs.XXXXXX)
e2e_defer rm -rf "$TOOLDIR"
chmod 755 "$TOOLDIR"
install -m 755 "$SUBNETRA" "$TOOLDIR/subnetra"
log_has 6 "reload (SIGHUP) applied: $STAR_DIR/hub.yaml, policy version 2, 2 peer(s)"
out=$(setpriv --reuid=65534 --regid=0 --clear-groups timeout 15 "$TOOLDIR/subnetra" -s "$STAR_DIR/run/hub.sock" \
	reload 2>&1) || fail "subnetra reload as uid 65534: $out"
echo "  subnetra reload (uid 65534): $out"
log_has 6 "reload (control socket, uid 65534) applied: $STAR_DIR/hub.yaml, policy version 3"
sed -i 's|^  mtu: 1420 |  mtu: 1400 |' "$STAR_DIR/hub.yaml"
rc=0
sctl hub reload >/dev/null 2>&1 || rc=$?
expect_eq "subnetra reload of a changed MTU exits" "$rc" 1
log_has 3 "reload (control socket, uid 0) refused, running state unchanged: $STAR_DIR/hub.yaml: overlay.mtu changed: restart subnetrad to apply that change"
sed -i 's|^  mtu: 1400 |  mtu: 1420 |' "$STAR_DIR/hub.yaml"

echo "== policy changes"
sctl hub policy add 10.9.0.0/24 forward spoke-a >/dev/null || fail "policy add"
log_has 6 "policy (control socket, uid 0): add 10.9.0.0/24 forward spoke-a (2); now version 4,"
sctl hub policy del 10.9.0.0/24 >/dev/null || fail "policy del"
log_has 6 "policy (control socket, uid 0): del 10.9.0.0/24 forward spoke-a (2); now version 5,"

echo "== spoke A roams to port 40001"
snap hub r0
OLD=$(jv r0 peer.2.endpoint)
EA=$(epoch_of spoke-a)
inject "$NS_A" --to 172.31.2.1:51820 --key "$STAR_DIR/keys/spoke-a.key" --peer-pub "$(pubkey_of hub)" \
	--id 2 --peer-id 1 --epoch "$EA" --seq 1000000000 --keepalive --from-port 40001
log_has 6 "peer spoke-a (2) has a new endpoint: $OLD -> 172.31.2.2:40001"

echo "== spoke A restarts (a new epoch)"
star_stop spoke-a
star_start spoke-a
wait_for 15 "spoke A to verify the hub again" peer_up spoke-a 1
EA2=$(epoch_of spoke-a)
[ "$EA2" != "$EA" ] || fail "spoke A kept its epoch $EA"
log_has 6 "peer spoke-a (2) has a new epoch: $EA -> $EA2 (it restarted)"
log_has 6 "peer spoke-a (2) has a new endpoint: 172.31.2.2:40001 -> 172.31.2.2:"

echo "== spoke B silent for 3 keepalive intervals, then back"
PB=$(star_pid spoke-b)
e2e_defer kill -CONT "$PB"
kill -STOP "$PB"
log_has 4 "peer spoke-b (3) is silent: nothing from it for "
line=$(grep -F "peer spoke-b (3) is silent: " "$HUBLOG" | tail -1)
[[ $line =~ nothing\ from\ it\ for\ [34]\ s\ \(3\ keepalive\ intervals\ of\ 1\ s\)$ ]] ||
	fail "the silent line: '$line' (3 s, or 4 by the once-a-second look)"
sleep 2
kill -CONT "$PB"
log_has 6 "peer spoke-b (3) is back after "
line=$(grep -F "peer spoke-b (3) is back after " "$HUBLOG" | tail -1)
gap=$(sed 's/.*back after \([0-9]*\) s.*/\1/' <<<"$line")
expect_range "seconds spoke B was silent, as the hub tells it" "$gap" 4 9

echo "== a burst of forged datagrams from an attacker's address"
e2e_attacker
HUB=172.31.4.1:51820
forge() { inject "$NS_X" --to "$HUB" --key "$STAR_DIR/keys/spoke-b.key" --peer-pub "$(pubkey_of hub)" \
	--id 3 --peer-id 1 --epoch "$(epoch_of spoke-b)" "$@"; }
# one short datagram first, then wait for the summary that names it: the
# burst then falls into one 10-second window
udp_send "$NS_X" "$HUB" ""
log_has 4 "dropped: 1 short from 172.31.4.2 in the last 10 s"
n0=$(count "dropped:")
V=$(forge --hex --seq 5000000)
forge --seq 4000000 --flip 30 --count 400    # auth_fail
forge --seq 4000000 --raw-key-id 99 --count 200 # unknown_peer
udp_send "$NS_X" "$HUB" --count 100 ""        # short
udp_send "$NS_X" "$HUB" --count 50 "$(setb "$V" 0 02)" # bad_version
log_has 4 "dropped: 400 auth_fail from 172.31.4.2 in the last 10 s"
sleep 0.5
grep -F "dropped:" "$HUBLOG" | tail -n +$((n0 + 1)) >"$T/summary"
cat "$T/summary"
expect_eq "summary lines of that window" "$(sed -n 1,3p "$T/summary" | sed 's/^<4>dropped: //')" \
"400 auth_fail from 172.31.4.2 in the last 10 s
200 unknown_peer from 172.31.4.2 in the last 10 s
100 short from 172.31.4.2 in the last 10 s"
rest=$(sed -n 4p "$T/summary")
[[ $rest =~ ^\<4\>dropped:\ ([0-9]+)\ other\ drops\ in\ the\ last\ 10\ s$ ]] ||
	fail "the fourth line is not the rest: '$rest'"
expect_ge "other drops (50 bad_version, and the spokes' own)" "${BASH_REMATCH[1]}" 50
expect_eq "summary lines in that window" "$(wc -l <"$T/summary")" 4

echo "== every line of the hub's log has a priority"
bad=$(grep -cv '^<[3467]>' "$HUBLOG" || true)
expect_eq "hub log lines without <3>, <4>, <6> or <7>" "$bad" 0
for p in 3 4 6; do echo "  <$p> lines: $(grep -c "^<$p>" "$HUBLOG")"; done

pass "hub log with priorities: verified, SIGHUP and socket reloads (uid 65534, refused), policy add/del, roaming to :40001, restart epoch $EA -> $EA2, silent and back after $gap s, one 4-line drop summary of a 751-datagram burst"
