#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/e2e/pkt.py: small packet tools for the end-to-end tests (stdlib only).

Run inside a test's own namespaces (ip netns exec NS python3 pkt.py ...):

  sniff  --iface IF --secs S [--src IP] [--udp-port P] [--max N]
         [--min-len BYTES] [--ready FILE] [--frames FILE]
      Capture IPv4/UDP frames on IF (AF_PACKET, both directions) for at most S
      seconds or N matching frames. One JSON line per frame on stdout:
      {"t": monotonic seconds, "src", "sport", "dst", "dport", "len" (UDP
      payload bytes), "head" (first 24 payload bytes, hex)}. --frames also
      writes each whole Ethernet frame as a hex line (for replay). --ready
      names a file created once the socket is bound.
  replay --iface IF --frames FILE [--times N]
      Send every frame of FILE (hex lines) N times on IF, byte for byte but
      for the UDP checksum, recomputed (veth frames carry a partial one).
  udp    --to ADDR:PORT [--pad N] HEX...
      Send each HEX string (+ N zero bytes) as one UDP datagram from one
      socket ("" = empty).
  tcp-recv --listen ADDR:PORT --ready FILE --secs S
      Accept one connection, read to EOF, print "<bytes> <sha256>".
  tcp-send --to ADDR:PORT --file F --secs S
      Connect, send F, close; print "<bytes> <seconds>".
  intervals
      Read "sniff" JSON lines on stdin, print count, median and min/max
      interval in seconds as JSON.
  relay  --listen ADDR:PORT --to ADDR:PORT --stats FILE [--ready FILE]
         [--dup N] [--swap N] [--secs S]
      A UDP impairment relay: datagrams from the (last) client to LISTEN go
      to TO from one socket, the replies back to the client. In each
      direction every N-th datagram is held back and sent after the next one
      (--swap: reordering; released after 50 ms at the latest) or sent twice
      (--dup; --swap wins when both apply). On SIGTERM, or after S seconds,
      writes {"up"|"down": {"in", "out", "dup", "swap"}} to FILE and exits.
"""
import argparse
import hashlib
import json
import os
import socket
import statistics
import struct
import sys
import time

ETH_P_ALL = 0x0003


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def parse_udp(frame):
    """(src, sport, dst, dport, payload) of an Ethernet/IPv4/UDP frame, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    if ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:total]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return (socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport,
            bytes(udp[8:ulen]))


def cmd_sniff(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.settimeout(0.1)
    if a.ready:
        open(a.ready, "w").close()
    frames = open(a.frames, "w") if a.frames else None
    end = time.monotonic() + a.secs
    n = 0
    while time.monotonic() < end and (a.max == 0 or n < a.max):
        try:
            frame = s.recv(65536)
        except socket.timeout:
            continue
        t = time.monotonic()
        u = parse_udp(frame)
        if not u:
            continue
        src, sport, dst, dport, payload = u
        if a.src and src != a.src:
            continue
        if a.udp_port and a.udp_port not in (sport, dport):
            continue
        if len(payload) < a.min_len:
            continue
        n += 1
        print(json.dumps({"t": round(t, 6), "src": src, "sport": sport, "dst": dst,
                          "dport": dport, "len": len(payload),
                          "head": payload[:24].hex()}), flush=True)
        if frames:
            frames.write(frame.hex() + "\n")
            frames.flush()
    if frames:
        frames.close()


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_udp_csum(frame):
    """The frame with a correct UDP checksum. A frame captured on a veth may
    carry a partial (offloaded) checksum the receiver would reject; the UDP
    payload, the datagram under test, stays byte for byte the same."""
    f = bytearray(frame)
    ip = 14
    ihl = (f[ip] & 15) * 4
    total = struct.unpack("!H", f[ip + 2:ip + 4])[0]
    u = ip + ihl
    ulen = struct.unpack("!H", f[u + 4:u + 6])[0]
    f[u + 6:u + 8] = b"\0\0"
    pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 17, ulen)
    c = csum16(pseudo + bytes(f[u:u + ulen])) or 0xFFFF
    f[u + 6:u + 8] = struct.pack("!H", c)
    return bytes(f[:ip + total])


