#!/usr/bin/env bash
# Metrics over HTTP (docs/control.md, "Metrics over HTTP"): the hub runs
# with metrics: { listen: "127.0.0.1:9586" }.
#   - GET /metrics gives exactly the families and samples `subnetra
#     metrics` gives (the strict exposition parser of pkt.py passes both),
#     with subnetra_peer_up 1 for both spokes and a last-receive age for
#     each; HTTP/1.0 works, another path is 404, POST 405, HTTP/2.0 505
#   - a TCP transfer LAN A -> LAN B through the hub (iperf3, 4 s) runs as
#     fast while the hub is scraped 10 times a second as without (two
#     rounds each way, at least 75% of the throughput: noise on a shared
#     machine), and every scrape during it parses
#   - abuse, each beside a scraper that is served every time and a ping
#     through the hub that loses nothing: 12 idle connections from one
#     address (4 held until they time out with 408, the rest refused at
#     once with 503), two 1 MiB request heads (431), four slowloris
#     clients sending a byte every 0.5 s (408 after 5 s)
#   - a reload that changes metrics.listen is refused (a restart applies
#     it) and the metrics stay where they were
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin metrics_http
command -v iperf3 >/dev/null || skip "iperf3 missing (scripts/deps.sh installs it)"

printf '\nmetrics:\n  listen: "127.0.0.1:9586"\n' >>"$STAR_DIR/hub.yaml"
e2e_start_all
M=127.0.0.1:9586
hx() { nsx "$NS_HUB" timeout 90 "$PKT" "$1" --to "$M" "${@:2}"; }

echo "== one scrape: what subnetra metrics prints"
out=$(hx scrape --out "$T/http.prom") || fail "the scrape failed: $out"
echo "  $out"
sctl hub metrics >"$T/ctl.prom" || fail "subnetra metrics"
"$PKT" metrics "$T/ctl.prom" >/dev/null || fail "subnetra metrics does not parse"
samples() { grep -v '^#' "$1" | sed 's/ [^ ]*$//'; }
expect_eq "samples (names and labels) over HTTP and from subnetra metrics" \
	"$(samples "$T/http.prom" | md5sum)" "$(samples "$T/ctl.prom" | md5sum)"
expect_eq "HELP and TYPE lines over HTTP and from subnetra metrics" \
	"$(grep '^#' "$T/http.prom" | md5sum)" "$(grep '^#' "$T/ctl.prom" | md5sum)"
echo "  $(samples "$T/http.prom" | wc -l) samples, $(grep -c '^# TYPE' "$T/http.prom") families"
for p in 'peer="spoke-a",id="2"' 'peer="spoke-b",id="3"'; do
	expect_eq "subnetra_peer_up{$p}" "$("$PKT" metrics "$T/http.prom" "subnetra_peer_up{$p}")" 1
	expect_range "subnetra_peer_last_rx_age_seconds{$p}" \
		"$("$PKT" metrics "$T/http.prom" "subnetra_peer_last_rx_age_seconds{$p}")" 0 30
done

echo "== other requests"
expect_eq "GET /metrics HTTP/1.0" "$(hx http --request 'GET /metrics HTTP/1.0\r\n\r\n')" \
	"200 # HELP subnetra_node_info Node identity; the value is always 1."
expect_eq "GET / HTTP/1.1" "$(hx http --request 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')" \
	"404 404 Not Found: this server has only /metrics"
expect_eq "POST /metrics" "$(hx http --request 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n')" \
	"405 405 Method Not Allowed: GET or HEAD /metrics"
expect_eq "GET /metrics HTTP/2.0" "$(hx http --request 'GET /metrics HTTP/2.0\r\n\r\n')" \
	"505 505 HTTP Version Not Supported: HTTP/1.0 or HTTP/1.1"

