#!/usr/bin/env bash
# The hub under valgrind: traffic through it, control requests, a policy
# change and a reload, then SIGTERM. It must exit 0 with no valgrind errors,
# no leaked blocks and uv_loop_close() succeeding (STYLE rule 20).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
command -v valgrind >/dev/null || skip "valgrind not installed"

export STAR_SRC=$SN_SRC STAR_BUILD=$SN_BUILD STAR_ID=vg$$
. "$SN_SRC/scripts/lib/star.sh"
T=$(mktemp -d /tmp/sn-valgrind.XXXXXX)
trap 'star_down; rm -rf "$T"' EXIT
star_up
star_conf "$T/conf"

STAR_WRAP="valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99 --log-file=$T/vg.log" \
	star_start hub
for _ in $(seq 300); do [ -S "$STAR_DIR/run/hub.sock" ] && break; sleep 0.1; done
[ -S "$STAR_DIR/run/hub.sock" ] || { cat "$STAR_DIR/hub.log"; fail "hub under valgrind did not start"; }
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 30 || fail "no traffic through the hub under valgrind"
nsx "$NS_LA" ping -c 200 -i 0.005 -q 192.168.2.10 >/dev/null || fail "ping through the hub"
star_ctl hub status >/dev/null
star_ctl hub --json status >/dev/null
star_ctl hub metrics >/dev/null
star_ctl hub policy add 10.99.0.0/16 drop >/dev/null
star_ctl hub policy del 10.99.0.0/16 >/dev/null
kill -HUP "$(star_pid hub)"
sleep 1
star_ctl hub reload >/dev/null
nsx "$NS_LA" ping -c 20 -i 0.01 -q 192.168.2.10 >/dev/null || fail "ping after reload"

star_stop hub && rc=0 || rc=$?
echo "hub exit status $rc"
cat "$T/vg.log"
[ "$rc" = 0 ] || fail "hub exited $rc under valgrind (99 = valgrind found errors)"
[ ! -s "$T/vg.log" ] || fail "valgrind reported something"
if grep -q "did not close cleanly" "$STAR_DIR/hub.log"; then fail "uv_loop_close() failed"; fi
pass "hub shut down cleanly under valgrind: no errors, nothing leaked"
