#!/usr/bin/env python3
"""bench/trace_report.py - where the ping under TCP load waits (SN_TRACE=1 runs of bench/subnetra.sh).

Usage: trace_report.py TRACE_DIR [...]      (each SN_KEEP_LOGS/trace of bench/subnetra.sh)

The ping_load phase's echoes (the last ping process's ICMP id) at s2's and s3's TUN devices give
each way's one-way delay: the request s2 -> hub -> s3 (behind the TCP data), s3's kernel, the
reply s3 -> hub -> s2 (with the ACKs); median / p90 / p99 / max in ms. Then, from
trace_sample.py's samples in the same window: each daemon's share of a core it ran and the share
it was runnable but waiting for a CPU (schedstat), its UDP sockets' queued bytes, the TUN
device's drops, and the underlay sojourn of the window (the difference of the status histograms
at the phase's start and end, core/sojourn.h; each figure a bucket's lower bound).
"""
import json
import os
import struct
import sys

WAYS = [
    "request: s2 TUN -> s3 TUN (s2 daemon, hub, s3 daemon)",
    "s3 kernel: request in -> reply out",
    "reply: s3 TUN -> s2 TUN (s3 daemon, hub, s2 daemon)",
    "round trip at s2's TUN",
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


def echoes(path, kind):
    """{(ICMP id, seq): time} of the echo requests (kind 8) or replies (0) in a TUN capture"""
    out = {}
    for t, p in pcap(path):
        ihl = (p[0] & 15) * 4 if p else 0
        if len(p) >= ihl + 8 and p[9] == 1 and p[ihl] == kind:
            out.setdefault(struct.unpack(">HH", p[ihl + 4:ihl + 8]), t)
    return out


def follow(trace):
    """one-way delays [request, echo, reply, rtt] of the last ping process's echoes"""
    s2, s3 = (os.path.join(trace, n + "-subnetra0.pcap") for n in ("s2", "s3"))
    req, rep = echoes(s2, 8), echoes(s2, 0)
    at3, out3 = echoes(s3, 8), echoes(s3, 0)
    if not req:
        return None, 0, None, None
    pid = max(req.items(), key=lambda kv: kv[1])[0][0]
    keys = sorted((k for k in req if k[0] == pid), key=lambda k: req[k])
    good = [[at3[k] - req[k], out3[k] - at3[k], rep[k] - out3[k], rep[k] - req[k]]
            for k in keys if k in at3 and k in out3 and k in rep]
    return good, len(keys), (req[keys[0]], req[keys[-1]] + 0.05), hops(trace, keys,
                                                                       (req, at3, out3, rep))


HOPS = [  # (name, (from point, to point)); points: see hops()
    ("request: s2 TUN queue, until the s2 daemon read it", ("t0", "s2.tun")),
    ("request: s2 daemon after the read, link, until queued at the hub", ("s2.tun", "hub.arr8")),
    ("request: hub socket, until the hub took it", ("hub.arr8", "hub.got8")),
    ("request: hub daemon after taking it, link, until queued at s3", ("hub.got8", "s3.arr8")),
    ("request: s3 socket, until the s3 daemon took it", ("s3.arr8", "s3.got8")),
    ("request: s3 daemon after taking it, until in s3's TUN", ("s3.got8", "t5")),
    ("reply: s3 TUN queue, until the s3 daemon read it", ("t6", "s3.tun")),
    ("reply: s3 daemon after the read, link, until queued at the hub", ("s3.tun", "hub.arr0")),
    ("reply: hub socket, until the hub took it", ("hub.arr0", "hub.got0")),
    ("reply: hub daemon after taking it, link, until queued at s2", ("hub.got0", "s2.arr0")),
    ("reply: s2 socket, until the s2 daemon took it", ("s2.arr0", "s2.got0")),
    ("reply: s2 daemon after taking it, until in s2's TUN", ("s2.got0", "t11")),
]


def notes(trace, role):
    """{(type, id, seq): (tun|udp, arrival s, handled s)} of a daemon's SUBNETRA_PING_TRACE file"""
    out = {}
    try:
        for line in open(os.path.join(trace, role + ".ping")):
            src, typ, i, seq, arr, got = line.split()
            out.setdefault((int(typ), int(i), int(seq)), (src, int(arr) / 1e9, int(got) / 1e9))
    except OSError:
        pass
    return out


def hops(trace, keys, ends):
    """per hop, the delays of the pings every point of which is known"""
    req, at3, out3, rep = ends
    nt = {r: notes(trace, r) for r in ("s2", "hub", "s3")}
    if not any(nt.values()):
        return None
    rows = [[] for _ in HOPS]
    for k in keys:
        r8, r0 = (8,) + k, (0,) + k
        pt = {"t0": req.get(k), "t5": at3.get(k), "t6": out3.get(k), "t11": rep.get(k)}
        for role in ("s2", "hub", "s3"):
            for typ, key in ((8, r8), (0, r0)):
                v = nt[role].get(key)
                if not v:
                    continue
                if v[0] == "tun":
                    pt[f"{role}.tun"] = v[2]
                else:
                    pt[f"{role}.arr{typ}"] = v[1] or None
                    pt[f"{role}.got{typ}"] = v[2]
        for i, (_, (a, b)) in enumerate(HOPS):
            if pt.get(a) and pt.get(b):
                rows[i].append(pt[b] - pt[a])
    return rows


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))] if v else float("nan")


