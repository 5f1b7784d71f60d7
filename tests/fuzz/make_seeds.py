#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the generated seed files of tests/fuzz/corpus/: wire, rx and
the ctl seeds with state bytes (the other ctl, prefix and config seeds are
written by hand; corpus/config also holds copies of conf/).

    tests/fuzz/make_seeds.py BUILD_DIR

BUILD_DIR holds tests/sn-inject and plugins/ (any build of this tree). The
datagrams of the wire and rx seeds are sealed by sn-inject with the demo
keys of conf/keys, as a spoke would send them to the hub. The rx nodes use a
key of their own, so these never open there: they are for the header checks.
The authentic datagrams of the rx seeds are records of mode 2, which the
target seals itself (see the input format at the top of fuzz_rx.c).
"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
EPOCH = 1700000000


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def inject(build, *args):
    key = os.path.join(SRC, "conf/keys/spoke-a.key")
    with open(os.path.join(SRC, "conf/keys/hub.pub")) as f:
        hub_pub = f.read().strip()
    cmd = [os.path.join(build, "tests/sn-inject"), "--key", key, "--peer-pub", hub_pub,
           "--id", "2", "--peer-id", "1", "--plugin-dir", os.path.join(build, "plugins"),
           "--hex"] + list(args)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [bytes.fromhex(line) for line in out.split()]


def ipv4(src, dst, payload=b"subnetra-fuzz-seed", proto=17):
    total = 20 + 8 + len(payload)
    a = bytes(int(x) for x in src.split("."))
    b = bytes(int(x) for x in dst.split("."))
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, proto, 0, a, b)
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0)
    return hdr + udp + payload


# ---- fuzz_rx records ---------------------------------------------------------

RAW, FORGE, AUTH, TUN = 0, 1, 2, 3


def rec(mode, body=b"", peer=0, src=0, batch=False, refuse=False, epoch=EPOCH, seq=0):
    op = mode | peer << 2 | src << 4 | (0x40 if batch else 0) | (0x80 if refuse else 0)
    out = struct.pack("!BH", op, len(body))
    if mode == AUTH:
        out += struct.pack("!IQ", epoch, seq)
    return out + body


HUB, SPOKE = b"\x00", b"\x01"
# the same nodes just restarted: every peer unverified (fuzz_rx.c, byte 0 bit 1)
HUB_NEW, SPOKE_NEW = b"\x02", b"\x03"
# seqs of the random-seq kinds (fuzz_rx.c, mode 2): a challenge; a response
# carrying the node's own challenge; a response carrying the body as is
CHAL, RESP, RESP_RAW = 0x8000000000000007, 0xC000000000000009, 0xE00000000000000B


def resp_body(epoch=0, next_seq=0):
    return bytes(16) + struct.pack("!IQ", epoch, next_seq)


