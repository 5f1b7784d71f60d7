#!/usr/bin/env bash
# The offloads carry everything intact (docs/plugin-sdk.md, "Offloads"):
# with TUN offloads, UDP GSO and GRO on every node, LAN host A -> LAN host B
# through the hub moves 50 MB over TCP (the spokes read TSO super-packets
# and write coalesced ones, the underlay carries GSO trains), a file over
# UDP sent with UDP GSO (USO super-packets), pings of every size, TCP whose
# segments carry IPv4 options, and TCP in small pushed segments that nothing
# may coalesce; every transfer's sha256 matches and no node drops anything
# but what congestion may drop (the TUN queue full, the AQM: TCP's
# signals, reported, not faults).
# Then spoke B restarts with its offloads off (plugins.options.linux.offload:
# false, raw_direct gso and gro off): the same transfers both ways still
# match, mixed peers interoperate (the wire format is the same).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin offload

e2e_start_all
for node in hub spoke-a spoke-b; do
	expect_eq "$node: TUN offloads (rx, tx) and underlay runs" \
		"$(jv "start.$node" node.offload.tun_rx node.offload.tun_tx node.offload.underlay_runs |
		   tr '\n' ' ')" "true true true "
done

head -c 50M /dev/urandom >"$T/blob"
head -c 3M /dev/urandom >"$T/small"

# udp NAME FROM_NS TO_NS TO_ADDR FILE [udp-send args]
udp() {
	local name=$1 from=$2 to=$3 dst=$4 file=$5 want count rx_pid got; shift 5
	want=$(sha256sum "$file" | cut -d' ' -f1)
	count=$((($(stat -c %s "$file") + 1199) / 1200))
	rm -f "$T/rx.ready"
	bg nsx "$to" timeout 60 "$PKT" udp-recv --listen "$dst:5002" --ready "$T/rx.ready" \
		--count "$count" --secs 30 >"$T/rx.$name"
	rx_pid=$BG_PID
	wait_for 10 "the UDP receiver ($name)" test -e "$T/rx.ready"
	nsx "$from" timeout 60 "$PKT" udp-send --to "$dst:5002" --file "$file" --size 1200 \
		--mbps 100 "$@" >/dev/null || fail "$name: UDP send failed"
	wait "$rx_pid" || fail "$name: UDP receiver failed"
	read -r _ got received dups <"$T/rx.$name"
	expect_eq "$name: duplicates" "$dups" 0
	if [ "$received" != "$count" ]; then # step() retries it if congestion explains it
		LOST="$name: $received of $count datagrams received"
		return 3
	fi
	expect_eq "$name: sha256 on arrival" "$got" "$want"
}

pings() { # NAME FROM_NS DST: pings of several sizes, DF set
	local s
	local s got
	for s in 0 56 1000 1392; do
		got=$(ping_n "$2" "$3" 3 -i 0.05 -M do -s "$s")
		[ "$got" = 3 ] || { LOST="$1: $got of 3 $s-byte pings answered"; return 3; }
	done
	got=$(ping_n "$2" "$3" 3 -i 0.05 -R)
	[ "$got" = 3 ] || { LOST="$1: $got of 3 pings with IPv4 options (record route) answered"; return 3; }
	pass "$1: pings of 0, 56, 1000 and 1392 bytes (DF) and with IPv4 options answered"
}

