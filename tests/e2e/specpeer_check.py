# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_check.py: `specpeer.py wire-check`, over the --sent
and --record logs of spec peer runs (JSON lines with the datagram in hex):

  - no (key, nonce) twice (docs/protocol.md section 5): no two different
    datagrams with the same sender (key_id), epoch and seq over all the
    files given (one spoke and its hub: the sender names the direction);
  - FILE:>E   every data or keepalive datagram in FILE is in an epoch > E
              (a node that learnt E was used sends nothing sequenced in it);
  - FILE:!E   no data or keepalive datagram in FILE is in epoch E.
Probes sent by `craft` are left out. Prints a summary; returns 0 if clean.
"""
import json
import struct


def datagrams(path):
    for line in open(path):
        e = json.loads(line)
        if e.get("kind", "").startswith("craft:"):
            continue
        d = bytes.fromhex(e["hex"])
        if len(d) >= 20:
            yield e, d


def sequenced_epochs(path):
    for _, d in datagrams(path):
        if d[1] in (0, 1):
            yield struct.unpack(">L", d[8:12])[0]


def rule_problems(rule):
    path, _, cond = rule.rpartition(":")
    e = int(cond[1:])
    bad = [x for x in sequenced_epochs(path) if (x <= e if cond[0] == ">" else x == e)]
    return [f"{path}: {len(bad)} data/keepalive datagram(s) in epoch(s) "
            f"{sorted(set(bad))} ({cond} wanted)"] if bad else []


def wire_check(args):
    rules = [a for a in args if ":" in a and a.rsplit(":", 1)[1][:1] in (">", "!")]
    files = [a for a in args if a not in rules]
    seen, bad, n = {}, [], 0
    for f in files:
        for e, d in datagrams(f):
            n += 1
            key = (d[4:8], d[8:20])  # sender (the receiver is the other end), epoch || seq
            if key in seen and seen[key] != d:
                bad.append(f"{f}: {e['hex'][:40]}... repeats the nonce of {seen[key].hex()[:40]}...")
            seen[key] = d
    for r in rules:
        bad += rule_problems(r)
    print(f"  {n} datagrams in {len(files)} logs, {len(seen)} distinct (key, nonce), "
          f"{len(rules)} epoch rule(s), {len(bad)} problem(s)")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0
