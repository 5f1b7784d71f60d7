#!/usr/bin/env python3
"""bench/trace_report.py - where the ping under TCP load waits, hop by hop (SN_TRACE=1 runs).

Usage: trace_report.py TRACE_DIR [...]      (each SN_KEEP_LOGS/trace of bench/subnetra.sh)

The ping_load phase's echo requests (the last ping process's ICMP id at s2's TUN) are followed
through the twelve capture points of bench/subnetra.sh's trace (TUN and underlay of each node,
both ways), matched hop by hop in order (the links keep it); a ping whose chain does not end at
the same ICMP sequence number is left out (a drop on the way). Per hop: median / p90 / p99 /
max in ms. Then, from trace_sample.py's samples in the same window: each daemon's share of the
time its threads ran and waited runnable for a CPU, its UDP sockets' queued bytes, the TUN
device's drops, and the underlay sojourn (core/sojourn.h) of the window.
With several directories, the hop table has one column per run and the figures side by side.
"""
import json
import os
import struct
import sys

POINTS = [  # name, file, kind, match
    ("s2 tun out (request)", "s2-subnetra0", "icmp", 8),
    ("s2 underlay out", "s2-sn-u", "src", "172.31.2.2"),
    ("hub in from s2", "hub-sn-hs2", "src", "172.31.2.2"),
    ("hub out to s3", "hub-sn-hs3", "dst", "172.31.3.2"),
    ("s3 underlay in", "s3-sn-u", "dst", "172.31.3.2"),
    ("s3 tun in (request)", "s3-subnetra0", "icmp", 8),
    ("s3 tun out (reply)", "s3-subnetra0", "icmp", 0),
    ("s3 underlay out", "s3-sn-u", "src", "172.31.3.2"),
    ("hub in from s3", "hub-sn-hs3", "src", "172.31.3.2"),
    ("hub out to s2", "hub-sn-hs2", "dst", "172.31.2.2"),
    ("s2 underlay in", "s2-sn-u", "dst", "172.31.2.2"),
    ("s2 tun in (reply)", "s2-subnetra0", "icmp", 0),
]
HOPS = [
    "s2: TUN queue + daemon (read, seal, send)",
    "link s2->hub",
    "hub: backlog + socket + daemon (open, seal, send)",
    "link hub->s3",
    "s3: backlog + socket + daemon (open, write TUN)",
    "s3: kernel echo",
    "s3: TUN queue + daemon (read, seal, send)",
    "link s3->hub",
    "hub: backlog + socket + daemon",
    "link hub->s2",
    "s2: backlog + socket + daemon (open, write TUN)",
]


def pcap(path):
    """[(t, ip bytes)] of a pcap with nanosecond (or microsecond) timestamps"""
    out = []
    with open(path, "rb") as f:
        d = f.read()
    if len(d) < 24:
        return out
    magic = struct.unpack("<I", d[:4])[0]
    div = 1e9 if magic == 0xa1b23c4d else 1e6
    link = struct.unpack("<I", d[20:24])[0]
    off = 14 if link == 1 else 0
    i = 24
    while i + 16 <= len(d):
        s, frac, cap, _ = struct.unpack("<IIII", d[i:i + 16])
        out.append((s + frac / div, d[i + 16 + off:i + 16 + cap]))
        i += 16 + cap
    return out


def ip4(b):
    return ".".join(str(x) for x in b)


def point(caps, kind, match):
    out = []
    for t, p in caps:
        if len(p) < 28:
            continue
        if kind == "icmp":
            ihl = (p[0] & 15) * 4
            if p[9] == 1 and p[ihl] == match:
                out.append((t, struct.unpack(">HH", p[ihl + 4:ihl + 8])))
        elif ip4(p[12:16] if kind == "src" else p[16:20]) == match:
            out.append((t, None))
    return out


def follow(trace):
    caps = {}
    for _, f, _, _ in POINTS:
        if f not in caps:
            caps[f] = pcap(os.path.join(trace, f + ".pcap"))
    pts = [point(caps[f], k, m) for _, f, k, m in POINTS]
    req = pts[0]
    if not req:
        return None, 0, None
    pid = req[-1][1][0]
    start = [t for t, (i, _) in req if i == pid][0]
    chains = [[(t, seq)] for t, (i, seq) in req if i == pid]
    for k in range(1, len(POINTS)):
        later = [x for x in pts[k] if x[0] >= start - 0.001]
        j = 0
        for c in chains:
            if c is None or len(c) < k:
                continue
            t = c[-1][0]
            while j < len(later) and later[j][0] < t:
                j += 1
            if j < len(later) and later[j][0] - t < 0.5:
                c.append(later[j])
                j += 1
    good = []
    for c in chains:
        if len(c) != len(POINTS) or c[5][1] != c[0][1] or c[6][1] != c[0][1] or c[11][1] != c[0][1]:
            continue
        good.append([c[k + 1][0] - c[k][0] for k in range(len(POINTS) - 1)] + [c[-1][0] - c[0][0]])
    return good, len(chains), (start, chains[-1][0][0] + 0.05)


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))] if v else float("nan")