def rx_seeds(keepalive, data):
    a_to_hub = ipv4("10.0.0.2", "10.0.0.1")
    write("rx", "hub-raw-keepalive", HUB + rec(RAW, keepalive))
    write("rx", "hub-raw-data", HUB + rec(RAW, data))
    write("rx", "hub-forged", HUB + rec(FORGE, data) + rec(FORGE, keepalive, peer=1))
    write("rx", "hub-auth-keepalive", HUB + rec(AUTH, b"", seq=0))
    write("rx", "hub-auth-deliver", HUB + rec(AUTH, a_to_hub, seq=1))
    # spoke-b says hello from source 1, then spoke-a's LAN talks to spoke-b's
    write("rx", "hub-relay", HUB + rec(AUTH, b"", peer=1, src=1) +
          rec(AUTH, ipv4("192.168.1.5", "192.168.2.7"), seq=2) +
          rec(AUTH, ipv4("10.0.0.2", "10.0.0.3"), seq=3))
    write("rx", "hub-replay-stale", HUB + rec(AUTH, a_to_hub, seq=5) +
          rec(AUTH, a_to_hub, seq=5) + rec(AUTH, a_to_hub, seq=4) +
          rec(AUTH, a_to_hub, epoch=EPOCH - 1, seq=9) + rec(AUTH, a_to_hub, epoch=EPOCH + 1))
    write("rx", "hub-bad-inner", HUB + rec(AUTH, b"\x45\x00\x00\x99" + bytes(30), seq=1) +
          rec(AUTH, ipv4("10.0.0.3", "10.0.0.1"), seq=2) +
          rec(AUTH, ipv4("10.0.0.2", "10.9.9.9"), seq=3))
    write("rx", "hub-tun", HUB + rec(TUN, ipv4("10.0.0.1", "10.0.0.2")) +
          rec(AUTH, b"", src=2) + rec(TUN, ipv4("10.0.0.1", "192.168.1.9")) +
          rec(TUN, ipv4("10.0.0.1", "10.0.0.1")) + rec(TUN, bytes(1500)))
    write("rx", "hub-batch", HUB + rec(AUTH, b"", batch=True) +
          rec(RAW, data, batch=True) + rec(AUTH, a_to_hub, seq=1, batch=True) +
          rec(FORGE, data, batch=True, refuse=True) + rec(AUTH, a_to_hub, seq=2))
    # the run-time rules fuzz_rx adds: 192.168.2.128/25 drop, 172.16.0.0/12 forward 2
    write("rx", "hub-policy", HUB + rec(AUTH, b"", peer=1, src=1) +
          rec(AUTH, ipv4("192.168.1.5", "192.168.2.200"), seq=1) +
          rec(AUTH, ipv4("192.168.1.5", "172.16.1.1"), seq=2) +
          rec(AUTH, ipv4("192.168.2.5", "172.16.1.1"), peer=1, src=1, seq=1) +
          rec(TUN, ipv4("10.0.0.1", "172.16.9.9")))
    write("rx", "spoke-deliver", SPOKE + rec(AUTH, ipv4("10.0.0.1", "10.0.0.2"), src=2) +
          rec(AUTH, ipv4("10.0.0.3", "192.168.1.4"), seq=1, src=2) +
          rec(AUTH, ipv4("10.0.0.1", "10.0.0.3"), seq=2))
    write("rx", "spoke-tun", SPOKE + rec(TUN, ipv4("10.0.0.2", "10.0.0.3")) +
          rec(TUN, ipv4("192.168.1.4", "192.168.2.8"), refuse=True))
    # revision 2: a restarted hub challenges spoke A's data, A answers with
    # floor 5: seq 4 is a replay, 5 and 6 are accepted
    write("rx", "hub-new-verify", HUB_NEW + rec(AUTH, a_to_hub, seq=5) +
          rec(AUTH, resp_body(0, 5), seq=RESP) + rec(AUTH, a_to_hub, seq=4) +
          rec(AUTH, a_to_hub, seq=5) + rec(AUTH, b"", seq=6))
    write("rx", "hub-new-challenge", HUB_NEW + rec(AUTH, b"\x11" * 16, seq=CHAL) +
          rec(AUTH, b"\x22" * 16, peer=1, src=1, seq=CHAL))
    # spoke A reports having accepted the hub's own epoch: it moves first
    write("rx", "hub-new-reused-epoch", HUB_NEW + rec(AUTH, resp_body(EPOCH, 0), seq=RESP) +
          rec(AUTH, ipv4("192.168.1.5", "192.168.2.7"), seq=0) + rec(TUN, ipv4("10.0.0.1", "10.0.0.2")))
    write("rx", "hub-new-bad-response", HUB_NEW + rec(AUTH, resp_body(), seq=RESP_RAW) +
          rec(FORGE, bytes(64)) + rec(AUTH, a_to_hub, seq=1, batch=True) +
          rec(AUTH, resp_body(0, 0), seq=RESP, batch=True) + rec(AUTH, a_to_hub, seq=1))
    write("rx", "hub-challenge-verified", HUB + rec(AUTH, b"\x33" * 16, peer=1, src=1, seq=CHAL) +
          rec(AUTH, resp_body(), seq=RESP))
    write("rx", "spoke-new", SPOKE_NEW + rec(AUTH, b"\x44" * 16, src=2, seq=CHAL) +
          rec(AUTH, resp_body(0, 3), src=2, seq=RESP) +
          rec(AUTH, ipv4("10.0.0.1", "10.0.0.2"), src=2, seq=3) + rec(TUN, ipv4("10.0.0.2", "10.0.0.1")))


