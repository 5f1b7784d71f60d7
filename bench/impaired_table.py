#!/usr/bin/env python3
"""bench/impaired_table.py — the numbers of bench/impaired.sh (python3 stdlib).

  --one PREFIX --variant V --round R --loss L --cpu-ticks T --relay-ticks T --clk HZ
        --underlay ALL DROPPED --delay-ms D --loss-links "s2"
      One loss level of one run: reads PREFIX.ping (ping -n output), PREFIX.udp.json and
      PREFIX.tcp.json (iperf3 -J) and prints one JSON line.
  --table RESULTS.jsonl --variants "LIST" [--missing "LIST"] [--loss "0 1 3 5"] [--json]
      The markdown table: medians over rounds per variant and loss level; variants in
      --missing get a "not built" column.
"""
import argparse
import json
import re
import statistics
import sys

NAMES = {"raw_direct": "raw_direct", "fec_xor-k4": "fec_xor k=4", "fec_xor-k10": "fec_xor k=10",
         "kcp_arq": "kcp_arq", "wireguard-go": "wireguard-go"}
SN_BASE = "raw_direct"

# (key, label, better, format, ratio to raw_direct)
METRICS = [
    ("tcp_mbps", "TCP 1 stream s2->s3, Mbit/s", "higher", "{:.1f}", True),
    ("udp_loss_pct", "inner loss, UDP 10 Mbit/s s2->s3 (one way), %", "lower", "{:.2f}", False),
    ("ping_loss_pct", "ping loss s2->s3 (round trip), %", "lower", "{:.1f}", False),
    ("ping_p50_ms", "ping s2->s3 p50, ms", "lower", "{:.1f}", False),
    ("ping_p99_ms", "ping s2->s3 p99, ms", "lower", "{:.1f}", False),
    ("cpu_s_per_gbit", "daemon CPU-s per Gbit (TCP test, 3 daemons)", "lower", "{:.1f}", True),
    ("relay_cpu_s", "the two delay relays' CPU-s (TCP test)", "-", "{:.2f}", False),
    ("tcp_retrans", "TCP retransmits", "lower", "{:.0f}", False),
    ("underlay_drop_pct", "underlay datagrams dropped (measured), %", "-", "{:.2f}", False),
]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ping_stats(path):
    times, sent, got = [], None, None
    try:
        text = open(path).read()
    except OSError:
        return None, None, None
    for line in text.splitlines():
        m = re.search(r"time=([0-9.]+) ms", line)
        if m and "DUP" not in line:
            times.append(float(m.group(1)))
        m = re.match(r"(\d+) packets transmitted, (\d+) received", line)
        if m:
            sent, got = int(m.group(1)), int(m.group(2))
    if not sent:
        return None, None, None
    times.sort()
    p = (lambda q: times[min(len(times) - 1, int(len(times) * q))]) if times else (lambda q: None)
    return 100.0 * (sent - got) / sent, p(0.5), p(0.99)


def udp_stats(doc):
    end = (doc or {}).get("end", {})
    s = end.get("sum") or end.get("sum_received") or {}
    if "lost_packets" not in s or not s.get("packets"):
        return None, None, None
    return 100.0 * s["lost_packets"] / s["packets"], s["packets"], s["lost_packets"]


def tcp_stats(doc):
    end = (doc or {}).get("end", {})
    rx, tx = end.get("sum_received", {}), end.get("sum_sent", {})
    if "bits_per_second" not in rx:
        return None, None, None, None
    return rx["bits_per_second"] / 1e6, tx.get("retransmits"), rx.get("bytes"), \
        end.get("sender_tcp_congestion")