echo "== a TCP transfer through the hub, scraped and not"
iperf() { # -> Mbit/s of a 4 s transfer LAN A -> LAN B
	bg nsx "$NS_LB" timeout 20 iperf3 -s -1 -B 192.168.2.10 -p 5201 >/dev/null 2>&1
	local srv=$BG_PID
	sleep 0.5
	nsx "$NS_LA" timeout 20 iperf3 -c 192.168.2.10 -p 5201 -t 4 -J >"$T/iperf.json" ||
		fail "iperf3 failed: $(head -c 300 "$T/iperf.json")"
	wait "$srv" || true
	"$PKT" iperf "$T/iperf.json" | sed 's/.*"mbps": \([0-9.]*\).*/\1/'
}
plain=0 scraped=0
for round in 1 2; do
	m=$(iperf)
	echo "  round $round, not scraped: $m Mbit/s"
	plain=$(awk "BEGIN { print $plain + $m }")
	bg nsx "$NS_HUB" timeout 30 "$PKT" scrape --to "$M" --secs 4.5 --every 0.1 \
		>"$T/scrapes.$round" 2>&1
	scraper=$BG_PID
	m=$(iperf)
	wait "$scraper" || fail "a scrape during the transfer failed: $(cat "$T/scrapes.$round")"
	echo "  round $round, scraped:     $m Mbit/s ($(cat "$T/scrapes.$round"))"
	scraped=$(awk "BEGIN { print $scraped + $m }")
done
ratio=$(awk "BEGIN { printf \"%.2f\", $scraped / $plain }")
expect_ge "throughput scraped / not scraped" "$ratio" 0.75

echo "== abuse beside a scraper and a ping through the hub"
# abuse ROUND WANT MODE CONNS FROM: the statuses the abusive connections
# get; meanwhile every scrape (from 127.0.0.1) is served and LAN A -> LAN B
# loses no ping
abuse() {
	local name=$1 want=$2 got; shift 2
	bg nsx "$NS_HUB" timeout 40 "$PKT" scrape --to "$M" --secs 6 --every 0.2 >"$T/abuse.scrape" 2>&1
	local scraper=$BG_PID
	bg nsx "$NS_LA" ping -n -q -i 0.05 -c 120 -W 1 192.168.2.10 >"$T/abuse.ping" 2>&1
	local pinger=$BG_PID
	got=$(hx http-abuse "$@" --secs 20) || fail "$name: http-abuse failed"
	expect_eq "$name: what the abusive connections got" "$got" "$want"
	wait "$scraper" || fail "$name: a scrape beside it failed: $(cat "$T/abuse.scrape")"
	echo "  scrapes beside it: $(cat "$T/abuse.scrape")"
	wait "$pinger" || true
	expect_eq "$name: LAN A -> LAN B pings lost beside it" \
		"$(sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p' "$T/abuse.ping")" 0
}
abuse "too many connections" "408 408 408 408 503 503 503 503 503 503 503 503" \
	--mode idle --conns 12 --from 127.0.0.2
abuse "a 1 MiB request head" "431 431" --mode huge --conns 2 --from 127.0.0.3
abuse "slowloris" "408 408 408 408" --mode slow --conns 4 --from 127.0.0.4
kill -0 "$(star_pid hub)" || fail "the hub died"
out=$(hx scrape) || fail "a scrape after the abuse failed: $out"

echo "== a reload cannot move the metrics"
sed -i 's|^  listen: "127.0.0.1:9586"|  listen: "127.0.0.1:9587"|' "$STAR_DIR/hub.yaml"
expect_restart_needed hub metrics.listen
out=$(hx scrape) || fail "a scrape after the refused reload failed: $out"

pass "HTTP metrics = subnetra metrics ($(samples "$T/http.prom" | wc -l) samples, strict parse), peer_up 1 for both spokes; transfer $scraped vs $plain Mbit/s scraped/not (ratio $ratio); idle flood 4x408+8x503, 1 MiB head 431, slowloris 408, each with every scrape served and no ping lost"