def fmt(v):
    return f"{q(v, .5) * 1e3:.2f} / {q(v, .9) * 1e3:.2f} / {q(v, .99) * 1e3:.2f} / {max(v) * 1e3:.2f}"


def samples(trace, win):
    recs, stats = [], {}
    try:
        for line in open(os.path.join(trace, "samples.jsonl")):
            r = json.loads(line)
            if "status" in r:
                stats[r["status"]] = r["nodes"]
            elif win[0] <= r["t"] <= win[1]:
                recs.append(r)
    except OSError:
        pass
    return recs, stats


def sojourn_delta(a, b):
    """quantiles of the sojourn histogram b - a (lists of [lo_us, count])"""
    if not a or not b:
        return None
    ca = {lo: c for lo, c in a["node"]["sojourn"]["buckets"]}
    d = sorted((lo, c - ca.get(lo, 0)) for lo, c in b["node"]["sojourn"]["buckets"])
    d = [(lo, c) for lo, c in d if c > 0]
    n = sum(c for _, c in d)
    if not n:
        return {"packets": 0}
    out = {"packets": n}
    los = [lo for lo, _ in d]
    for name, p in (("p50", .5), ("p90", .9), ("p99", .99)):
        seen = 0
        for i, (lo, c) in enumerate(d):
            seen += c
            if seen >= p * n:
                out[name] = f">= {lo / 1000:.3f} ms"
                break
    out["max_bucket"] = f">= {los[-1] / 1000:.3f} ms"
    return out


def node_figs(recs, role):
    rs = [r for r in recs if role in r["nodes"]]
    if len(rs) < 2:
        return {}
    a, b = rs[0]["nodes"][role], rs[-1]["nodes"][role]
    wall = (rs[-1]["t"] - rs[0]["t"]) * 1e9
    run = wait = 0
    for tid, v in b["threads"].items():
        if tid in a["threads"]:
            run += v[0] - a["threads"][tid][0]
            wait += v[1] - a["threads"][tid][1]
    rx = [max((u[2] for u in r["nodes"][role]["udp"]), default=0) for r in rs]
    tx = [max((u[1] for u in r["nodes"][role]["udp"]), default=0) for r in rs]
    dr = None
    if a["tun_dropped"] is not None and b["tun_dropped"] is not None:
        dr = b["tun_dropped"] - a["tun_dropped"]
    return {"cpu": run / wall, "runq_wait": wait / wall, "rxq_mean_kib": sum(rx) / len(rx) / 1024,
            "rxq_max_kib": max(rx) / 1024, "txq_max_kib": max(tx) / 1024, "tun_dropped": dr,
            "samples": len(rs)}


def report(trace):
    good, total, win = follow(trace)
    print(f"## {trace}\n")
    if good is None:
        print("no ping in the trace\n")
        return
    print(f"{len(good)} of {total} pings followed through all 12 points; per hop median / p90 / "
          f"p99 / max, ms\n")
    print("| hop | ms |\n|---|---|")
    for k, h in enumerate(HOPS + ["round trip"]):
        print(f"| {h} | {fmt([g[k] for g in good])} |")
    recs, stats = samples(trace, win)
    print("\n| node | CPU (share of a core) | runnable, waiting for a CPU | UDP rx queue mean / max "
          "KiB | UDP tx queue max KiB | TUN tx_dropped | underlay sojourn p50 / p90 / p99 |")
    print("|---|---|---|---|---|---|---|")
    for role in ("s2", "hub", "s3"):
        f = node_figs(recs, role)
        s = sojourn_delta((stats.get("start") or {}).get(role), (stats.get("end") or {}).get(role))
        sj = " / ".join(s.get(k, "-") for k in ("p50", "p90", "p99")) if s else "-"
        if not f:
            print(f"| {role} | - | - | - | - | - | {sj} |")
            continue
        print(f"| {role} | {f['cpu']:.2f} | {f['runq_wait']:.2f} | {f['rxq_mean_kib']:.0f} / "
              f"{f['rxq_max_kib']:.0f} | {f['txq_max_kib']:.0f} | {f['tun_dropped']} | {sj} |")
    print()


if __name__ == "__main__":
    for d in sys.argv[1:]:
        report(d)
