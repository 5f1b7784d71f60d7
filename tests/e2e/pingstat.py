#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/e2e/pingstat.py: measuring and checking helpers for the control-plane
end-to-end tests (policy_swap.sh, reload.sh, status_counters.sh). Stdlib only.

  ping FILE
      Parse the output of `ping -n [-D]` saved in FILE. Prints JSON:
      transmitted, received, lost (from ping's summary line), n (RTT samples),
      p50, p90, p99, max (ms, nearest-rank percentiles over the replies).
  iperf FILE
      Parse `iperf3 -J` client output. Prints JSON: sent_bytes,
      received_bytes, retransmits, mbps (receiver), seconds.
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
  get FILE PATH...
      Values from a saved `subnetra --json status` (or any JSON object).
      PATH is dotted: node.policy_version, drops.auth_fail, peer.2.rx_epoch,
      peer.2.drops.replay. null for JSON null; "absent" for peer.N when no
      peer N exists.
  deltas OLD NEW [--exact] PATH=+N...
      Check that each counter PATH (as for get) grew by exactly N between two
      saved statuses; with --exact, also that every other counter (node,
      drops, every peer's counters and drops; not uptime_seconds or
      last_rx_seconds) did not move. Prints each checked delta; exit 1 listing
      every difference.
  quiet OLD NEW
      Exit 0 when no counter moved between two saved statuses (as --exact
      with nothing expected), 1 otherwise.
  agree STATUSJSON METRICS
      Cross-check a `subnetra metrics` text against a `subnetra --json status`
      saved with nothing happening in between: node-wide drops by reason,
      per-peer traffic counters and drops, tun counters, epoch, policy version
      and rule counts, per-peer epochs; node-wide rx/tx equal the sums over
      the peers; the families are typed as expected (counters *_total,
      gauges not). Prints how many values agreed; exit 1 on a difference.
  drops OLD NEW [PEER]
      The drop counters that changed between two saved statuses, node-wide or
      for peer PEER: "name=+n ..." sorted by name, or "none".
  metrics FILE [KEY...]
      Validate FILE strictly as the Prometheus text exposition format 0.0.4:
      every line is a HELP/TYPE/comment line or a sample matching the
      grammar; every sample's family has exactly one HELP and one TYPE, both
      before its first sample; a family's samples are contiguous; no sample
      (name + label set) repeats; counters are named *_total and their values
      are non-negative integers. Exit 1 with every problem listed otherwise.
      Each KEY, written 'name{label="v",...}' (labels in any order) or 'name',
      prints its value, one per line ("absent" if no such sample).
  table FILE JSONFILE
      Check that the `subnetra status` table in FILE shows the same numbers as
      the JSON status in JSONFILE (saved with nothing happening in between):
      node line, underlay/tun lines, drops line, and every peer row (rx/tx
      packets and bytes in the tool's human units, epoch, epochs, drops).
      Prints what it compared; exit 1 on the first difference.
  tcp-recv ADDR:PORT READYFILE SECS
      Accept one connection, read to EOF (at most SECS seconds), print
      "<bytes> <sha256>". READYFILE is created once listening.
  tcp-send ADDR:PORT BYTES MBPS SECS
      Connect and send BYTES pseudo-random bytes paced at MBPS Mbit/s (so a
      transfer spans a known time), close, wait for the receiver to close;
      print "<bytes> <sha256> <seconds>". Gives up after SECS seconds.
  udp ADDR:PORT HEX [HEX...]
      Send each HEX string as one UDP datagram, all from one socket.
"""
import hashlib
import json
import math
import os
import re
import socket
import statistics
import sys
import time


def die(msg):
    print(f"pingstat: {msg}", file=sys.stderr)
    sys.exit(2)


def pct(v, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(v)
    k = max(1, math.ceil(p / 100 * len(s)))
    return s[k - 1]


# ---- ping ------------------------------------------------------------------

def cmd_ping(argv):
    text = open(argv[0], errors="replace").read()
    rtts = [float(m) for m in re.findall(r"time=([0-9.]+) ms", text)]
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    tx, rx = (int(m.group(1)), int(m.group(2))) if m else (None, len(rtts))
    out = {"transmitted": tx, "received": rx, "lost": None if tx is None else tx - rx,
           "n": len(rtts)}
    for k, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)):
        out[k] = round(pct(rtts, p), 3) if rtts else None
    print(json.dumps(out))


# ---- iperf3 ----------------------------------------------------------------

def cmd_iperf(argv):
    doc = json.load(open(argv[0]))
    if "error" in doc:
        die(f"iperf3: {doc['error']}")
    end = doc["end"]
    sent, recv = end["sum_sent"], end["sum_received"]
    print(json.dumps({
        "sent_bytes": sent["bytes"], "received_bytes": recv["bytes"],
        "retransmits": sent.get("retransmits", 0),
        "mbps": round(recv["bits_per_second"] / 1e6, 1),
        "seconds": round(recv["seconds"], 2)}))


# ---- the control socket ----------------------------------------------------

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
    import random
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


# ---- status JSON -----------------------------------------------------------

def get(doc, path):
    cur, parts, i = doc, path.split("."), 0
    while i < len(parts):
        k = parts[i]
        if k == "peer" and cur is doc:
            want = parts[i + 1]
            cur = next((p for p in doc.get("peers", []) if str(p.get("id")) == want), None)
            if cur is None:
                return "absent"
            i += 2
            continue
        if not isinstance(cur, dict) or k not in cur:
            die(f"{path}: no '{k}' in the document")
        cur = cur[k]
        i += 1
    return cur


def show(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def cmd_get(argv):
    doc = json.load(open(argv[0]))
    for p in argv[1:]:
        print(show(get(doc, p)))


SKIP = {"uptime_seconds", "last_rx_seconds"}


def counters(doc):
    """{path: value} of every numeric field of a status (see deltas)."""
    out = {}
    for k, v in doc["node"].items():
        if isinstance(v, int) and not isinstance(v, bool) and k not in SKIP:
            out[f"node.{k}"] = v
    for k, v in doc["drops"].items():
        out[f"drops.{k}"] = v
    for p in doc.get("peers", []):
        for k, v in p.items():
            if isinstance(v, int) and not isinstance(v, bool) and k not in SKIP | {"id"}:
                out[f"peer.{p['id']}.{k}"] = v
        for k, v in p["drops"].items():
            out[f"peer.{p['id']}.drops.{k}"] = v
    return out


def check_deltas(old, new, want, exact):
    a, b, bad, shown = counters(old), counters(new), [], []
    for path, n in want.items():
        if path not in b:
            bad.append(f"{path}: not in the new status")
            continue
        d = b[path] - a.get(path, 0)
        shown.append(f"{path} +{d}")
        if d != n:
            bad.append(f"{path}: moved by {d:+d}, want {n:+d}")
    if exact:
        for path in sorted(b):
            if path not in want and b[path] != a.get(path, 0):
                bad.append(f"{path}: moved by {b[path] - a.get(path, 0):+d}, want +0")
        for path in sorted(a):
            if path not in b:
                bad.append(f"{path}: gone from the new status")
    return shown, bad


def cmd_deltas(argv):
    old, new = json.load(open(argv[0])), json.load(open(argv[1]))
    exact = "--exact" in argv[2:]
    want = {}
    for w in argv[2:]:
        if w == "--exact":
            continue
        path, _, n = w.partition("=")
        want[path] = int(n)
    shown, bad = check_deltas(old, new, want, exact)
    for x in shown:
        print(f"  ok  {x}" if not any(b.startswith(x.split()[0] + ":") for b in bad) else f"  !!  {x}")
    if exact and not bad:
        print(f"  ok  every other counter unchanged ({len(counters(new)) - len(want)} of them)")
    for x in bad:
        print(f"deltas: {x}", file=sys.stderr)
    sys.exit(1 if bad else 0)


def cmd_quiet(argv):
    old, new = json.load(open(argv[0])), json.load(open(argv[1]))
    _, bad = check_deltas(old, new, {}, True)
    for x in bad:
        print(f"quiet: {x}", file=sys.stderr)
    sys.exit(1 if bad else 0)


def cmd_agree(argv):
    doc = json.load(open(argv[0]))
    text = open(argv[1]).read()
    samples, probs = parse_metrics(text)
    types = dict(re.findall(rf"^# TYPE ({NAME}) (\w+)$", text, re.M))
    bad, n = list(probs), 0

    def val(name, **labels):
        return samples.get((name, frozenset(labels.items())))

    def same(what, got, want):
        nonlocal n
        n += 1
        if got != want:
            bad.append(f"{what}: metrics say {got}, the status says {want}")

    nd = doc["node"]
    same("subnetra_epoch", val("subnetra_epoch"), nd["epoch"])
    same("subnetra_policy_version", val("subnetra_policy_version"), nd["policy_version"])
    same("subnetra_policy_rules", val("subnetra_policy_rules"), nd["policy_rules"])
    same("subnetra_policy_runtime_rules", val("subnetra_policy_runtime_rules"),
         nd["runtime_rules"])
    same("subnetra_reloads_total", val("subnetra_reloads_total"), nd["reloads"])
    same("subnetra_tun_rx_packets_total", val("subnetra_tun_rx_packets_total"),
         nd["tun_rx_packets"])
    same("subnetra_tun_tx_packets_total", val("subnetra_tun_tx_packets_total"),
         nd["tun_tx_packets"])
    for r, v in doc["drops"].items():
        same(f'subnetra_drops_total{{reason="{r}"}}', val("subnetra_drops_total", reason=r), v)
    sums = {}
    for p in doc["peers"]:
        lab = {"peer": p["name"], "id": str(p["id"])}
        for c in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "relayed_packets",
                  "keepalive_rx", "keepalive_tx"):
            same(f"subnetra_{c}_total{lab}", val(f"subnetra_{c}_total", **lab), p[c])
            sums[c] = sums.get(c, 0) + p[c]
        for r, v in p["drops"].items():
            same(f"subnetra_peer_drops_total{lab}[{r}]",
                 val("subnetra_peer_drops_total", reason=r, **lab), v)
        same(f"subnetra_peer_epochs_accepted_total{lab}",
             val("subnetra_peer_epochs_accepted_total", **lab), p["epochs_accepted"])
        same(f"subnetra_peer_rx_epoch{lab}", val("subnetra_peer_rx_epoch", **lab), p["rx_epoch"])
    for c, v in sums.items():
        same(f"node {c} = sum over peers", nd[c], v)
    for fam, t in types.items():
        n += 1
        if (t == "counter") != fam.endswith("_total"):
            bad.append(f"{fam}: type {t}, but counters (and only counters) end in _total")
    for fam in ("subnetra_drops_total", "subnetra_peer_drops_total", "subnetra_rx_packets_total",
                "subnetra_tx_packets_total", "subnetra_rx_bytes_total", "subnetra_tx_bytes_total",
                "subnetra_tun_rx_packets_total", "subnetra_tun_tx_packets_total"):
        same(f"# TYPE {fam}", types.get(fam), "counter")
    for x in bad:
        print(f"agree: {x}", file=sys.stderr)
    if bad:
        sys.exit(1)
    print(f"metrics agree with the status ({n} values and types, {len(samples)} samples)")


def cmd_drops(argv):
    old, new = json.load(open(argv[0])), json.load(open(argv[1]))
    if len(argv) > 2:
        a, b = get(old, f"peer.{argv[2]}.drops"), get(new, f"peer.{argv[2]}.drops")
        if a == "absent":
            a = {}
    else:
        a, b = old["drops"], new["drops"]
    moved = [f"{k}=+{b[k] - a.get(k, 0)}" for k in sorted(b) if b[k] != a.get(k, 0)]
    print(" ".join(moved) if moved else "none")


# ---- Prometheus text format 0.0.4 ------------------------------------------

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
            m = HELP_RE.match(line)
            if line.split()[1:2] == ["HELP"]:
                if not m:
                    probs.append(f"{where}: malformed HELP line")
                    continue
                n = m.group(1)
                if n in helps:
                    probs.append(f"{where}: second HELP for {n}")
                if n in seen_fam:
                    probs.append(f"{where}: HELP for {n} after its samples")
                if re.search(r"\\[^\\n]", m.group(2) or ""):
                    probs.append(f"{where}: bad escape in HELP text")
                helps[n] = m.group(2) or ""
                continue
            if line.split()[1:2] == ["TYPE"]:
                m = TYPE_RE.match(line)
                if not m:
                    probs.append(f"{where}: malformed TYPE line")
                    continue
                n = m.group(1)
                if n in types:
                    probs.append(f"{where}: second TYPE for {n}")
                if n in seen_fam:
                    probs.append(f"{where}: TYPE for {n} after its samples")
                types[n] = m.group(2)
                continue
            continue  # a plain comment
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


def cmd_metrics(argv):
    samples, probs = parse_metrics(open(argv[0]).read())
    if probs:
        for p in probs:
            print(f"metrics: {p}", file=sys.stderr)
        sys.exit(1)
    for k in argv[1:]:
        v = samples.get(parse_key(k))
        print("absent" if v is None else v)


# ---- the status table ------------------------------------------------------

def h_count(v):
    """The tool's sn__ctl_count(): 999, 1.0k, 17.0k, 3.4M."""
    if v < 1000:
        return str(v)
    d, i, unit = float(v), 0, " kMGTPE"
    while d >= 999.95 and i < 6:
        d /= 1000
        i += 1
    return f"{d:.1f}{unit[i]}"


def h_bytes(v):
    """The tool's sn__ctl_bytes(): 512 B, 1.5 KiB, 20.8 MiB."""
    if v < 1024:
        return f"{v} B"
    d, i = float(v), 0
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    while d >= 1023.95 and i < 6:
        d /= 1024
        i += 1
    return f"{d:.1f} {units[i]}"


def drops_text(d):
    nz = [f"{k} {v}" for k, v in d.items() if v]
    return ", ".join(nz) if nz else "-"


def cmd_table(argv):
    text = open(argv[0]).read()
    doc = json.load(open(argv[1]))
    nd, lines = doc["node"], text.split("\n")
    checks = []

    def expect(what, got, want):
        checks.append(f"{what}: {got!r}")
        if got != want:
            print(f"table: {what}: the table shows {got!r}, the JSON says {want!r}",
                  file=sys.stderr)
            sys.exit(1)

    def line_with(prefix):
        for ln in lines:
            if ln.startswith(prefix):
                return ln
        print(f"table: no line starting {prefix!r}", file=sys.stderr)
        sys.exit(1)

    head = lines[0]
    expect("node line", head.split(", up ")[0],
           f"node {nd['id']} ({nd['role']}), epoch {nd['epoch']}")
    pol = line_with("  policy ")
    expect("policy line", re.sub(r"\s+", " ", pol.strip()),
           f"policy version {nd['policy_version']}, {nd['policy_rules']} rules "
           f"({nd['runtime_rules']} run-time), {nd['reloads']} reloads")
    ul = line_with("  underlay ")
    expect("underlay line", re.sub(r"\s+", " ", ul.strip()),
           f"underlay rx {h_count(nd['rx_packets'])} packets ({h_bytes(nd['rx_bytes'])}), "
           f"tx {h_count(nd['tx_packets'])} packets ({h_bytes(nd['tx_bytes'])})")
    tun = line_with("  tun ")
    expect("tun line", re.sub(r"\s+", " ", tun.strip()),
           f"tun rx {h_count(nd['tun_rx_packets'])}, tx {h_count(nd['tun_tx_packets'])} "
           f"packets; relayed {h_count(nd['relayed_packets'])}; keepalives rx "
           f"{h_count(nd['keepalive_rx'])}, tx {h_count(nd['keepalive_tx'])}")
    dl = line_with("  drops ")
    expect("drops line", dl.strip().split(None, 1)[1], drops_text(doc["drops"]))
    # the peer table: header, then one row per peer
    hi = next(i for i, ln in enumerate(lines) if ln.startswith("ID "))
    cols = ["ID", "PEER", "ENDPOINT", "LAST RX", "RX PKTS", "RX BYTES", "TX PKTS",
            "TX BYTES", "EPOCH", "EPOCHS", "DROPS"]
    rows = [ln for ln in lines[hi + 1:] if ln.strip()]
    expect("peer rows", len(rows), len(doc["peers"]))
    for ln, p in zip(rows, doc["peers"]):
        # columns are separated by two or more spaces; none of the values
        # except LAST RX ("0s ago") and the byte columns contains one space
        cells = re.split(r" {2,}", ln.strip())
        want = [str(p["id"]), p["name"] or "-", p["endpoint"] or "-",
                None, h_count(p["rx_packets"]), h_bytes(p["rx_bytes"]),
                h_count(p["tx_packets"]), h_bytes(p["tx_bytes"]),
                "-" if p["rx_epoch"] is None else str(p["rx_epoch"]),
                str(p["epochs_accepted"]), drops_text(p["drops"])]
        expect(f"peer {p['id']} columns", len(cells), len(cols))
        for c, g, w in zip(cols, cells, want):
            if w is not None:
                expect(f"peer {p['id']} {c}", g, w)
    print(f"table agrees with the JSON ({len(checks)} fields)")


# ---- paced TCP ---------------------------------------------------------------

def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def cmd_tcp_recv(argv):
    addr, ready, secs = hostport(argv[0]), argv[1], float(argv[2])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(addr)
    srv.listen(1)
    open(ready, "w").close()
    end = time.monotonic() + secs
    srv.settimeout(secs)
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
    print(f"{n} {h.hexdigest()}")


def cmd_tcp_send(argv):
    addr, total, mbps, secs = hostport(argv[0]), int(argv[1]), float(argv[2]), float(argv[3])
    s = socket.create_connection(addr, timeout=secs)
    h, n, chunk = hashlib.sha256(), 0, 16384
    t0 = time.monotonic()
    while n < total:
        due = t0 + n * 8 / (mbps * 1e6)
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        if now - t0 > secs:
            die("tcp-send: out of time")
        b = os.urandom(min(chunk, total - n))
        s.sendall(b)
        h.update(b)
        n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(f"{n} {h.hexdigest()} {time.monotonic() - t0:.1f}")


# ---- raw UDP -----------------------------------------------------------------

def cmd_udp(argv):
    host, port = argv[0].rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for h in argv[1:]:
        s.sendto(bytes.fromhex(h), (host, int(port)))
    s.close()


CMDS = {"ping": cmd_ping, "iperf": cmd_iperf, "req": cmd_req,
        "swapload": cmd_swapload, "slots": cmd_slots, "report": cmd_report,
        "get": cmd_get, "drops": cmd_drops, "deltas": cmd_deltas, "quiet": cmd_quiet,
        "agree": cmd_agree, "metrics": cmd_metrics, "table": cmd_table,
        "udp": cmd_udp, "tcp-recv": cmd_tcp_recv, "tcp-send": cmd_tcp_send}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CMDS[sys.argv[1]](sys.argv[2:])
