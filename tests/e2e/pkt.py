#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/pkt.py: the traffic and packet tool of the end-to-end tests
(stdlib only). The commands that touch the network run inside a test's own
namespaces (ip netns exec NS pkt.py ...). ADDR:PORT is an IPv4 address and
port.

Capture and replay:
  sniff --iface IF --secs S [--src IP] [--udp-port P] [--max N]
        [--min-len BYTES] [--ready FILE] [--frames FILE]
      Capture IPv4/UDP frames on IF (AF_PACKET, both directions) for at most
      S seconds or N matching frames. One JSON line per frame on stdout:
      {"t": monotonic seconds, "src", "sport", "dst", "dport", "len" (UDP
      payload bytes), "head" (first 24 payload bytes, hex)}. --frames also
      writes each whole Ethernet frame as a hex line (for replay and
      udp-replay). --ready names a file created once the socket is bound.
  headers [FILE]
      Read sniff JSON lines (FILE or stdin); print one line per datagram with
      its overlay header (docs/protocol.md): "SRC:SPORT DST:DPORT LEN VERSION
      FLAGS RESERVED KEY_ID EPOCH SEQ", version and flags as 2 hex digits,
      reserved as 4, the rest decimal ("-" for fields a short datagram lacks).
  replay --iface IF --frames FILE [--times N]
      Send every frame of FILE (hex lines) N times on IF, byte for byte but
      for the UDP checksum, recomputed (veth frames carry a partial one).
      Prints how many frames it sent.
  udp-replay --frames FILE --to ADDR:PORT [--from ADDR[:PORT]] [--times N]
      Send the UDP payload of every frame of FILE (a sniff --frames capture)
      N times to ADDR:PORT from one ordinary UDP socket (bound to --from if
      given): the captured datagrams again, from this namespace's address.
      Prints how many datagrams it sent.
  udp --to ADDR:PORT [--from ADDR[:PORT]] [--pad N] [--count N] HEX...
      Send each HEX string (+ N zero bytes; "" = empty) as one UDP datagram,
      N times each, all from one socket.

TCP (sha256 of what crosses):
  tcp-recv --listen ADDR:PORT --ready FILE [--secs S]
      Accept one connection, read to EOF (S seconds at most in all), print
      "<bytes> <sha256>". FILE is created once listening.
  tcp-send --to ADDR:PORT (--file F | --bytes N | --duration D) [--mbps R]
           [--secs S] [--ip-options] [--chunk BYTES [--gap-us US]] [--cc NAME]
      Connect, send F (or N pseudo-random bytes), paced at R Mbit/s if given
      (so a transfer spans a known time), close, wait for the receiver to
      close; print "<bytes> <sha256> <seconds>". Gives up after S seconds.
      --duration: pseudo-random bytes for D seconds (a stream of known length).
      --ip-options: every segment carries 4 bytes of IPv4 options (NOPs,
      IP_OPTIONS). --chunk: TCP_NODELAY and writes of BYTES, US apart: small
      segments, each with PSH, that nothing may coalesce. --cc: the
      socket's congestion control (TCP_CONGESTION).

UDP (sha256 of what crosses, in order):
  udp-recv --listen ADDR:PORT --ready FILE --count N [--secs S]
      Receive datagrams of udp-send (an 8-byte index, then payload) until N
      distinct ones came or S seconds passed; print "<bytes> <sha256>
      <received> <duplicates>" over the payloads in index order.
  udp-send --to ADDR:PORT --file F --size BYTES [--gso] [--mbps R]
      Send F as datagrams of BYTES payload (the last shorter), each led by
      its index; --gso: 16 datagrams per sendmsg() with UDP_SEGMENT, which a
      kernel with USO hands the TUN device as one super-packet. Prints the
      number of datagrams.

An impaired underlay:
  relay --listen ADDR:PORT --to ADDR:PORT --stats FILE [--ready FILE]
        [--dup N] [--swap N] [--drop-fec N] [--loss PCT [--seed N]] [--secs S]
      A UDP impairment relay: datagrams from the (last) client to LISTEN go
      to TO from one socket, the replies back to the client. In each
      direction every N-th datagram is held back and sent after the next one
      (--swap: reordering; released after 50 ms at the latest) or sent twice
      (--dup; --swap wins when both apply). --drop-fec N reads fec_xor's
      framing (docs/fec_xor.md) and drops, in each direction, the data frame
      at index 1 of every group whose id is a multiple of N: deterministic,
      at most one datagram per group, never a parity. --loss PCT drops each
      datagram (either direction, before --swap and --dup) with probability
      PCT percent, from a pseudo-random sequence seeded with --seed (default
      1): the same run loses the same datagrams. On SIGTERM, or after S
      seconds, writes {"up"|"down": {"in", "out", "dup", "swap", "drop"}} to
      FILE and exits.