def one(a):
    ploss, p50, p99 = ping_stats(a.one + ".ping")
    uloss, upkts, ulost = udp_stats(load(a.one + ".udp.json"))
    mbps, retr, nbytes, cc = tcp_stats(load(a.one + ".tcp.json"))
    cpu = a.cpu_ticks / a.clk
    gbit = nbytes * 8 / 1e9 if nbytes else None
    allp, dropped = a.underlay
    r = {
        "variant": a.variant, "round": a.round, "loss_pct": a.loss,
        "loss_links": a.loss_links, "delay_ms_per_link": a.delay_ms,
        "tcp_mbps": mbps, "tcp_retrans": retr, "tcp_gbit_moved": gbit, "tcp_cc": cc,
        "udp_loss_pct": uloss, "udp_packets": upkts, "udp_lost": ulost,
        "ping_loss_pct": ploss, "ping_p50_ms": p50, "ping_p99_ms": p99,
        "cpu_s": cpu, "cpu_s_per_gbit": cpu / gbit if gbit else None,
        "relay_cpu_s": a.relay_ticks / a.clk,
        "underlay_pkts": allp, "underlay_dropped": dropped,
        "underlay_drop_pct": 100.0 * dropped / allp if allp else None,
        # the relays' delay is in the path: idle RTT s2->s3 at least 4 x the per-link delay
        "delay_ok": p50 is not None and p50 >= 4 * a.delay_ms * 0.95,
    }
    print(json.dumps(r))


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def table(a):
    rows = []
    with open(a.table) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    variants, missing = a.variants.split(), set(a.missing.split())
    losses = [float(x) for x in a.loss.split()]
    agg, rounds, bad = {}, {}, set()
    for v in variants:
        for loss in losses:
            mine = [r for r in rows if r["variant"] == v and float(r["loss_pct"]) == loss]
            rounds[v] = max(rounds.get(v, 0), len(mine))
            bad.update(v for r in mine if not r.get("delay_ok"))
            agg[(v, loss)] = {m[0]: median(r.get(m[0]) for r in mine) for m in METRICS}
    if a.json:
        print(json.dumps({f"{v}@{l}": agg[(v, l)] for (v, l) in agg}))
        return
    head = [f"{NAMES[v]} ×{rounds[v]}" if v not in missing else NAMES[v] for v in variants]
    print("| metric (median over rounds) | loss % | " + " | ".join(head) + " |")
    print("|---|---|" + "---|" * len(variants))
    for key, label, better, fmt, ratio in METRICS:
        for loss in losses:
            cells = []
            base = agg[(SN_BASE, loss)][key] if SN_BASE in variants else None
            for v in variants:
                val = agg[(v, loss)][key]
                if v in missing:
                    cells.append("not built")
                elif val is None:
                    cells.append("–")
                elif ratio and base and v != SN_BASE:
                    cells.append(fmt.format(val) + f" [{val / base:.2f}]")
                else:
                    cells.append(fmt.format(val))
            print(f"| {label} | {loss:g} | " + " | ".join(cells) + " |")
    print()
    print("[x.xx]: the ratio to raw_direct at the same loss. "
          "Loss: datagrams dropped on the lossy links' underlay, each direction.")
    ccs = sorted({r["tcp_cc"] for r in rows if r.get("tcp_cc")})
    if ccs:
        print("TCP congestion control (iperf3's sender): " + ", ".join(ccs) + ".")
    if bad:
        print("\nWARNING: idle RTT below 4 x the per-link delay (relay not in the path?) in: "
              + ", ".join(sorted(bad)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    ap.add_argument("--variant")
    ap.add_argument("--round", type=int)
    ap.add_argument("--loss", default="0 1 3 5")
    ap.add_argument("--cpu-ticks", type=int, default=0)
    ap.add_argument("--relay-ticks", type=int, default=0)
    ap.add_argument("--clk", type=int, default=100)
    ap.add_argument("--underlay", type=int, nargs=2, default=[0, 0])
    ap.add_argument("--delay-ms", type=float, default=5)
    ap.add_argument("--loss-links", default="s2")
    ap.add_argument("--table")
    ap.add_argument("--variants", default=" ".join(NAMES))
    ap.add_argument("--missing", default="")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.one:
        a.loss = float(a.loss)
        one(a)
    elif a.table:
        table(a)
    else:
        ap.error("--one or --table")


if __name__ == "__main__":
    sys.exit(main())
