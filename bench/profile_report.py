#!/usr/bin/env python3
"""bench/profile_report.py DIR — summarise one bench/profile.sh directory (one implementation).

Prints per node (hub, s2, s3): %user / %sys of one core, underlay datagrams/s, system calls per
datagram (perf tracepoint count, and strace -c for hub and s2 with the top system calls), and the
throughput of the TCP stream in each window. `--json` prints the same as JSON.
"""
import json
import os
import re
import sys

ROLE_NS = {"hub": "sn-hub", "s2": "sn-s2", "s3": "sn-s3"}
D = sys.argv[1]
AS_JSON = "--json" in sys.argv[2:]


def rd(name):
    p = os.path.join(D, name)
    return open(p).read() if os.path.exists(p) else None


def parse_counters(name):
    s = rd(name)
    if s is None:
        return None
    c = {"procs": {}, "dev": {}, "udp": {}}
    for line in s.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "t":
            c["t"] = float(f[1])
        elif f[0] == "cpu":
            c["cpu"] = [int(x) for x in f[1:]]
        elif f[0] == "proc" and len(f) >= 5:
            c["procs"][f[1]] = (int(f[3]), int(f[4]))
        elif f[0] == "dev" and len(f) >= 7:
            c["dev"][(f[1], f[2])] = [int(x) for x in f[3:7]]
        elif f[0] == "udp" and len(f) >= 6:
            c["udp"][f[1]] = [int(x) for x in f[2:6]]
    return c


def window(w):
    a, b = parse_counters(w + ".before"), parse_counters(w + ".after")
    if not a or not b:
        return None
    clk = os.sysconf("SC_CLK_TCK")
    wall = b["t"] - a["t"]
    out = {"t0": a["t"], "t1": b["t"], "wall_s": round(wall, 3), "nodes": {}}
    for role, ns in ROLE_NS.items():
        n = {}
        if role in a["procs"] and role in b["procs"]:
            (u0, s0), (u1, s1) = a["procs"][role], b["procs"][role]
            n["user_pct"] = round(100.0 * (u1 - u0) / clk / wall, 1)
            n["sys_pct"] = round(100.0 * (s1 - s0) / clk / wall, 1)
        rx = tx = 0
        for (dns, ifc), v0 in a["dev"].items():
            if dns != ns or (dns, ifc) not in b["dev"]:
                continue
            v1 = b["dev"][(dns, ifc)]
            rx += v1[0] - v0[0]
            tx += v1[1] - v0[1]
        n["dgrams"] = rx + tx
        n["dgrams_per_s"] = round((rx + tx) / wall)
        if ns in a["udp"] and ns in b["udp"]:
            n["udp_rcvbuf_errors"] = b["udp"][ns][2] - a["udp"][ns][2]
        out["nodes"][role] = n
    c0, c1 = a["cpu"], b["cpu"]
    dd = [(y - x) / clk for x, y in zip(c0, c1)]
    tot = sum(dd[:8]) or 1
    out["machine"] = {"user_pct": round(100 * (dd[0] + dd[1]) / tot, 1), "sys_pct": round(100 * dd[2] / tot, 1),
                      "softirq_pct": round(100 * (dd[5] + dd[6]) / tot, 1), "idle_pct": round(100 * (dd[3] + dd[4]) / tot, 1)}
    return out


def iperf_gbps(t0, t1):
    s = rd("iperf.json")
    if not s:
        return None
    try:
        j = json.loads(s)
    except ValueError:
        return None
    start = j.get("start", {}).get("timestamp", {}).get("timesecs")
    if start is None:
        return None
    bits = secs = 0.0
    for iv in j.get("intervals", []):
        su = iv["sum"]
        a, b = start + su["start"], start + su["end"]
        if a >= t0 - 0.5 and b <= t1 + 0.5:
            bits += su["bytes"] * 8
            secs += su["seconds"]
    return round(bits / secs / 1e9, 3) if secs else None


def perfstat(role):
    s = rd("perfstat." + role)
    if not s:
        return None
    for line in s.splitlines():
        f = line.split(",")
        if len(f) > 2 and "raw_syscalls:sys_enter" in line:
            try:
                return int(f[0])
            except ValueError:
                return None
    return None


