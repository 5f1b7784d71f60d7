#!/usr/bin/env python3
"""bench/table.py RESULTS.jsonl [--raw] [--json] [--md] — one table: medians per metric for every
implementation measured in one bench/run.sh session, and the ratio Subnetra / each peer.

Input: the RESULT lines that the shared harness's run-bench.sh appends to results.jsonl (its
report.py format). Runs tagged "debug" are ignored. Subnetra's runs are those whose impl is
"subnetra" (the basename of bench/subnetra.sh).

Ratio = Subnetra median / peer median, for every metric. Whether higher is better depends on the
metric (column "better"): for throughput a ratio > 1 means Subnetra is ahead, for latency, CPU
and memory a ratio < 1 does. "best peer" is the best median among the peers (excluding `none`,
the unencrypted ceiling, and tagged Subnetra variants such as subnetra[q100]) for that metric, with Subnetra's ratio to it.
Cells: "median [Subnetra/peer]"; --wide puts the ratios in their own columns.
The two "UDP 64 B" sub-rows come from the runs' /proc snapshots (runs/ next to the jsonl):
they separate what the VPN delivered from what the iperf3 receiver managed to read.
--raw adds one table of the per-round numbers; --json prints the aggregate as JSON.
--crypto FILE (bench/crypto_seal's output, which bench/run.sh makes in the same session) adds the
"limit" rows: each crypto plugin's seal rate for 1420-byte packets on one core, the relay ceiling
it implies (a relayed packet costs 4 seals/opens, the star has 2 cores) and Subnetra's share of
it (its median TCP 1 stream s2->s3); --crypto-in-use names the plugin Subnetra ran on.
"""
import argparse
import json
import os
import signal
import statistics
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `table.py ... | head` ends quietly

SUBJECT = "subnetra"
ORDER = [SUBJECT, "wireguard-go", "nebula", "tinc", "fastd", "openvpn", "none"]


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def role_cpu(r, test, role):
    h = get(r, test + ".cpu.roles." + role)
    return None if not h else h["user_s"] + h["sys_s"]


def kib_to_mib(v):
    return None if not v else v / 1024.0


# key, label, extractor, format, better ("hi" / "lo")
METRICS = [
    ("tcp1_hub", "TCP 1 stream s2->hub, Gbit/s", lambda r: get(r, "tcp1_hub.gbps"), "{:.3f}", "hi"),
    ("tcp1_relay", "TCP 1 stream s2->s3 via hub, Gbit/s", lambda r: get(r, "tcp1_relay.gbps"), "{:.3f}", "hi"),
    ("tcp4_relay", "TCP 4 streams s2->s3 via hub, Gbit/s", lambda r: get(r, "tcp4_relay.gbps"), "{:.3f}", "hi"),
    ("udp64_pps", "UDP 64 B s2->s3, received kpkt/s", lambda r: (get(r, "udp64_relay.rx_pps") or 0) / 1000.0 or None, "{:.1f}", "hi"),
    ("udp64_dev", "  delivered into s3's overlay device, kpkt/s", lambda r: get(r, "_x.udp64_s3_dev_kpps"), "{:.1f}", "hi"),
    ("udp64_qdrop", "  dropped at s2's overlay device queue, kpkt/s", lambda r: get(r, "_x.udp64_s2_qdrop_kpps"), "{:.0f}", "lo"),
    ("udp64_loss", "UDP 64 B s2->s3, loss %", lambda r: get(r, "udp64_relay.loss_pct"), "{:.1f}", "lo"),
    ("ping_idle_med", "ping s2->s3 idle, median ms", lambda r: get(r, "ping_idle.median_ms"), "{:.3f}", "lo"),
    ("ping_idle_p99", "ping s2->s3 idle, p99 ms", lambda r: get(r, "ping_idle.p99_ms"), "{:.3f}", "lo"),
    ("ping_load_med", "ping s2->s3 under TCP load, median ms", lambda r: get(r, "ping_load.median_ms"), "{:.2f}", "lo"),
    ("ping_load_p99", "ping s2->s3 under TCP load, p99 ms", lambda r: get(r, "ping_load.p99_ms"), "{:.2f}", "lo"),
    ("cpu_hub", "daemon CPU-s in the TCP s2->hub test (all 3)", lambda r: get(r, "tcp1_hub.cpu.vpn_cpu_s"), "{:.2f}", "lo"),
    ("cpu_relay", "daemon CPU-s in the TCP s2->s3 test (all 3)", lambda r: get(r, "tcp1_relay.cpu.vpn_cpu_s"), "{:.2f}", "lo"),
    ("cpu_relay_hub", "  of which hub daemon", lambda r: role_cpu(r, "tcp1_relay", "hub"), "{:.2f}", "lo"),
    ("cpu_relay_sys", "  of which kernel (sys) time", lambda r: get(r, "tcp1_relay.cpu.vpn_sys_s"), "{:.2f}", "lo"),
    ("eff_hub", "Gbit per daemon CPU-s, s2->hub", lambda r: get(r, "tcp1_hub.gbit_per_vpn_cpu_s"), "{:.3f}", "hi"),
    ("eff_relay", "Gbit per daemon CPU-s, s2->s3", lambda r: get(r, "tcp1_relay.gbit_per_vpn_cpu_s"), "{:.3f}", "hi"),
    ("retr_relay", "TCP retransmits, s2->s3 test", lambda r: get(r, "tcp1_relay.retransmits"), "{:,.0f}", "lo"),
    ("drops_relay", "UDP rcvbuf drops, s2->s3 test (all ns)", lambda r: get(r, "tcp1_relay.cpu.udp_rcvbuf_errors"), "{:,.0f}", "lo"),
    ("rss_hub", "peak RSS hub daemon, MiB", lambda r: kib_to_mib(get(r, "rss.hub.hwm_kb")), "{:.1f}", "lo"),
    ("rss_total", "peak RSS all 3 daemons, MiB", lambda r: kib_to_mib(r.get("rss_peak_total_kb")), "{:.1f}", "lo"),
]


