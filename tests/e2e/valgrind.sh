#!/usr/bin/env bash
# The hub under valgrind: traffic through it, control requests, a policy
# change and a reload, then SIGTERM. It must exit 0 with no valgrind errors,
# no leaked blocks and uv_loop_close() succeeding (STYLE rule 20). The hub
# runs the default crypto plugin (crypto_openssl where it is built);
# valgrind.supp lists what glibc keeps for a library that cannot unload.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
e2e_begin valgrind

STAR_WRAP="valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99 --suppressions=$E2E_DIR/valgrind.supp --log-file=$T/vg.log" \
	star_start hub
wait_socket hub 30
star_start spoke-a
star_start spoke-b
star_wait_ping "$NS_LA" 192.168.2.10 30 || fail "no traffic through the hub under valgrind"
nsx "$NS_LA" ping -c 200 -i 0.005 -q 192.168.2.10 >/dev/null || fail "ping through the hub"
sctl hub status >/dev/null
sctl hub --json status >/dev/null
sctl hub metrics >/dev/null
sctl hub policy add 10.99.0.0/16 drop >/dev/null
sctl hub policy del 10.99.0.0/16 >/dev/null
kill -HUP "$(star_pid hub)"
sleep 1
sctl hub reload >/dev/null
nsx "$NS_LA" ping -c 20 -i 0.01 -q 192.168.2.10 >/dev/null || fail "ping after reload"

rc=0
star_stop hub || rc=$?
cat "$T/vg.log"
expect_eq "hub exit status under valgrind (99: valgrind found errors)" "$rc" 0
expect_eq "valgrind's report" "$(cat "$T/vg.log")" ""
if grep -q "did not close cleanly" "$STAR_DIR/hub.log"; then fail "uv_loop_close() failed"; fi
pass "hub shut down cleanly under valgrind: no errors, nothing leaked"
