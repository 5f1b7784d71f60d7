#!/usr/bin/env python3
"""bench/trace_sample.py - what the Subnetra daemons wait on, sampled while the harness runs.

Usage: trace_sample.py STATEDIR SUBNETRA OUT      (started by bench/subnetra.sh with SN_TRACE=1)

Every 50 ms, reading /proc only (no process started, so the sampler itself costs little):
  - each daemon thread's /proc/PID/task/TID/schedstat (CPU time, time runnable but waiting for a
    CPU, timeslices),
  - the daemon's UDP sockets from /proc/PID/net/udp (its own namespace): bytes queued to receive
    (rx_queue) and not yet freed after sending (tx_queue), drops,
  - the TUN device's tx_dropped from /proc/PID/net/dev (the kernel's queue in front of the daemon),
  - whether a ping and an iperf3 client run (the harness's phases: ping alone = ping_idle, both =
    ping_load).
At the start and the end of the ping_load phase it saves `subnetra --json status` of each node
(the sojourn histograms, core/sojourn.h), so that their difference is the window's distribution.
Writes JSON lines to OUT; bench/trace_report.py reads them with the pcaps.
"""
import json
import os
import subprocess
import sys
import time


def pids(st):
    out = {}
    try:
        for line in open(os.path.join(st, "pids")):
            role, pid = line.split()
            out[role] = int(pid)
    except OSError:
        pass
    return out


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def threads(pid):
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        s = read(f"/proc/{pid}/task/{tid}/schedstat").split()
        if len(s) == 3:
            out[tid] = [int(s[0]), int(s[1]), int(s[2])]
    return out


def udp(pid):
    """the daemon's sockets: [local port, tx_queue, rx_queue, drops]"""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                t = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        return []
    out = []
    for line in read(f"/proc/{pid}/net/udp").splitlines()[1:]:
        f = line.split()
        if len(f) > 12 and f[9] in inodes:
            tx, rx = f[4].split(":")
            out.append([int(f[1].split(":")[1], 16), int(tx, 16), int(rx, 16), int(f[12])])
    return out


def tun_dropped(pid):
    for line in read(f"/proc/{pid}/net/dev").splitlines()[2:]:
        name, _, rest = line.partition(":")
        if name.strip().startswith("subnetra"):
            f = rest.split()
            return int(f[11])  # tx drop
    return None


def running(names):
    seen = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            c = read(f"/proc/{d}/comm").strip()
            if c in names:
                seen.add(c)
    return seen


def status(st, cli):
    out = {}
    for role in ("hub", "s2", "s3"):
        sock = os.path.join(st, f"{role}.sock")
        try:
            r = subprocess.run([cli, "-s", sock, "--json", "status"], capture_output=True,
                               text=True, timeout=5)
            out[role] = json.loads(r.stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            out[role] = None
    return out


def main():
    st, cli, outp = sys.argv[1], sys.argv[2], sys.argv[3]
    phase = None
    with open(outp, "w") as out:
        while os.path.isdir(st):
            p = pids(st)
            r = running({"ping", "iperf3"})
            # iperf3 servers run all along; a client means a second iperf3 process
            n_iperf = sum(1 for d in os.listdir("/proc") if d.isdigit()
                          and read(f"/proc/{d}/comm").strip() == "iperf3")
            ph = "ping_load" if "ping" in r and n_iperf > 2 else "ping" if "ping" in r else \
                "load" if n_iperf > 2 else "idle"
            if ph != phase and (ph == "ping_load" or phase == "ping_load"):
                out.write(json.dumps({"t": time.time(), "status": ph != "ping_load" and "end"
                                      or "start", "nodes": status(st, cli)}) + "\n")
            phase = ph
            rec = {"t": time.time(), "phase": ph, "nodes": {}}
            for role, pid in p.items():
                rec["nodes"][role] = {"threads": threads(pid), "udp": udp(pid),
                                      "tun_dropped": tun_dropped(pid)}
            out.write(json.dumps(rec) + "\n")
            out.flush()
            time.sleep(0.05)


if __name__ == "__main__":
    main()
