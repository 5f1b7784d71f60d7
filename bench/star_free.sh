# shellcheck shell=bash
# bench/star_free.sh — sourced by bench/run.sh and bench/impaired.sh (needs their log()).
# wait_star_free: up to 10 minutes for someone else's star (the harness's sn-hub, sn-s2,
# sn-s3 namespaces) to go away; non-zero if it stays.
wait_star_free() {
  local i
  for i in $(seq 120); do
    ip netns list | grep -qE '^sn-(hub|s2|s3)( |$)' || return 0
    [ "$i" = 1 ] && log "the harness's namespaces exist (another run?): waiting"
    sleep 5
  done
  return 1
}