def read_dev(path):
    """dev lines of a run-bench.sh snapshot: {(ns, iface): [rx_bytes, rx_pkts, rx_drop, tx_bytes, tx_pkts, tx_drop]}"""
    out = {}
    try:
        fh = open(path)
    except OSError:
        return None
    with fh:
        for line in fh:
            f = line.split()
            if len(f) >= 9 and f[0] == "dev":
                out[(f[1], f[2])] = [int(x) for x in f[3:9]]
    return out


def enrich(r, runs_dir):
    """Numbers report.py does not keep, from the run's /proc snapshots: during the UDP 64 B test,
    the packets the s3 daemon wrote into its overlay device (what the VPN delivered, before the
    iperf3 receiver's own socket) and the packets dropped by s2's overlay device queue (the
    sender's VPN could not read them in time)."""
    if not runs_dir or not r.get("ts"):
        return
    name = "%s-%s%s" % (r["ts"], r["impl"], "-" + r["tag"] if r.get("tag") else "")
    d = os.path.join(runs_dir, name)
    a, b = read_dev(os.path.join(d, "udp64_relay.before")), read_dev(os.path.join(d, "udp64_relay.after"))
    if not a or not b:
        return
    secs = (get(r, "duration_s") or 10)
    for (ns, ifc), v0 in a.items():
        if ifc == "lo" or ifc.startswith("sn-") or (ns, ifc) not in b:
            continue
        v1 = b[(ns, ifc)]
        if ns == "sn-s3":
            r.setdefault("_x", {})["udp64_s3_dev_kpps"] = (v1[1] - v0[1]) / secs / 1000.0
        elif ns == "sn-s2":
            r.setdefault("_x", {})["udp64_s2_qdrop_kpps"] = (v1[5] - v0[5]) / secs / 1000.0


def load(path):
    runs = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if (r.get("tag") or "") == "debug":
                continue
            runs.append(r)
    return runs


def group(runs):
    g = {}
    for r in runs:
        tag = r.get("tag") or ""
        name = r["impl"] + ("[%s]" % tag if tag else "") + (" netem=%s" % r["netem"] if r.get("netem") else "")
        g.setdefault(name, []).append(r)

    def key(n):
        base = n.split()[0].split("[")[0]
        return (ORDER.index(base) if base in ORDER else 50, n)
    return {n: g[n] for n in sorted(g, key=key)}


def aggregate(groups):
    agg = {}
    for n, rs in groups.items():
        agg[n] = {"runs": len(rs)}
        for key, label, fn, fmt, better in METRICS:
            vals = [v for v in (fn(r) for r in rs) if v is not None]
            if vals:
                agg[n][key] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                               "n": len(vals), "values": vals}
    return agg


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    if x is None:
        return "–"
    return "%.2f" % x if x < 10 else "%.1f" % x


def med(agg, n, key):
    a = agg.get(n, {}).get(key)
    return a["median"] if a else None


