#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer.py: an independent Subnetra peer, revision 2, written
from docs/protocol.md alone (and docs/configuration.md for key files), to
check that subnetrad interoperates with the document. Python 3 stdlib only.

  specpeer.py selftest [--quick]
      RFC 7748 / RFC 8439 examples, every value of the test vector of
      docs/protocol.md section 10, the receive steps one case per row.
      Exit 0 only if everything matches. --quick skips the 1000-fold
      X25519 iteration.

  specpeer.py wire-check LOG... [LOG:>EPOCH]... [LOG:!EPOCH]...
      Over --sent / --record logs: no (key, nonce) twice; data and
      keepalives of LOG only above EPOCH, or never in EPOCH.

  specpeer.py craft-list
      The probe datagrams of the `craft` action and what a hub must count
      each as.

  specpeer.py spoke --key FILE --id N --hub-id 1 --hub-pub B64 --hub HOST:PORT
                    [--epoch E] [--state-file FILE] [--bind ADDR:PORT]
                    [--src 10.0.0.2] [--subnet 10.0.0.0/24] [--lan PREFIX]...
                    [--route PREFIX]... [--drop PREFIX]... [--psk FILE]
                    [--keepalive SECS] [--mtu N] [--sent FILE] [--record FILE]
                    [--timeout SECS] (--script 'ACTION; ACTION...' | --script-file FILE)
      Plays a spoke against a real hub over UDP. Challenges the hub at
      start and every second while it is unverified, answers the hub's
      challenges, applies every receive step to what comes back, then runs
      the script. Prints one JSON object at the end; exit 0 when every
      expectation of the script held (1 otherwise, 2 for usage errors).

  Script actions (';' or newline separated, '#' starts a comment):
      expect-verified [SECS]    the hub is verified within SECS (5)
      wait SECS                 keep answering, sending keepalives
      ping DST N [SIZE]         N echo requests from --src, 0.2 s apart;
                                expects all N answered (2 s after the last)
      ping-until DST SECS       one echo request every 0.2 s until one is
                                answered; expects that within SECS
      keepalive                 send one keepalive now
      touch FILE / wait-file FILE SECS   sync points with a test script
      mark NAME                 save the counters under marks.NAME
      report FILE               write the report so far to FILE (ok: null)
      replay FILE [PORT|same] [KIND]     re-send the datagrams of a --sent
                                log (KIND: data, keepalive, challenge,
                                response, all) from our address and PORT
                                (0: any; default: a port of its own);
                                what comes back there is only counted
      rebind [PORT]             continue from a new local port (0: any)
      craft NAME [COUNT]        send a probe datagram (specpeer.py craft-list)
      answer-reporting N|off    our responses report accepting the
                                challenge's epoch + N (as if the hub's
                                state directory had been rolled back)
      expect-epoch-moved        our epoch moved during this run
      expect-no-drops           nothing received was dropped

  Echo requests from the hub's side to a local address (--src, --lan) are
  answered, so the overlay can ping the spec peer too.

  The --sent and --record logs are JSON lines: {t, dst|src, hex, kind,
  key_id, receiver, epoch, seq} for what was sent, {t, src, hex, verdict}
  for what was received.
"""
import argparse
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import specpeer_crypto as c  # noqa: E402
import specpeer_wire as w  # noqa: E402
from specpeer_run import Runner, persist_epoch, read_epoch  # noqa: E402


def read_key(path, what):
    try:
        text = open(path).read()
    except OSError as e:
        raise SystemExit(f"specpeer: {path}: cannot read the {what}: {e.strerror}")
    try:
        k = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        k = b""
    if len(k) != 32:
        raise SystemExit(f"specpeer: {path}: does not hold a {what} (expected one line of 44 "
                         "base64 characters, as written by wg genkey)")
    return k


def hostport(s, what):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise SystemExit(f"specpeer: {what}: '{s}' is not HOST:PORT (e.g. 172.31.2.1:51820)")
    return (host or "0.0.0.0", int(port))


def node_id(s):
    v = int(s)
    if not w.ID_MIN <= v <= w.ID_MAX:
        raise argparse.ArgumentTypeError(f"{s} is out of range (expected 1..4294967294)")
    return v


def spoke_args(argv):
    p = argparse.ArgumentParser(prog="specpeer.py spoke")
    p.add_argument("--key", required=True, help="private key file (base64)")
    p.add_argument("--id", required=True, type=node_id)
    p.add_argument("--hub-id", required=True, type=node_id)
    p.add_argument("--hub-pub", required=True, help="the hub's public key, base64")
    p.add_argument("--hub", required=True, help="the hub's endpoint HOST:PORT")
    p.add_argument("--epoch", type=int, help="our epoch (default: from --state-file / the clock)")
    p.add_argument("--state-file", help="epoch file: read at start, written before every epoch")
    p.add_argument("--bind", default="0.0.0.0:0")
    p.add_argument("--src", help="our overlay address (local; the source of our pings)")
    p.add_argument("--subnet", default="10.0.0.0/24", help="the overlay subnet (routed to the hub)")
    p.add_argument("--lan", action="append", default=[], help="a local LAN prefix")
    p.add_argument("--route", action="append", default=[], help="a prefix routed to the hub")
    p.add_argument("--drop", action="append", default=[], help="a DROP rule")
    p.add_argument("--psk", help="PSK file (base64)")
    p.add_argument("--keepalive", type=int, default=25)
    p.add_argument("--mtu", type=int, default=1420)
    p.add_argument("--sent", help="append every datagram sent to this JSON-lines file")
    p.add_argument("--record", help="append every datagram received to this JSON-lines file")
    p.add_argument("--timeout", type=float, default=120, help="bound on the whole run")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--script")
    g.add_argument("--script-file")
    a = p.parse_args(argv)
    a.priv = read_key(a.key, "private key")
    try:
        a.hub_pub = base64.b64decode(a.hub_pub, validate=True)
    except ValueError:
        a.hub_pub = b""
    if len(a.hub_pub) != 32:
        raise SystemExit("specpeer: --hub-pub: not a key (44 characters of base64)")
    a.psk = read_key(a.psk, "PSK") if a.psk else b""
    a.hub, a.bind = hostport(a.hub, "--hub"), hostport(a.bind, "--bind")
    a.script = open(a.script_file).read() if a.script_file else a.script
    return a


def choose_epoch(a):
    """Section 5: max(unix time, last + 1), unless --epoch says otherwise."""
    import time
    last = read_epoch(a.state_file) if a.state_file else None
    e = a.epoch if a.epoch is not None else max(int(time.time()), (last or 0) + 1)
    if not w.EPOCH_MIN <= e <= w.EPOCH_MAX:
        raise SystemExit(f"specpeer: epoch {e} is not usable (1..4294967294)")
    if a.state_file:
        persist_epoch(a.state_file, e)
    return e


def main(argv):
    if argv[:1] == ["selftest"]:
        import specpeer_vectors
        return 1 if specpeer_vectors.selftest(quick="--quick" in argv[1:]) else 0
    if argv[:1] == ["wire-check"]:
        import specpeer_check
        return specpeer_check.wire_check(argv[1:])
    if argv[:1] == ["craft-list"]:
        import specpeer_craft
        for name, (count, what) in specpeer_craft.CRAFTS.items():
            print(f"{name:16} {what:48} -> {count}")
        return 0
    if argv[:1] == ["spoke"]:
        a = spoke_args(argv[1:])
        a.pub = c.x25519_public(a.priv)
        return Runner(a, choose_epoch(a)).run()
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
