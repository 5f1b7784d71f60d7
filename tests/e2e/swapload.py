#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/swapload.py: the policy-swap measurement of policy_swap.sh
(stdlib only); control requests, TCP counters and slotted ping statistics.

  req SOCKET LINE
      One control request (the daemon's own protocol: one line, reply, close).
      Prints the reply without its status line; exit 0 for "ok", 1 for
      "error ..." (the reason on stderr, as the subnetra tool prints it).
  swapload SOCKET --pid PID --slots N --slot-secs D --swaps K
      The interleaved measurement of policy_swap.sh: N slots of D seconds,
      taken in pairs, each pair one baseline slot (B: no control request at
      all) and one swap slot (S), the order inside each pair drawn from a
      fixed-seed random generator (so a periodic disturbance cannot line up
      with one kind). The K swaps are spread evenly over the S slots, one
      request (one connection) each, in a cycle unrelated to any test
      traffic:
        4j   policy add 10.200.X.0/24 drop
        4j+1 policy del 10.200.X.0/24
        4j+2 policy replace 10.201.X.0/24 drop;10.202.X.0/24 forward 2;
                            10.203.X.0/24 drop
        4j+3 policy replace        (clears the run-time rules)
      with X = j % 250. Every reply must be "ok" and report a policy version
      exactly one above the previous one. No swap starts in the last tenth of
      an S slot: when the driver falls behind (it runs at a low priority), the
      rest of that slot's swaps move to the next S slot ("carried"), and what
      is left after the last slot runs in a "tail" slot that belongs to
      neither kind; B slots never see a swap. At every slot boundary it reads
      RetransSegs and OutSegs from /proc/PID/net/snmp: PID is a process in
      the TCP sender's namespace, so those are that namespace's counters.
      Prints JSON: slots [{kind, t0, t1, retrans, out_segs, swaps}], swaps,
      carried, first_version, last_version, lat_p50_ms, lat_p99_ms,
      lat_max_ms.
  slots PINGFILE SLOTSFILE [PINGFILE SLOTSFILE...]
      Split the replies of `ping -D -n` (PINGFILE) into the slots of a
      swapload run (SLOTSFILE) by send time (receive stamp minus RTT); with
      several measurements, all their slots together. Prints JSON
      {"B": {...}, "S": {...}, "measurements": [...]}: per kind the pooled
      n, p50, p90, p99, max (ms), slot_p99_median (the median over that
      kind's slots of each slot's own p99), and the slots' retrans, out_segs
      and swaps; per measurement the same in short.
  report SLOTSJSON
      Print the output of `slots` for the log, one line per measurement and
      per kind.
"""
import json
import random
import re
import socket
import statistics
import sys
import time

from pkt import pct


def die(msg):
    print(f"swapload: {msg}", file=sys.stderr)
    sys.exit(2)


def request(path, line, timeout=10.0):
    """(ok, body, reason) of one control request."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    reply = b"".join(chunks).decode(errors="replace")
    if reply.endswith("\n"):
        reply = reply[:-1]
    body, _, last = reply.rpartition("\n")
    if last == "ok":
        return True, body, ""
    if last.startswith("error "):
        return False, body, last[6:]
    return False, body, f"no status line in the reply: {reply[-200:]!r}"


def cmd_req(argv):
    if len(argv) != 2:
        die("usage: req SOCKET LINE")
    ok, body, why = request(argv[0], argv[1])
    if body:
        print(body)
    if not ok:
        print(f"error: {why}", file=sys.stderr)
    sys.exit(0 if ok else 1)


def swap_line(i):
    j, kind = divmod(i, 4)
    x = j % 250
    if kind == 0:
        return f"policy add 10.200.{x}.0/24 drop"
    if kind == 1:
        return f"policy del 10.200.{x}.0/24"
    if kind == 2:
        return (f"policy replace 10.201.{x}.0/24 drop;10.202.{x}.0/24 forward 2;"
                f"10.203.{x}.0/24 drop")
    return "policy replace"


VERSION_RE = re.compile(r"^policy version (\d+), \d+ rules \(\d+ run-time\)$")


def snmp_tcp(pid):
    """(RetransSegs, OutSegs) of the network namespace process pid is in."""
    lines = open(f"/proc/{pid}/net/snmp").read().split("\n")
    tcp = [ln.split()[1:] for ln in lines if ln.startswith("Tcp:")]
    row = dict(zip(tcp[0], tcp[1]))
    return int(row["RetransSegs"]), int(row["OutSegs"])


def swap_once(path, line, state):
    """One swap request; checks the reply's version (state: prev, first)."""
    t = time.monotonic()
    ok, body, why = request(path, line)
    state["lat"].append((time.monotonic() - t) * 1000)
    if not ok:
        die(f"swap {state['done']} ({line}): error {why}")
    m = VERSION_RE.match(body.strip())
    if not m:
        die(f"swap {state['done']} ({line}): unexpected reply {body!r}")
    v = int(m.group(1))
    if state["prev"] is not None and v != state["prev"] + 1:
        die(f"swap {state['done']} ({line}): policy version {v} after {state['prev']} "
            "(each swap must add exactly one)")
    if state["first"] is None:
        state["first"] = v
    state["prev"] = v
    state["done"] += 1


def cmd_swapload(argv):
    path = argv[0]
    o = dict(zip(argv[1::2], argv[2::2]))
    pid, nslots = o["--pid"], int(o["--slots"])
    secs, total = float(o["--slot-secs"]), int(o["--swaps"])
    if nslots % 2:
        die("--slots must be even (pairs of slots)")
    rnd = random.Random(20240611)
    kinds = []
    for _ in range(nslots // 2):
        kinds += rnd.choice((["B", "S"], ["S", "B"]))
    n_s = kinds.count("S")
    per = [total // n_s + (1 if k < total % n_s else 0) for k in range(n_s)]
    # no swap starts in the last tenth of an S slot, so none runs into a B slot
    margin = secs / 10
    st = {"lat": [], "prev": None, "first": None, "done": 0}
    slots, si, carry, carried = [], 0, 0, 0
    t_start = time.monotonic()
    wall0 = time.time() - t_start  # wall clock = wall0 + monotonic
    r0, o0 = snmp_tcp(pid)
    for k, kind in enumerate(kinds):
        a, b = t_start + k * secs, t_start + (k + 1) * secs
        n_here = 0
        if kind == "S":
            count, carry = per[si] + carry, 0
            si += 1
            for j in range(count):
                due = a + (j + 0.5) * (secs - margin) / count
                now = time.monotonic()
                if now >= b - margin:  # fell behind: the rest goes to the next S slot
                    carry = count - j
                    carried += carry
                    break
                if due > now:
                    time.sleep(due - now)
                swap_once(path, swap_line(st["done"]), st)
                n_here += 1
        now = time.monotonic()
        if b > now:
            time.sleep(b - now)
        r1, o1 = snmp_tcp(pid)
        slots.append({"kind": kind, "t0": round(wall0 + a, 6), "t1": round(wall0 + b, 6),
                      "retrans": r1 - r0, "out_segs": o1 - o0, "swaps": n_here})
        r0, o0 = r1, o1
    if carry:  # a tail slot outside both kinds for what is left
        a = time.monotonic()
        for _ in range(carry):
            swap_once(path, swap_line(st["done"]), st)
        slots.append({"kind": "tail", "t0": round(wall0 + a, 6),
                      "t1": round(wall0 + time.monotonic(), 6), "retrans": 0, "out_segs": 0,
                      "swaps": carry})
    lat = st["lat"]
    print(json.dumps({
        "slots": slots, "swaps": st["done"], "carried": carried,
        "first_version": st["first"], "last_version": st["prev"],
        "lat_p50_ms": round(pct(lat, 50), 2) if lat else None,
        "lat_p99_ms": round(pct(lat, 99), 2) if lat else None,
        "lat_max_ms": round(max(lat), 2) if lat else None}))


PING_D_RE = re.compile(r"^\[([0-9.]+)\] .*icmp_seq=(\d+) .*time=([0-9.]+) ms")


def stats(v):
    if not v:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    return {"n": len(v), "p50": round(pct(v, 50), 3), "p90": round(pct(v, 90), 3),
            "p99": round(pct(v, 99), 3), "max": round(max(v), 3)}


def slot_replies(ping_file, slots):
    """Per slot, the RTTs of the replies to pings sent in it."""
    per = [[] for _ in slots]
    for ln in open(ping_file, errors="replace"):
        m = PING_D_RE.match(ln)
        if not m:
            continue
        rtt = float(m.group(3))
        t = float(m.group(1)) - rtt / 1000
        for i, s in enumerate(slots):
            if s["t0"] <= t < s["t1"]:
                per[i].append(rtt)
                break
    return per


def by_kind(slots, per):
    out = {}
    for kind in ("B", "S"):
        idx = [i for i, s in enumerate(slots) if s["kind"] == kind]
        st = stats([r for i in idx for r in per[i]])
        sp = [pct(per[i], 99) for i in idx if per[i]]
        st["slot_p99_median"] = round(statistics.median(sp), 3) if sp else None
        for k in ("retrans", "out_segs", "swaps"):
            st[k] = sum(slots[i][k] for i in idx)
        st["slots"] = len(idx)
        out[kind] = st
    return out


def cmd_slots(argv):
    if len(argv) < 2 or len(argv) % 2:
        die("usage: slots PINGFILE SLOTSFILE [PINGFILE SLOTSFILE...]")
    all_slots, all_per, parts = [], [], []
    for pf, sf in zip(argv[0::2], argv[1::2]):
        slots = json.load(open(sf))["slots"]
        per = slot_replies(pf, slots)
        k = by_kind(slots, per)
        parts.append({kind: {x: k[kind][x] for x in ("n", "p99", "slot_p99_median", "retrans")}
                      for kind in ("B", "S")})
        all_slots += slots
        all_per += per
    out = by_kind(all_slots, all_per)
    out["measurements"] = parts
    print(json.dumps(out))


def cmd_report(argv):
    d = json.load(open(argv[0]))
    for i, m in enumerate(d["measurements"]):
        b, s = m["B"], m["S"]
        print(f"  measurement {i + 1}: median slot p99 B {b['slot_p99_median']} ms, "
              f"S {s['slot_p99_median']} ms; pooled p99 B {b['p99']} ms, S {s['p99']} ms; "
              f"TCP retrans B {b['retrans']}, S {s['retrans']}")
    for k, name in (("B", "baseline (no swaps)"), ("S", "during swaps")):
        s = d[k]
        print(f"  {name:20s} slots {s['slots']:3d}  swaps {s['swaps']:4d}  replies {s['n']:5d}  "
              f"RTT p50 {s['p50']} ms  p99 {s['p99']} ms  max {s['max']} ms  "
              f"median slot p99 {s['slot_p99_median']} ms  TCP retrans {s['retrans']} "
              f"(of {s['out_segs']} segments)")


CMDS = {"req": cmd_req, "swapload": cmd_swapload, "slots": cmd_slots, "report": cmd_report}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CMDS[sys.argv[1]](sys.argv[2:])