def csum(b, s=0):
    if len(b) % 2:
        b = b + b"\0"
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp4(seq, payload, flags=0x10, ident=1, sport=40000, ts=True, fix=True):
    """An IPv4 TCP segment (timestamps option), checksums right if fix."""
    opts = b"\1\1\x08\x0a" + struct.pack(">II", 42, 7) if ts else b""
    th = struct.pack(">HHIIBBHHH", sport, 5001, seq, 77, (5 + len(opts) // 4) << 4, flags,
                     502, 0, 0) + opts
    total = 20 + len(th) + len(payload)
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, 0x4000, 64, 6, 0,
                               bytes([10, 0, 1, 1]), bytes([10, 0, 2, 2])))
    if fix:
        ip[10:12] = struct.pack(">H", csum(bytes(ip)))
    seg = bytearray(th + payload)
    if fix:
        pseudo = sum(struct.unpack(">4H", ip[12:20])) + 6 + len(seg)
        seg[16:18] = struct.pack(">H", csum(bytes(seg), pseudo))
    return bytes(ip + seg)


def udp4(payload):
    total = 28 + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 9, 0x4000, 64, 17, 0,
                     bytes([10, 0, 1, 1]), bytes([10, 0, 2, 2]))
    return ip + struct.pack(">HHHH", 40000, 5001, 8 + len(payload), 0) + payload


def vnet(flags, gso_type, gso_size, start, offset, hdr_len=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, start, offset)


def gso_seeds():
    """fuzz_gso: TUN reads (mode 0) and batches of segments (mode 1: the
    target fixes checksums; mode 3: taken as they are)."""
    data = bytes((k * 7 + (k >> 8)) & 0xff for k in range(10000))
    write("gso", "tso-tcp", b"\0" + vnet(1, 1, 1348, 20, 16, 52) + tcp4(1000, data, 0x18))
    write("gso", "tso-tcp-ecn-cwr", b"\0" + vnet(1, 0x81, 1348, 20, 16) +
          tcp4(5, data[:4000], 0x90))
    write("gso", "uso-udp", b"\0" + vnet(1, 5, 1372, 20, 6) + udp4(data[:5000]))
    write("gso", "csum-partial", b"\0" + vnet(1, 0, 0, 20, 16) + tcp4(9, data[:100], fix=False))
    write("gso", "plain", b"\0" + vnet(0, 0, 0, 0, 0) + tcp4(9, data[:100]))
    write("gso", "bad-type-tcpv6", b"\0" + vnet(1, 4, 1348, 20, 16) + tcp4(9, data[:3000]))
    segs = b"".join(struct.pack(">H", len(t)) + t for t in
                    (tcp4(1000 + k * 1348, data[k * 1348:(k + 1) * 1348], ident=k)
                     for k in range(6)))
    write("gso", "segments", b"\1" + segs)
    write("gso", "segments-as-is", b"\3" + segs)
    two = b"".join(struct.pack(">H", len(t)) + t for t in
                   (tcp4(1000 + (k // 2) * 1348, data[:1348], ident=k // 2, sport=40000 + k % 2)
                    for k in range(8)))
    write("gso", "two-flows", b"\1" + two)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    keepalive = inject(build, "--epoch", str(EPOCH), "--seq", "0", "--keepalive")[0]
    data = inject(build, "--epoch", str(EPOCH), "--seq", "1", "--src", "10.0.0.2",
                  "--dst", "10.0.0.1")[0]
    write("wire", "keepalive", keepalive)
    write("wire", "data", data)
    write("wire", "data-raw-inner", inject(build, "--epoch", str(EPOCH), "--seq", "2",
                                           "--raw-inner", "45000014" + "00" * 16)[0])
    write("wire", "ipv4", ipv4("10.0.0.2", "10.0.0.1"))
    # the challenge and response of the test vector (docs/protocol.md)
    write("wire", "challenge", bytes.fromhex(
        "01020000000000016553f1008000000000000001"
        "3e6343066121f6ffce2a76a8e460eb7d77d901cf9188e117235f7d905cdd5b08"))
    write("wire", "response", bytes.fromhex(
        "01040000000000026553f100c0ffee0000000002faec49ca3c211abee60393a11e713afe"
        "7fc66e3707b3b0433a25af1e82cb146a9c0aa1a8dbc7ce5a3813589e"))
    rx_seeds(keepalive, data)
    gso_seeds()
    # fuzz_ctl: bytes after the newline set counters, endpoints, epochs, times
    write("ctl", "state-max-status", b"status\n" + b"\xff" * 1024)
    write("ctl", "state-max-json-status", b"json status\n" + b"\xff" * 1024)
    write("ctl", "state-mixed-json-peers", b"json peers\n" + bytes(range(256)) * 4)
    write("ctl", "state-mixed-metrics", b"metrics\n" + bytes(range(255, -1, -1)) * 4)


if __name__ == "__main__":
    main()