def cmd_replay(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = 0
    with open(a.frames) as f:
        frames = [fix_udp_csum(bytes.fromhex(line.strip())) for line in f if line.strip()]
    for _ in range(a.times):
        for fr in frames:
            s.send(fr)
            sent += 1
    print(sent)


def cmd_udp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for h in a.hex:
        s.sendto(bytes.fromhex(h) + bytes(a.pad), addr(a.to))


def cmd_tcp_recv(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(addr(a.listen))
    ls.listen(1)
    ls.settimeout(a.secs)
    open(a.ready, "w").close()
    c, _ = ls.accept()
    c.settimeout(a.secs)
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest())


def cmd_tcp_send(a):
    c = socket.create_connection(addr(a.to), timeout=a.secs)
    t0 = time.monotonic()
    n = 0
    with open(a.file, "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            c.sendall(b)
            n += len(b)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)  # wait for the receiver to close: everything arrived
    print(n, round(time.monotonic() - t0, 3))


def cmd_relay(a):
    import select
    import signal
    ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ls.bind(addr(a.listen))
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("0.0.0.0", 0))
    up = addr(a.to)
    st = {d: {"in": 0, "out": 0, "dup": 0, "swap": 0} for d in ("up", "down")}
    held = {"up": None, "down": None}
    client = [None]

    def send(d, data):
        if d == "up":
            us.sendto(data, up)
        else:
            ls.sendto(data, client[0])
        st[d]["out"] += 1

    def release(d):
        if held[d]:
            send(d, held[d][0])
            held[d] = None

    def process(d, data):
        st[d]["in"] += 1
        n = st[d]["in"]
        if a.swap and n % a.swap == 0 and not held[d]:
            held[d] = (data, time.monotonic())
            st[d]["swap"] += 1
            return
        send(d, data)
        release(d)
        if a.dup and n % a.dup == 0:
            send(d, data)
            st[d]["dup"] += 1

    done = [False]

    def stop(*_):
        done[0] = True

    signal.signal(signal.SIGTERM, stop)
    if a.ready:
        open(a.ready, "w").close()
    end = time.monotonic() + a.secs
    while not done[0] and time.monotonic() < end:
        try:
            r, _, _ = select.select([ls, us], [], [], 0.01)
        except InterruptedError:
            continue
        for s_ in r:
            data, src = s_.recvfrom(65536)
            if s_ is ls:
                client[0] = src
                process("up", data)
            elif src == up and client[0]:
                process("down", data)
        now = time.monotonic()
        for d in ("up", "down"):
            if held[d] and now - held[d][1] > 0.05:
                release(d)
    for d in ("up", "down"):
        release(d)
    with open(a.stats, "w") as f:
        json.dump(st, f)


def cmd_intervals(a):
    ts = [json.loads(l)["t"] for l in sys.stdin if l.strip()]
    iv = [b - a_ for a_, b in zip(ts, ts[1:])]
    out = {"count": len(ts)}
    if iv:
        out.update(median=round(statistics.median(iv), 3), min=round(min(iv), 3),
                   max=round(max(iv), 3))
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sniff")
    s.add_argument("--iface", required=True)
    s.add_argument("--secs", type=float, required=True)
    s.add_argument("--src")
    s.add_argument("--udp-port", type=int, default=0)
    s.add_argument("--max", type=int, default=0)
    s.add_argument("--min-len", type=int, default=0)
    s.add_argument("--ready")
    s.add_argument("--frames")
    s = sub.add_parser("replay")
    s.add_argument("--iface", required=True)
    s.add_argument("--frames", required=True)
    s.add_argument("--times", type=int, default=1)
    s = sub.add_parser("udp")
    s.add_argument("--to", required=True)
    s.add_argument("--pad", type=int, default=0)
    s.add_argument("hex", nargs="*")
    s = sub.add_parser("tcp-recv")
    s.add_argument("--listen", required=True)
    s.add_argument("--ready", required=True)
    s.add_argument("--secs", type=float, default=60)
    s = sub.add_parser("tcp-send")
    s.add_argument("--to", required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--secs", type=float, default=60)
    sub.add_parser("intervals")
    s = sub.add_parser("relay")
    s.add_argument("--listen", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--stats", required=True)
    s.add_argument("--ready")
    s.add_argument("--dup", type=int, default=0)
    s.add_argument("--swap", type=int, default=0)
    s.add_argument("--secs", type=float, default=120)
    a = p.parse_args()
    {"sniff": cmd_sniff, "replay": cmd_replay, "udp": cmd_udp, "tcp-recv": cmd_tcp_recv,
     "tcp-send": cmd_tcp_send, "intervals": cmd_intervals, "relay": cmd_relay}[a.cmd](a)


if __name__ == "__main__":
    main()
