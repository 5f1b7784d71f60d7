#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/snstat.py: the status reader of the end-to-end tests (stdlib
only): `subnetra --json status` saved in files, the status table and the
metrics text compared with it.

PATH is dotted: node.epoch, drops.replay, peer.2.rx_epoch,
peer.3.drops.auth_fail (peer.N is the peer with id N).

  get FILE PATH...
      The value at each PATH in a saved status (or any JSON object), one per
      line: null for JSON null, true/false, objects as JSON; "absent" for
      peer.N when there is no peer N. A missing key is an error.
  drops OLD NEW [PEER]
      The drop counters that changed from OLD to NEW, node-wide or for peer
      PEER (a peer absent from OLD counts from 0), as "name=+n ..." sorted by
      name, or "none".
  nonzero FILE [PEER]
      The drop counters that are not 0, node-wide or for peer PEER, as
      "name=n ...", or "none".
  deltas OLD NEW [--exact] [PATH=N...]
      Check that each counter PATH grew by exactly N between two saved
      statuses; with --exact, also that every other counter (node, drops,
      every peer's counters and drops; not the ages uptime_seconds,
      last_rx_seconds, verified_seconds) did not move. Prints each checked delta; exit 1
      listing every difference. `deltas OLD NEW --exact` alone: nothing
      moved.
  agree STATUS METRICS
      Cross-check a `subnetra metrics` text against a `subnetra --json status`
      saved with nothing happening in between: node-wide drops by reason,
      per-peer traffic counters and drops, tun counters, epoch, policy version
      and rule counts, per-peer epochs; node-wide rx/tx equal the sums over
      the peers; the families are typed as expected (counters *_total,
      gauges not). Prints how many values agreed; exit 1 on a difference.
  table TABLE STATUS
      Check that the `subnetra status` table in TABLE shows the same numbers
      as the JSON status in STATUS (saved with nothing happening in between):
      node line, underlay/tun lines, drops line, and every peer row (rx/tx
      packets and bytes in the tool's human units, epoch, epochs, drops).
      Prints what it compared; exit 1 on the first difference.
"""
import json
import re
import sys

from pkt import NAME, parse_metrics


def die(msg):
    print(f"snstat: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    with open(path) as f:
        return json.load(f)


def get(doc, path):
    cur, parts, i = doc, path.split("."), 0
    while i < len(parts):
        k = parts[i]
        if k == "peer" and cur is doc and i + 1 < len(parts):
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
    doc = load(argv[0])
    for p in argv[1:]:
        print(show(get(doc, p)))


def drops_of(doc, peer):
    if peer is None:
        return doc["drops"]
    d = get(doc, f"peer.{peer}")
    return None if d == "absent" else d["drops"]


def cmd_drops(argv):
    old, new = load(argv[0]), load(argv[1])
    peer = argv[2] if len(argv) > 2 else None
    a, b = drops_of(old, peer) or {}, drops_of(new, peer)
    if b is None:
        die(f"no peer {peer} in {argv[1]}")
    moved = [f"{k}={b[k] - a.get(k, 0):+d}" for k in sorted(b) if b[k] != a.get(k, 0)]
    print(" ".join(moved) if moved else "none")


def cmd_nonzero(argv):
    doc = load(argv[0])
    d = drops_of(doc, argv[1] if len(argv) > 1 else None)
    if d is None:
        die(f"no peer {argv[1]} in {argv[0]}")
    out = [f"{k}={v}" for k, v in sorted(d.items()) if v]
    print(" ".join(out) if out else "none")


SKIP = {"uptime_seconds", "last_rx_seconds", "verified_seconds"}  # ages, not counters


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
    old, new = load(argv[0]), load(argv[1])
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


def cmd_agree(argv):
    doc = load(argv[0])
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
    doc = load(argv[1])
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
    cols = ["ID", "PEER", "ENDPOINT", "STATE", "LAST RX", "RX PKTS", "RX BYTES", "TX PKTS",
            "TX BYTES", "EPOCH", "EPOCHS", "DROPS"]
    rows = [ln for ln in lines[hi + 1:] if ln.strip()]
    expect("peer rows", len(rows), len(doc["peers"]))
    for ln, p in zip(rows, doc["peers"]):
        # columns are separated by two or more spaces; none of the values
        # except LAST RX ("0s ago") and the byte columns contains one space
        cells = re.split(r" {2,}", ln.strip())
        want = [str(p["id"]), p["name"] or "-", p["endpoint"] or "-", p["state"],
                None, h_count(p["rx_packets"]), h_bytes(p["rx_bytes"]),
                h_count(p["tx_packets"]), h_bytes(p["tx_bytes"]),
                "-" if p["rx_epoch"] is None else str(p["rx_epoch"]),
                str(p["epochs_accepted"]), drops_text(p["drops"])]
        expect(f"peer {p['id']} columns", len(cells), len(cols))
        for c, g, w in zip(cols, cells, want):
            if w is not None:
                expect(f"peer {p['id']} {c}", g, w)
    print(f"table agrees with the JSON ({len(checks)} fields)")


CMDS = {"get": cmd_get, "drops": cmd_drops, "nonzero": cmd_nonzero, "deltas": cmd_deltas,
        "agree": cmd_agree, "table": cmd_table}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CMDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CMDS[sys.argv[1]](sys.argv[2:])