def fmt(v):
    if not v:
        return "-"
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
    run = wait = slices = 0
    for tid, v in b["threads"].items():
        if tid in a["threads"]:
            run += v[0] - a["threads"][tid][0]
            wait += v[1] - a["threads"][tid][1]
            slices += v[2] - a["threads"][tid][2]
    rx = [max((u[2] for u in r["nodes"][role]["udp"]), default=0) for r in rs]
    tx = [max((u[1] for u in r["nodes"][role]["udp"]), default=0) for r in rs]
    dr = None
    if a["tun_dropped"] is not None and b["tun_dropped"] is not None:
        dr = b["tun_dropped"] - a["tun_dropped"]
    return {"cpu": run / wall, "runq_wait": wait / wall, "wait_per_slice": wait / max(slices, 1) / 1e6, "rxq_mean_kib": sum(rx) / len(rx) / 1024,
            "rxq_max_kib": max(rx) / 1024, "txq_max_kib": max(tx) / 1024, "tun_dropped": dr,
            "samples": len(rs)}


def report(trace):
    good, total, win, rows = follow(trace)
    print(f"## {trace}\n")
    if good is None:
        print("no ping in the trace\n")
        return
    print(f"{len(good)} of {total} pings answered; median / p90 / p99 / max, ms\n")
    print("| way | ms |\n|---|---|")
    for k, h in enumerate(WAYS):
        print(f"| {h} | {fmt([g[k] for g in good])} |")
    if rows:
        print("\nHop by hop (the daemons' SUBNETRA_PING_TRACE notes and the TUN captures share "
              "CLOCK_REALTIME):\n")
        print("| hop | pings | ms |\n|---|---|---|")
        for (h, _), v in zip(HOPS, rows):
            print(f"| {h} | {len(v)} | {fmt(v)} |")
    recs, stats = samples(trace, win)
    print("\n| node | CPU (share of a core) | runnable, waiting for a CPU | wait per wake-up, ms | UDP rx queue mean / max "
          "KiB | UDP tx queue max KiB | TUN tx_dropped | underlay sojourn p50 / p90 / p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for role in ("s2", "hub", "s3"):
        f = node_figs(recs, role)
        s = sojourn_delta((stats.get("start") or {}).get(role), (stats.get("end") or {}).get(role))
        sj = " / ".join(s.get(k, "-") for k in ("p50", "p90", "p99")) if s else "-"
        if not f:
            print(f"| {role} | - | - | - | - | - | - | {sj} |")
            continue
        print(f"| {role} | {f['cpu']:.2f} | {f['runq_wait']:.2f} | {f['wait_per_slice']:.3f} | {f['rxq_mean_kib']:.0f} / "
              f"{f['rxq_max_kib']:.0f} | {f['txq_max_kib']:.0f} | {f['tun_dropped']} | {sj} |")
    print()


if __name__ == "__main__":
    for d in sys.argv[1:]:
        report(d)