A slow name server:
  dns --listen ADDR:PORT --answer NAME=IP[,IP...]... [--delay NAME=SECS...] [--ready FILE]
        [--log FILE] [--secs S]
      Answer A queries for each NAME with an A record per IP, in the order
      given (other types and names: an empty answer), each NAME=SECS after that many seconds (each query in a
      thread of its own, so one slow answer holds back nothing else). --log
      gets one line per query: "<monotonic seconds> <name> <type>".

Metrics over HTTP (core/http.c):
  scrape --to ADDR:PORT [--from ADDR] [--secs S] [--every SECS] [--out FILE]
      GET /metrics (HTTP/1.1) from ADDR:PORT, every SECS for S seconds (once
      with S = 0). Each reply must be 200, say Connection: close, carry as
      many bytes as its Content-Length and hold a body that passes the
      `metrics` checks below. Prints JSON: scrapes, ok, failed (a reason for
      each other), max_ms; --out keeps the last body. Exit 1 if any failed.
  http --to ADDR:PORT [--from ADDR] [--request TEXT]
      One request (TEXT with \r and \n escapes; default GET /metrics
      HTTP/1.1); prints the reply's status code and its body's first line.
  http-abuse --to ADDR:PORT [--from ADDR] --mode MODE --conns N --secs S
        [--ready FILE]
      N connections at once: idle (send nothing), slow (send a request one
      byte every 0.5 s), huge (send a 1 MiB request head as fast as it
      goes). FILE is created once all are connected. Waits up to S seconds
      for each to be answered and closed; prints the status codes, sorted
      ("none" for a connection that got no reply).