def strace(role):
    s = rd("strace." + role)
    if not s:
        return None
    rows = []
    total = None
    for line in s.splitlines():
        f = line.split()
        if len(f) >= 5 and re.match(r"^[\d.]+$", f[0]):
            try:
                pct, secs, usec, calls = float(f[0]), float(f[1]), int(f[2]), int(f[3])
            except ValueError:
                continue
            errors = int(f[4]) if len(f) == 6 else 0
            name = f[-1]
            if name == "total":
                total = {"pct": pct, "secs": secs, "calls": calls, "errors": errors}
            else:
                rows.append({"syscall": name, "pct": pct, "secs": secs, "calls": calls, "errors": errors})
    return {"rows": rows, "total": total}


def main():
    res = {"impl": os.path.basename(os.path.normpath(D))}
    w1, w2, w3 = window("w1"), window("w2"), window("w3")
    res["w1_proc"] = w1
    if w1:
        res["w1_proc"]["gbps"] = iperf_gbps(w1["t0"], w1["t1"])
    res["w2_perf"] = w2
    if w2:
        w2["gbps"] = iperf_gbps(w2["t0"], w2["t1"])
        for role, n in w2["nodes"].items():
            c = perfstat(role)
            n["syscalls"] = c
            if c is not None and n["dgrams"]:
                n["syscalls_per_dgram"] = round(c / n["dgrams"], 3)
    res["w3_strace"] = w3
    if w3:
        w3["gbps"] = iperf_gbps(w3["t0"], w3["t1"])
        for role, n in w3["nodes"].items():
            st = strace(role)
            if not st:
                continue
            n["strace"] = st
            if st["total"] and n["dgrams"]:
                n["syscalls_per_dgram"] = round(st["total"]["calls"] / n["dgrams"], 3)
                for r in st["rows"]:
                    r["per_dgram"] = round(r["calls"] / n["dgrams"], 3)
    top = rd("perf.hub.dso")
    res["perf_hub_dso"] = top.splitlines() if top else None
    top = rd("perf.hub.top")
    res["perf_hub_top"] = top.splitlines()[:25] if top else None
    if AS_JSON:
        print(json.dumps(res, indent=1))
        return

    print("== profile: %s (TCP 1 stream s2->s3 via hub)" % res["impl"])
    if w1:
        print("window 1 (/proc only, %.1f s): %s Gbit/s; machine user %s%% sys %s%% softirq %s%% idle %s%%" % (
            w1["wall_s"], w1.get("gbps"), w1["machine"]["user_pct"], w1["machine"]["sys_pct"],
            w1["machine"]["softirq_pct"], w1["machine"]["idle_pct"]))
        for role, n in w1["nodes"].items():
            u, s = n.get("user_pct"), n.get("sys_pct")
            share = "" if u is None or not (u + s) else " (sys = %.0f%% of the daemon's CPU)" % (100.0 * s / (u + s))
            print("  %-3s daemon: user %5s%%  sys %5s%% of one core%s; underlay %s dgrams/s; rcvbuf drops %s" % (
                role, u, s, share, "{:,}".format(n["dgrams_per_s"]), n.get("udp_rcvbuf_errors")))
    if w2:
        print("window 2 (perf stat raw_syscalls:sys_enter, %.1f s): %s Gbit/s" % (w2["wall_s"], w2.get("gbps")))
        for role, n in w2["nodes"].items():
            print("  %-3s %s syscalls, %s underlay dgrams -> %s syscalls/dgram" % (
                role, n.get("syscalls"), n["dgrams"], n.get("syscalls_per_dgram")))
    if w3:
        print("window 3 (strace -c -f on hub and s2, %.1f s): %s Gbit/s (ptrace slows the daemons)" % (
            w3["wall_s"], w3.get("gbps")))
        for role, n in w3["nodes"].items():
            st = n.get("strace")
            if not st:
                continue
            print("  %s: %s syscalls for %s dgrams -> %s/dgram" % (
                role, st["total"]["calls"] if st["total"] else "?", n["dgrams"], n.get("syscalls_per_dgram")))
            for r in sorted(st["rows"], key=lambda r: -r["calls"])[:8]:
                print("     %-14s %9d calls  %6s/dgram  %5.1f%% of traced syscall time  %d errors" % (
                    r["syscall"], r["calls"], r.get("per_dgram"), r["pct"], r["errors"]))
    if res["perf_hub_dso"]:
        print("perf record -e cpu-clock on the hub, by object:")
        for line in res["perf_hub_dso"][:8]:
            print("   " + line.strip())
    if res["perf_hub_top"]:
        print("perf record on the hub, top symbols:")
        for line in res["perf_hub_top"][:15]:
            print("   " + line.strip())


main()
