#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/e2e/snstat.py: read `subnetra --json status` output saved by the tests.

  get FILE PATH...      print the value at each PATH, one per line
                        (null for JSON null, objects as JSON). PATH is dotted:
                        node.epoch, drops.replay, peer.2.endpoint,
                        peer.3.drops.auth_fail
  delta OLD NEW [PEER]  the drop counters that changed from OLD to NEW, node-wide
                        or for peer id PEER, as "name=+n ..." sorted by name,
                        or "none"
  nonzero FILE [PEER]   the drop counters that are not 0, as "name=n ...", or "none"
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def peer(doc, pid):
    for p in doc.get("peers", []):
        if str(p.get("id")) == str(pid):
            return p
    raise SystemExit(f"snstat: no peer {pid} in the status")


def get(doc, path):
    parts = path.split(".")
    cur = doc
    i = 0
    while i < len(parts):
        k = parts[i]
        if k == "peer" and cur is doc:
            cur = peer(doc, parts[i + 1])
            i += 2
            continue
        if not isinstance(cur, dict) or k not in cur:
            raise SystemExit(f"snstat: {path}: no '{k}' in the status")
        cur = cur[k]
        i += 1
    return cur


def show(v):
    if v is None:
        return "null"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "get":
        doc = load(sys.argv[2])
        for p in sys.argv[3:]:
            print(show(get(doc, p)))
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "delta":
        a, b = load(sys.argv[2]), load(sys.argv[3])
        if len(sys.argv) == 5:
            da, db = peer(a, sys.argv[4])["drops"], peer(b, sys.argv[4])["drops"]
        else:
            da, db = a["drops"], b["drops"]
        out = [f"{k}={db[k] - da.get(k, 0):+d}" for k in sorted(db) if db[k] != da.get(k, 0)]
        print(" ".join(out) if out else "none")
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "nonzero":
        doc = load(sys.argv[2])
        d = peer(doc, sys.argv[3])["drops"] if len(sys.argv) == 4 else doc["drops"]
        out = [f"{k}={v}" for k, v in sorted(d.items()) if v]
        print(" ".join(out) if out else "none")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