Reading results:
  intervals
      Read sniff JSON lines on stdin, print as JSON: count, median, min and
      max interval in seconds, and seq_steps: the distinct differences
      between the overlay seqs of consecutive datagrams (when each has one).
  ping FILE
      Parse the output of `ping -n [-D]` saved in FILE. Prints JSON:
      transmitted, received, lost (from ping's summary line), n (RTT samples),
      p50, p90, p99, max (ms, nearest-rank percentiles over the replies).
  iperf FILE
      Parse `iperf3 -J` client output. Prints JSON: sent_bytes,
      received_bytes, retransmits, mbps (receiver), seconds.
  metrics FILE [KEY...]
      Validate FILE strictly as the Prometheus text exposition format 0.0.4:
      every line is a HELP/TYPE/comment line or a sample matching the
      grammar; every sample's family has exactly one HELP and one TYPE, both
      before its first sample; a family's samples are contiguous; no sample
      (name + label set) repeats; counters are named *_total and their values
      are non-negative integers. Exit 1 with every problem listed otherwise.
      Each KEY, written 'name{label="v",...}' (labels in any order) or 'name',
      prints its value, one per line ("absent" if no such sample).
"""
import argparse
import hashlib
import json
import math
import os
import re
import socket
import statistics
import struct
import sys
import time

ETH_P_ALL = 0x0003


def die(msg):
    print(f"pkt: {msg}", file=sys.stderr)
    sys.exit(2)


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def bind_addr(s):
    """--from ADDR[:PORT] as a bind address (port 0: any)."""
    return addr(s) if ":" in s else (s, 0)


def pct(v, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(v)
    k = max(1, math.ceil(p / 100 * len(s)))
    return s[k - 1]


# ---- capture and replay ----------------------------------------------------

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


def cmd_headers(a):
    f = open(a.file) if a.file else sys.stdin
    for line in f:
        if not line.strip():
            continue
        d = json.loads(line)
        h = bytes.fromhex(d["head"])
        out = [f"{d['src']}:{d['sport']}", f"{d['dst']}:{d['dport']}", str(d["len"])]
        fields = [(0, 1, "%02x"), (1, 2, "%02x"), (2, 4, "%04x"), (4, 8, "%d"), (8, 12, "%d"),
                  (12, 20, "%d")]
        for lo, hi, fmt in fields:
            out.append(fmt % int.from_bytes(h[lo:hi], "big") if len(h) >= hi else "-")
        print(" ".join(out))


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


def read_frames(path):
    """The frames of a sniff --frames file (one hex line each)."""
    with open(path) as f:
        return [bytes.fromhex(line.strip()) for line in f if line.strip()]


def cmd_replay(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = 0
    frames = [fix_udp_csum(fr) for fr in read_frames(a.frames)]
    for _ in range(a.times):
        for fr in frames:
            s.send(fr)
            sent += 1
    print(sent)


def udp_socket(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.from_:
        s.bind(bind_addr(a.from_))
    return s


def cmd_udp_replay(a):
    payloads = []
    for fr in read_frames(a.frames):
        u = parse_udp(fr)
        if not u:
            die(f"{a.frames}: a frame that is not IPv4/UDP")
        payloads.append(u[4])
    s, sent = udp_socket(a), 0
    for _ in range(a.times):
        for p in payloads:
            s.sendto(p, addr(a.to))
            sent += 1
    print(sent)


def cmd_udp(a):
    s = udp_socket(a)
    for h in a.hex:
        for _ in range(a.count):
            s.sendto(bytes.fromhex(h) + bytes(a.pad), addr(a.to))


# ---- TCP -------------------------------------------------------------------

def cmd_tcp_recv(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(addr(a.listen))
    srv.listen(1)
    end = time.monotonic() + a.secs
    open(a.ready, "w").close()
    srv.settimeout(a.secs)
    conn, _ = srv.accept()
    h, n = hashlib.sha256(), 0
    while True:
        conn.settimeout(max(0.1, end - time.monotonic()))
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    print(n, h.hexdigest())


def chunks(a):
    """The bytes to send, 64 KiB (file) or 16 KiB (random) at a time."""
    if a.file:
        with open(a.file, "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    return
                yield b
    if a.duration:
        b, end = os.urandom(1 << 16), time.monotonic() + a.duration
        while time.monotonic() < end:
            yield b
        return
    left = a.bytes
    while left > 0:
        b = os.urandom(min(16384, left))
        left -= len(b)
        yield b


def small(a):
    """chunks(a) cut to --chunk bytes."""
    for b in chunks(a):
        for i in range(0, len(b), a.chunk):
            yield b[i:i + a.chunk]


def cmd_tcp_send(a):
    if (a.file is not None) + (a.bytes is not None) + (a.duration is not None) != 1:
        die("tcp-send: give exactly one of --file, --bytes and --duration")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.ip_options:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")
    if a.chunk:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if a.cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, a.cc.encode())
    s.settimeout(a.secs)
    s.connect(addr(a.to))
    h, n = hashlib.sha256(), 0
    t0 = time.monotonic()
    for b in small(a) if a.chunk else chunks(a):
        if a.chunk and a.gap_us:
            time.sleep(a.gap_us / 1e6)
        now = time.monotonic()
        if now - t0 > a.secs:
            die("tcp-send: out of time")
        if a.mbps:
            due = t0 + n * 8 / (a.mbps * 1e6)
            if due > now:
                time.sleep(due - now)
        s.sendall(b)
        h.update(b)
        n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # wait for the receiver to close: everything arrived
    s.close()
    print(n, h.hexdigest(), round(time.monotonic() - t0, 3))


# ---- UDP ---------------------------------------------------------------------

UDP_SEGMENT = 103


def cmd_udp_recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # forced past net.core.rmem_max (208 KiB in a fresh namespace): a
    # receiver short of CPU must not lose what the overlay delivered
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(addr(a.listen))
    open(a.ready, "w").close()
    got, dups, end = {}, 0, time.monotonic() + a.secs
    while len(got) < a.count and time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            d = s.recv(1 << 16)
        except socket.timeout:
            break
        i = struct.unpack(">Q", d[:8])[0]
        dups += i in got
        got[i] = d[8:]
    h, n = hashlib.sha256(), 0
    for i in range(a.count):
        if i in got:
            h.update(got[i])
            n += len(got[i])
    print(n, h.hexdigest(), len(got), dups)


def cmd_udp_send(a):
    with open(a.file, "rb") as f:
        data = f.read()
    parts = [data[i:i + a.size] for i in range(0, len(data), a.size)]
    grams = [struct.pack(">Q", i) + b for i, b in enumerate(parts)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(addr(a.to))
    t0, sent, step = time.monotonic(), 0, 16 if a.gso else 1
    for i in range(0, len(grams), step):
        group = grams[i:i + step]
        if a.mbps:
            wait = t0 + sent * 8 / (a.mbps * 1e6) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if a.gso and len(group) > 1:
            seg = struct.pack("=H", len(group[0]))
            s.sendmsg([b"".join(group)], [(socket.SOL_UDP, UDP_SEGMENT, seg)])
        else:
            for g in group:
                s.send(g)
        sent += sum(len(g) for g in group)
    print(len(grams))


# ---- an impaired underlay --------------------------------------------------

def cmd_relay(a):
    import select
    import signal
    ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ls.bind(addr(a.listen))
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("0.0.0.0", 0))
    for sk in (ls, us):  # a burst must not overflow this slow relay (as root: uncapped)
        try:
            sk.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
        except OSError:
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    up = addr(a.to)
    st = {d: {"in": 0, "out": 0, "dup": 0, "swap": 0, "drop": 0} for d in ("up", "down")}
    held = {"up": None, "down": None}
    client = [None]
    import random
    rng = random.Random(a.seed)

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

    def fec_chosen(data):
        # a data frame (version 2, no flags), index 1, group id % N == 0
        return (len(data) > 8 and data[0] == 0x20 and data[2] == 1 and data[3] == 0 and
                int.from_bytes(data[4:8], "big") % a.drop_fec == 0)

    def process(d, data):
        st[d]["in"] += 1
        n = st[d]["in"]
        if a.drop_fec and fec_chosen(data):
            st[d]["drop"] += 1
            return
        if a.loss and rng.random() * 100 < a.loss:
            st[d]["drop"] += 1
            return
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


# ---- reading results -------------------------------------------------------

def cmd_intervals(a):
    ds = [json.loads(l) for l in sys.stdin if l.strip()]
    ts = [d["t"] for d in ds]
    iv = [b - a_ for a_, b in zip(ts, ts[1:])]
    seqs = [int(d["head"][24:40], 16) for d in ds if len(d["head"]) >= 40]
    out = {"count": len(ts)}
    if iv:
        out.update(median=round(statistics.median(iv), 3), min=round(min(iv), 3),
                   max=round(max(iv), 3))
    if len(seqs) == len(ds):
        out["seq_steps"] = sorted({b - a_ for a_, b in zip(seqs, seqs[1:])})
    print(json.dumps(out))


def cmd_ping(a):
    text = open(a.file, errors="replace").read()
    rtts = [float(m) for m in re.findall(r"time=([0-9.]+) ms", text)]
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    tx, rx = (int(m.group(1)), int(m.group(2))) if m else (None, len(rtts))
    out = {"transmitted": tx, "received": rx, "lost": None if tx is None else tx - rx,
           "n": len(rtts)}
    for k, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)):
        out[k] = round(pct(rtts, p), 3) if rtts else None
    print(json.dumps(out))


def cmd_iperf(a):
    doc = json.load(open(a.file))
    if "error" in doc:
        die(f"iperf3: {doc['error']}")
    end = doc["end"]
    sent, recv = end["sum_sent"], end["sum_received"]
    print(json.dumps({
        "sent_bytes": sent["bytes"], "received_bytes": recv["bytes"],
        "retransmits": sent.get("retransmits", 0),
        "mbps": round(recv["bits_per_second"] / 1e6, 1),
        "seconds": round(recv["seconds"], 2)}))


# Prometheus text format 0.0.4

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
FLOAT = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|Inf|NaN)"
SAMPLE_RE = re.compile(
    rf"^({NAME})(?:\{{((?:{LNAME}[ \t]*=[ \t]*{LVAL}[ \t]*(?:,[ \t]*{LNAME}[ \t]*=[ \t]*{LVAL}[ \t]*)*,?)?)\}})?"
    rf"[ \t]+({FLOAT})(?:[ \t]+(-?[0-9]+))?[ \t]*$")
LABEL_RE = re.compile(rf"[ \t]*({LNAME})[ \t]*=[ \t]*({LVAL})[ \t]*,?")
HELP_RE = re.compile(rf"^#[ \t]+HELP[ \t]+({NAME})(?:[ \t]+(.*))?$")
TYPE_RE = re.compile(rf"^#[ \t]+TYPE[ \t]+({NAME})[ \t]+(counter|gauge|histogram|summary|untyped)[ \t]*$")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v[1:-1])


def family_of(name, types):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    if name in types:
        return name
    for suf in ("_bucket", "_count", "_sum"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ("histogram", "summary"):
            return name[:-len(suf)]
    return name


def meta_line(line, where, kind, regex, seen, seen_fam, probs):
    """The match of a HELP or TYPE line, or None; its problems in probs."""
    m = regex.match(line)
    if not m:
        probs.append(f"{where}: malformed {kind} line")
        return None
    n = m.group(1)
    if n in seen:
        probs.append(f"{where}: second {kind} for {n}")
    if n in seen_fam:
        probs.append(f"{where}: {kind} for {n} after its samples")
    return m


def parse_metrics(text):
    """(samples {(name, frozenset(labels)): value}, problems [str])."""
    probs, helps, types, samples = [], {}, {}, {}
    seen_fam, closed, cur = set(), set(), None
    if text and not text.endswith("\n"):
        probs.append("the text does not end with a newline")
    for no, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        where = f"line {no}: {line[:80]!r}"
        if line == "":
            continue
        if line.startswith("#"):
            kind = line.split()[1:2]
            if kind == ["HELP"]:
                m = meta_line(line, where, "HELP", HELP_RE, helps, seen_fam, probs)
                if m and re.search(r"\\[^\\n]", m.group(2) or ""):
                    probs.append(f"{where}: bad escape in HELP text")
                if m:
                    helps[m.group(1)] = m.group(2) or ""
            elif kind == ["TYPE"]:
                m = meta_line(line, where, "TYPE", TYPE_RE, types, seen_fam, probs)
                if m:
                    types[m.group(1)] = m.group(2)
            continue  # (or a plain comment)
        m = SAMPLE_RE.match(line)
        if not m:
            probs.append(f"{where}: not a valid sample line")
            continue
        name, lbl, val = m.group(1), m.group(2) or "", m.group(3)
        labels = {}
        pos = 0
        for lm in LABEL_RE.finditer(lbl):
            if lm.start() != pos:
                probs.append(f"{where}: malformed label set")
            pos = lm.end()
            k = lm.group(1)
            if k in labels:
                probs.append(f"{where}: label {k} twice")
            if k.startswith("__"):
                probs.append(f"{where}: reserved label name {k}")
            labels[k] = unescape(lm.group(2))
        if pos != len(lbl):
            probs.append(f"{where}: malformed label set")
        fam = family_of(name, types)
        if fam != cur:
            if fam in closed:
                probs.append(f"{where}: samples of {fam} are not contiguous")
            if cur is not None:
                closed.add(cur)
            cur = fam
        seen_fam.add(fam)
        if fam not in types:
            probs.append(f"{where}: no TYPE line for {fam} before its first sample")
        if fam not in helps:
            probs.append(f"{where}: no HELP line for {fam} before its first sample")
        if types.get(fam) == "counter":
            if not fam.endswith("_total"):
                probs.append(f"{where}: counter {fam} is not named *_total")
            if not re.fullmatch(r"[0-9]+", val):
                probs.append(f"{where}: counter value {val} is not a non-negative integer")
        key = (name, frozenset(labels.items()))
        if key in samples:
            probs.append(f"{where}: the same sample appears twice")
        v = float(val.replace("Inf", "inf").replace("NaN", "nan"))
        samples[key] = int(v) if re.fullmatch(r"-?[0-9]+", val) else v
    # a family without samples is allowed (e.g. per-peer gauges before any
    # peer was heard from), but its HELP needs a TYPE
    for n in helps:
        if n not in types:
            probs.append(f"HELP for {n} without a TYPE")
    return samples, probs


def parse_key(k):
    m = re.match(rf"^({NAME})(?:\{{(.*)\}})?$", k)
    if not m:
        die(f"bad metric key {k!r}")
    labels = {lm.group(1): unescape(lm.group(2)) for lm in LABEL_RE.finditer(m.group(2) or "")}
    return m.group(1), frozenset(labels.items())


def cmd_metrics(a):
    samples, probs = parse_metrics(open(a.file).read())
    if probs:
        for p in probs:
            print(f"metrics: {p}", file=sys.stderr)
        sys.exit(1)
    for k in a.key:
        v = samples.get(parse_key(k))
        print("absent" if v is None else v)


# ---- a slow name server --------------------------------------------------------

def dns_question(q):
    """(id, name, qtype, end of the question) of a DNS query, or None."""
    if len(q) < 12:
        return None
    i, labels = 12, []
    while i < len(q) and q[i]:
        n = q[i]
        labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    if i + 5 > len(q):
        return None
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    return q[:2], ".".join(labels), qtype, i + 5


def dns_reply(q, ips):
    """The answer to q: an A record for each of ips ("IP[,IP...]"), in order."""
    qid, name, qtype, end = dns_question(q)
    an = ips.split(",") if ips and qtype == 1 else []
    hdr = qid + struct.pack("!HHHHH", 0x8180, 1, len(an), 0, 0)
    out = hdr + q[12:end]
    for ip in an:
        out += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(ip)
    return out


def cmd_dns(a):
    import threading
    answers = dict(x.split("=", 1) for x in a.answer)
    delays = {k: float(v) for k, v in (x.split("=", 1) for x in a.delay)}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(a.listen))
    s.settimeout(0.2)
    log = open(a.log, "a", buffering=1) if a.log else None
    if a.ready:
        open(a.ready, "w").close()

    def answer(q, peer):
        qq = dns_question(q)
        if not qq:
            return
        _, name, qtype, _ = qq
        if log:
            log.write(f"{time.monotonic():.3f} {name} {qtype}\n")
        time.sleep(delays.get(name, 0))
        s.sendto(dns_reply(q, answers.get(name)), peer)

    end = time.monotonic() + a.secs
    while time.monotonic() < end:
        try:
            q, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        threading.Thread(target=answer, args=(q, peer), daemon=True).start()


# ---- metrics over HTTP -----------------------------------------------------

def http_conn(a, timeout=10):
    c = socket.create_connection(addr(a.to), timeout=timeout,
                                 source_address=(a.from_, 0) if a.from_ else None)
    return c


def http_read(c, timeout):
    """The whole reply until the server closes: (status, headers, body, raw)."""
    c.settimeout(timeout)
    raw = b""
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            raw += b
    except (ConnectionResetError, socket.timeout):
        pass
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.[01] ([0-9]{3}) ", lines[0]) if lines else None
    hdrs = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return (int(m.group(1)) if m else None), hdrs, body, raw


def one_scrape(a):
    """None when the scrape is good, else why not; and the body."""
    c = http_conn(a)
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: subnetra\r\nUser-Agent: pkt.py\r\n\r\n")
    status, hdrs, body, _ = http_read(c, 10)
    c.close()
    if status != 200:
        return f"status {status}", body
    if hdrs.get("Connection") != "close":
        return "no Connection: close", body
    if int(hdrs.get("Content-Length", -1)) != len(body):
        return f"Content-Length {hdrs.get('Content-Length')} but {len(body)} bytes", body
    _, probs = parse_metrics(body.decode())
    return (f"invalid exposition: {probs[0]}" if probs else None), body


def cmd_scrape(a):
    n, ok, failed, worst, body = 0, 0, [], 0.0, b""
    end = time.monotonic() + a.secs
    while True:
        t0 = time.monotonic()
        why, body = one_scrape(a)
        worst = max(worst, time.monotonic() - t0)
        n += 1
        ok += why is None
        if why:
            failed.append(why)
        if time.monotonic() >= end:
            break
        time.sleep(max(0, a.every - (time.monotonic() - t0)))
    if a.out:
        open(a.out, "wb").write(body)
    print(json.dumps({"scrapes": n, "ok": ok, "failed": failed[:5],
                      "max_ms": round(worst * 1000, 1)}))
    sys.exit(1 if failed else 0)


def cmd_http(a):
    c = http_conn(a)
    c.sendall(a.request.replace("\\r", "\r").replace("\\n", "\n").encode())
    status, _, body, _ = http_read(c, 10)
    c.close()
    print(status, body.decode("latin-1").split("\n")[0])


def abuse_one(a, c, out, i):
    """Send in pieces, each after a look whether the server answered
    (then stop: a reset from sending on would discard the answer)."""
    import select
    data, step, pause = b"", 1, 0
    if a.mode == "slow":
        data, pause = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0.5
    elif a.mode == "huge":
        data, step = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * (1 << 20), 1024
    try:
        for k in range(0, len(data), step):
            if select.select([c], [], [], pause)[0]:
                break
            c.sendall(data[k:k + step])
    except OSError:
        pass
    out[i] = http_read(c, a.secs)[0]


def cmd_http_abuse(a):
    import threading
    conns = [http_conn(a) for _ in range(a.conns)]
    if a.ready:
        open(a.ready, "w").close()
    out = [None] * a.conns
    ts = [threading.Thread(target=abuse_one, args=(a, c, out, i)) for i, c in enumerate(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join(sorted(str(x) if x else "none" for x in out)))


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
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
    s = sub.add_parser("headers")
    s.add_argument("file", nargs="?")
    s = sub.add_parser("replay")
    s.add_argument("--iface", required=True)
    s.add_argument("--frames", required=True)
    s.add_argument("--times", type=int, default=1)
    s = sub.add_parser("udp-replay")
    s.add_argument("--frames", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--from", dest="from_", metavar="ADDR[:PORT]")
    s.add_argument("--times", type=int, default=1)
    s = sub.add_parser("udp")
    s.add_argument("--to", required=True)
    s.add_argument("--from", dest="from_", metavar="ADDR[:PORT]")
    s.add_argument("--pad", type=int, default=0)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("hex", nargs="*")
    s = sub.add_parser("tcp-recv")
    s.add_argument("--listen", required=True)
    s.add_argument("--ready", required=True)
    s.add_argument("--secs", type=float, default=60)
    s = sub.add_parser("tcp-send")
    s.add_argument("--to", required=True)
    s.add_argument("--file")
    s.add_argument("--bytes", type=int)
    s.add_argument("--mbps", type=float, default=0)
    s.add_argument("--secs", type=float, default=60)
    s.add_argument("--duration", type=float)
    s.add_argument("--ip-options", action="store_true")
    s.add_argument("--chunk", type=int, default=0)
    s.add_argument("--gap-us", type=int, default=0)
    s.add_argument("--cc")
    s = sub.add_parser("udp-recv")
    s.add_argument("--listen", required=True)
    s.add_argument("--ready", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--secs", type=float, default=60)
    s = sub.add_parser("udp-send")
    s.add_argument("--to", required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--gso", action="store_true")
    s.add_argument("--mbps", type=float, default=0)
    s = sub.add_parser("relay")
    s.add_argument("--listen", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--stats", required=True)
    s.add_argument("--ready")
    s.add_argument("--dup", type=int, default=0)
    s.add_argument("--swap", type=int, default=0)
    s.add_argument("--drop-fec", type=int, default=0)
    s.add_argument("--loss", type=float, default=0)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--secs", type=float, default=120)
    s = sub.add_parser("dns")
    s.add_argument("--listen", required=True)
    s.add_argument("--answer", action="append", default=[])
    s.add_argument("--delay", action="append", default=[])
    s.add_argument("--ready")
    s.add_argument("--log")
    s.add_argument("--secs", type=float, default=120)
    sub.add_parser("intervals")
    for name in ("ping", "iperf"):
        sub.add_parser(name).add_argument("file")
    s = sub.add_parser("metrics")
    s.add_argument("file")
    s.add_argument("key", nargs="*")
    for name in ("scrape", "http", "http-abuse"):
        s = sub.add_parser(name)
        s.add_argument("--to", required=True)
        s.add_argument("--from", dest="from_", metavar="ADDR")
        if name == "scrape":
            s.add_argument("--secs", type=float, default=0)
            s.add_argument("--every", type=float, default=1)
            s.add_argument("--out")
        elif name == "http":
            s.add_argument("--request", default="GET /metrics HTTP/1.1\\r\\n\\r\\n")
        else:
            s.add_argument("--mode", choices=("idle", "slow", "huge"), required=True)
            s.add_argument("--conns", type=int, required=True)
            s.add_argument("--secs", type=float, default=15)
            s.add_argument("--ready")
    return p


CMDS = {"sniff": cmd_sniff, "headers": cmd_headers, "replay": cmd_replay,
        "udp-replay": cmd_udp_replay, "udp": cmd_udp, "tcp-recv": cmd_tcp_recv,
        "tcp-send": cmd_tcp_send, "udp-recv": cmd_udp_recv, "udp-send": cmd_udp_send,
        "relay": cmd_relay, "intervals": cmd_intervals,
        "ping": cmd_ping, "iperf": cmd_iperf, "metrics": cmd_metrics, "dns": cmd_dns,
        "scrape": cmd_scrape, "http": cmd_http, "http-abuse": cmd_http_abuse}

if __name__ == "__main__":
    a = parser().parse_args()
    CMDS[a.cmd](a)