def print_table(agg, subject, wide=False):
    names = list(agg)
    peers = [n for n in names if n != subject]
    real_peers = [n for n in peers if n.split()[0] != "none" and not n.split()[0].startswith(subject)]
    hdr = ["metric (median over rounds)", "better", "%s ×%d" % (subject, agg.get(subject, {}).get("runs", 0))]
    for p in peers:
        if wide:
            hdr.append("%s ×%d" % (p, agg[p]["runs"]))
            hdr.append("sn/%s" % p.split()[0])
        else:
            hdr.append("%s ×%d [sn/it]" % (p, agg[p]["runs"]))
    hdr += ["best peer", "sn/best"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for key, label, fn, fmt, better in METRICS:
        s = med(agg, subject, key)
        row = [label, "higher" if better == "hi" else "lower", "–" if s is None else fmt.format(s)]
        for p in peers:
            v = med(agg, p, key)
            if wide:
                row.append("–" if v is None else fmt.format(v))
                row.append(fmt_ratio(ratio(s, v)))
            elif v is None:
                row.append("–")
            else:
                r = ratio(s, v)
                row.append(fmt.format(v) + ("" if r is None else " [%s]" % fmt_ratio(r)))
        cand = [(med(agg, p, key), p) for p in real_peers if med(agg, p, key) is not None]
        if cand:
            bv, bp = (max if better == "hi" else min)(cand)
            row.append("%s %s" % (bp.split()[0], fmt.format(bv)))
            row.append(fmt_ratio(ratio(s, bv)))
        else:
            row += ["–", "–"]
        print("| " + " | ".join(row) + " |")


def read_crypto(path):
    """crypto_seal's JSON lines: [{impl, len, seal_pps, open_pps, ceiling_gbit, ...}]"""
    out = []
    with open(path) as fh:
        for line in fh:
            if line.startswith("JSON "):
                out.append(json.loads(line[5:]))
    return out


def print_limits(agg, subject, rows, in_use):
    if not rows:
        return
    relay = med(agg, subject, "tcp1_relay")
    names = ["%s%s" % (r["impl"], " (in use)" if r["impl"] == in_use else "") for r in rows]
    print()
    print("Limit (bench/crypto_seal, same session: %d-byte packets, one core, median of %d runs; "
          "ceiling = 2 cores x seal rate / 4 seals or opens per relayed packet):" % (rows[0]["len"], rows[0]["runs"]))
    print()
    print("| limit | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(rows))
    print("| seal, kpkt/s on one core | " + " | ".join("%.0f" % (r["seal_pps"] / 1e3) for r in rows) + " |")
    print("| open, kpkt/s on one core | " + " | ".join("%.0f" % (r["open_pps"] / 1e3) for r in rows) + " |")
    print("| relay ceiling, Gbit/s | " + " | ".join("%.2f" % r["ceiling_gbit"] for r in rows) + " |")
    if relay is not None:
        print("| %s TCP 1 stream s2->s3 (%.3f Gbit/s), share of the ceiling | " % (subject, relay) +
              " | ".join("%.0f %%" % (100.0 * relay / r["ceiling_gbit"]) for r in rows) + " |")


def print_raw(groups):
    print()
    print("Per-round raw numbers (in run order, one column per run):")
    for n, rs in groups.items():
        print()
        print("%s (%d runs: %s)" % (n, len(rs), ", ".join(r.get("ts") or "?" for r in rs)))
        print("| metric | " + " | ".join("r%d" % (i + 1) for i in range(len(rs))) + " |")
        print("|---|" + "---|" * len(rs))
        for key, label, fn, fmt, better in METRICS:
            cells = []
            for r in rs:
                v = fn(r)
                cells.append("–" if v is None else fmt.format(v))
            print("| %s | %s |" % (label.strip(), " | ".join(cells)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("--raw", action="store_true", help="also print the per-round numbers")
    ap.add_argument("--json", action="store_true", help="print the aggregate as JSON")
    ap.add_argument("--wide", action="store_true", help="values and ratios in separate columns")
    ap.add_argument("--runs", help="run-bench.sh run directories (default: runs/ next to PATH)")
    ap.add_argument("--skip-tagged", action="store_true", help="leave out tagged runs (variants)")
    ap.add_argument("--subject", default=SUBJECT, help="the implementation the ratios are about")
    ap.add_argument("--crypto", help="bench/crypto_seal output: add the limit rows")
    ap.add_argument("--crypto-in-use", help="the crypto plugin Subnetra ran on, e.g. crypto_openssl")
    o = ap.parse_args()
    runs = load(o.path)
    runs_dir = o.runs or os.path.join(os.path.dirname(os.path.abspath(o.path)), "runs")
    for r in runs:
        enrich(r, runs_dir if os.path.isdir(runs_dir) else None)
    if o.skip_tagged:
        runs = [r for r in runs if not r.get("tag")]
    if not runs:
        print("no results in %s" % o.path, file=sys.stderr)
        return 1
    groups = group(runs)
    agg = aggregate(groups)
    if o.json:
        print(json.dumps(agg, indent=1, sort_keys=True))
        return 0
    print_table(agg, o.subject, o.wide)
    if o.crypto:
        print_limits(agg, o.subject, read_crypto(o.crypto), o.crypto_in_use)
    if o.raw:
        print_raw(groups)
    return 0


sys.exit(main())