# congested OLD NEW: the datagrams congestion dropped between two snapshots
# (tun_queue: the kernel's TUN queue, counting a super-packet once; aqm)
congested() {
	drops "$1" "$2" | tr ' ' '\n' | sed -nE 's/^(tun_queue|aqm)=\+?([0-9]+)$/\2/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# step CMD...: run one transfer, then say which node dropped what during it.
# UDP and pings have no retransmission: a datagram or ping lost (CMD returns
# 3) while a node counted congestion drops (the loaded machine's TUN queue
# full, or the AQM) is run again, twice at most; a loss no congestion
# counter explains fails at once.
step() {
	local node try rc c
	for try in 1 2 3; do
		for node in hub spoke-a spoke-b; do snap "$node" "s0.$node"; done
		rc=0 LOST=""
		"$@" || rc=$?
		c=0
		for node in hub spoke-a spoke-b; do
			snap "$node" "s1.$node"
			[ "$(drops "s0.$node" "s1.$node")" = none ] ||
				echo "  $node dropped during it: $(drops "s0.$node" "s1.$node")"
			c=$((c + $(congested "s0.$node" "s1.$node")))
		done
		[ "$rc" = 3 ] || { [ "$rc" = 0 ] || fail "$2: failed ($rc)"; return 0; }
		[ "$c" -gt 0 ] && [ "$try" -lt 3 ] || fail "$LOST (congestion drops during it: $c)"
		echo "  $LOST, with $c congestion drops counted: again"
	done
}

all_transfers() { # SUFFIX
	step tcp_transfer "TCP A->B$1" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/blob"
	step tcp_transfer "TCP B->A$1" "$NS_LB" "$NS_LA" 192.168.1.10 "$T/small"
	step tcp_transfer "TCP with IPv4 options A->B$1" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/small" --ip-options
	step tcp_transfer "TCP in pushed 700-byte segments A->B$1" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/small" \
		--chunk 700 --gap-us 100
	step udp "UDP A->B$1" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/small"
	step udp "UDP with UDP GSO A->B$1" "$NS_LA" "$NS_LB" 192.168.2.10 "$T/small" --gso
	step pings "ICMP A->B$1" "$NS_LA" 192.168.2.10
	step pings "ICMP B->A$1" "$NS_LB" 192.168.1.10
}

moved() { echo $(($(jv "$2" "node.$3") - $(jv "$1" "node.$3"))); }


echo "== offloads on everywhere"
for node in hub spoke-a spoke-b; do snap "$node" "a0.$node"; done
all_transfers ""
for node in hub spoke-a spoke-b; do snap "$node" "a1.$node"; done
echo "  spoke A: $(moved a0.spoke-a a1.spoke-a tun_rx_gso) super-packets read, $(moved a0.spoke-a a1.spoke-a tx_gso) GSO messages sent"
echo "  hub: $(moved a0.hub a1.hub rx_gro) GRO buffers in, $(moved a0.hub a1.hub tx_gso) GSO messages out"
echo "  spoke B: $(moved a0.spoke-b a1.spoke-b rx_gro) GRO buffers in, $(moved a0.spoke-b a1.spoke-b tun_tx_gso) coalesced writes"
expect_ge "spoke A: TSO/USO super-packets read" "$(moved a0.spoke-a a1.spoke-a tun_rx_gso)" 100
expect_ge "spoke A: GSO messages sent" "$(moved a0.spoke-a a1.spoke-a tx_gso)" 100
expect_ge "hub: GRO buffers received" "$(moved a0.hub a1.hub rx_gro)" 100
expect_ge "hub: GSO messages sent" "$(moved a0.hub a1.hub tx_gso)" 100
expect_ge "spoke B: coalesced TUN writes" "$(moved a0.spoke-b a1.spoke-b tun_tx_gso)" 100
for node in hub spoke-a spoke-b; do
	expect_eq "$node: drops during the transfers (but congestion's)" "$(faults "a0.$node" "a1.$node")" none
done

echo "== spoke B without offloads, the others with"
star_stop spoke-b
sed -i '/^plugins:/a\  options:\n    linux: { offload: false }\n    raw_direct: { gso: off, gro: off }' \
	"$STAR_DIR/spoke-b.yaml"
star_start spoke-b
wait_for 15 "spoke B to verify the hub" peer_up spoke-b 1
wait_for 15 "the hub to verify spoke B" peer_up hub 3
star_wait_ping "$NS_LA" 192.168.2.10 10 || fail "LAN A cannot reach LAN B"
snap spoke-b b0.spoke-b
expect_eq "spoke B: TUN offloads (rx, tx) and underlay runs" \
	"$(jv b0.spoke-b node.offload.tun_rx node.offload.tun_tx node.offload.underlay_runs | tr '\n' ' ')" \
	"false false true "
for node in hub spoke-a; do snap "$node" "b0.$node"; done
all_transfers " (B plain)"
for node in hub spoke-a spoke-b; do snap "$node" "b1.$node"; done
expect_eq "spoke B: super-packets read / coalesced writes without offloads" \
	"$(moved b0.spoke-b b1.spoke-b tun_rx_gso) $(moved b0.spoke-b b1.spoke-b tun_tx_gso)" "0 0"
for node in hub spoke-a spoke-b; do
	expect_eq "$node: drops during the transfers (but congestion's)" "$(faults "b0.$node" "b1.$node")" none
done
pass "TCP (50 MB, IPv4 options, pushed small segments), UDP (plain and GSO) and ICMP through the hub intact with offloads on, and with spoke B's off"
