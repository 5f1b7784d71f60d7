# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_steps.py: the receive steps (docs/protocol.md
section 6) and the verification rules (section 7) of the spec peer, one
row per case: a spoke (id 2) in a given state gets one datagram from its
"hub" (id 1, sealed here with the hub's direction key) and must count it
under the right name, with the right side effects. Used by selftest.
"""
import struct

import specpeer_crypto as c
import specpeer_wire as w
from specpeer_node import Spoke

E = 1700000000          # the spoke's epoch
HE = 1700000500         # the hub's epoch
HUB = ("192.0.2.1", 51820)
ELSE = ("192.0.2.99", 4444)
PRIV_S, PRIV_H = bytes(range(0x21, 0x41)), bytes(range(0x01, 0x21))
PUB_S, PUB_H = c.x25519_public(PRIV_S), c.x25519_public(PRIV_H)
PAIR = w.pair_key(PRIV_H, PUB_H, PUB_S)


def policy():
    p = w.Policy()
    p.add("10.0.0.2/32", "local")
    p.add("192.168.1.0/24", "local")
    p.add("10.0.0.0/24", "forward", 1)
    p.add("192.168.2.0/24", "forward", 1)
    p.add("192.168.2.128/25", "drop")
    return p


def spoke(verified=False, floor=0):
    s = Spoke(2, PRIV_S, PUB_S, 1, PUB_H, HUB, E, policy=policy(), keepalive=0)
    s.start(0.0)
    s.out.clear()
    if verified:
        s.hub.verified, s.hub.challenge = True, None
        s.hub.rx_epoch, s.hub.window = HE, w.Window(floor)
    return s


def hub_dg(flags=0, seq=10, plain=None, epoch=HE, key_id=1, key_epoch=None):
    if plain is None:
        plain = w.icmp_echo("10.0.0.1", "10.0.0.2", 7, 1, reply=True) if flags == 0 else b""
    k = w.dir_key(PAIR, key_id, 2, epoch if key_epoch is None else key_epoch)
    return w.seal(k, flags, key_id, epoch, seq, plain)


def raw(version=1, flags=0, reserved=0, key_id=1, n=4):
    return w.header(flags, key_id, HE, 1, reserved=reserved, version=version) + bytes(n + 16)


def challenge(seq=w.RANDOM_SEQ_BIT | 5, epoch=HE, body=b"C" * 16):
    return hub_dg(w.F_CHALLENGE, seq, body, epoch)


def response(s, reported=0, next_seq=3, epoch=HE, body=None):
    chal = s.hub.challenge if body is None else body
    return hub_dg(w.F_RESPONSE, w.RANDOM_SEQ_BIT | 9, (chal or bytes(16)) +
                  struct.pack(">LQ", reported, next_seq), epoch)


def tampered(d):
    b = bytearray(d)
    b[-1] ^= 1
    return bytes(b)


def kinds(s):
    return [m["kind"] for _, _, m in s.out]


def sent(s, i=-1):
    return s.out[i][2] if s.out else {}


def one(s, d, src=HUB, now=1.0):
    return s.receive(d, src, now)


def header_rows():
    s = spoke()
    rows = [
        ("35 bytes", one(s, bytes(35)), "short"),
        ("version 2", one(s, raw(version=2)), "bad_version"),
        ("reserved flag bit 0x08", one(s, raw(flags=0x08)), "bad_header"),
        ("reserved flag bit 0x80", one(s, raw(flags=0x80)), "bad_header"),
        ("reserved bytes 0x0001", one(s, raw(reserved=1)), "bad_header"),
        ("KEEPALIVE|CHALLENGE", one(s, raw(flags=0x03, n=16)), "bad_header"),
        ("data with an empty plaintext (36 bytes)", one(s, raw(n=0)), "bad_header"),
        ("KEEPALIVE with a plaintext (37 bytes)", one(s, raw(flags=1, n=1)), "bad_header"),
        ("CHALLENGE of 53 bytes", one(s, raw(flags=2, n=17)), "bad_header"),
        ("RESPONSE of 52 bytes", one(s, raw(flags=4, n=16)), "bad_header"),
        ("key_id 3 (not the hub)", one(s, hub_dg(key_id=3)), "unknown_peer"),
        ("key_id 2 (own id)", one(s, hub_dg(key_id=2)), "unknown_peer"),
        ("nothing sent for any of them", kinds(s), []),
    ]
    return rows


def challenge_rows():
    s = spoke()
    s.hub.tx_seq = 41
    r = [("a CHALLENGE of the unverified hub", one(s, challenge(), ELSE), "challenge_rx")]
    m = sent(s)
    plain = w.open_sealed(w.dir_key(PAIR, 2, 1, E), s.out[-1][0]) if s.out else b""
    r += [("answered with a RESPONSE to the challenge's source",
           (m.get("kind"), s.out[-1][1] if s.out else None), ("response", ELSE)),
          ("the RESPONSE: random seq >= 2^63, in our epoch",
           (m.get("seq", 0) >= w.RANDOM_SEQ_BIT, m.get("epoch")), (True, E)),
          ("the RESPONSE body: bytes, accepted epoch 0, next seq 41",
           plain.hex(), (b"C" * 16 + struct.pack(">LQ", 0, 41)).hex()),
          ("the challenge changes no state", (s.hub.verified, s.hub.rx_epoch, s.hub.endpoint),
           (False, None, HUB)),
          ("a second one within 100 ms from there", one(s, challenge(), ELSE, 1.05), "challenge_rx"),
          ("... is not answered", len(s.out), 1),
          ("one 100 ms later is answered", (one(s, challenge(), ELSE, 1.11), len(s.out)),
           ("challenge_rx", 2)),
          ("a CHALLENGE with a bad tag", one(s, tampered(challenge()), HUB, 2.0), "auth_fail"),
          ("... is not answered", len(s.out), 2)]
    v = spoke(verified=True, floor=5)
    v.hub.tx_seq = 12
    one(v, challenge(epoch=HE + 7))
    body = w.open_sealed(w.dir_key(PAIR, 2, 1, E), v.out[-1][0])[16:]
    r += [("a verified spoke answers with the accepted epoch and next seq",
           body.hex(), struct.pack(">LQ", HE, 12).hex()),
          ("... and keeps its accepted epoch", v.hub.rx_epoch, HE)]
    return r


def unverified_rows():
    s = spoke()
    r = [("data of the unverified hub", one(s, hub_dg(), ELSE), "unverified"),
         ("... earns a CHALLENGE to its source", (kinds(s), s.out[-1][1] if s.out else None),
          (["challenge"], ELSE)),
         ("the CHALLENGE carries the outstanding bytes",
          w.open_sealed(w.dir_key(PAIR, 2, 1, E), s.out[-1][0]) == s.hub.challenge, True),
         ("another within 100 ms", one(s, hub_dg(seq=11), ELSE, 1.05), "unverified"),
         ("... earns nothing (the limit holds)", len(s.out), 1),
         ("a KEEPALIVE with a bad tag, later", one(s, tampered(hub_dg(1, 12)), ELSE, 1.2),
          "unverified"),
         ("... earns nothing", len(s.out), 1),
         ("a good one right after", one(s, hub_dg(1, 13), ELSE, 1.21), "unverified"),
         ("... earns a CHALLENGE (the bad tag used up no limit)", len(s.out), 2),
         ("nothing was delivered or accepted", (s.counters["rx_packets"], s.hub.rx_epoch),
          (0, None))]
    return r


def response_rows():
    s = spoke()
    r = [("a RESPONSE with other bytes", one(s, response(s, body=b"x" * 16)), "bad_response"),
         ("a RESPONSE with a bad tag", one(s, tampered(response(s))), "auth_fail"),
         ("... neither verifies the hub", s.hub.verified, False),
         ("the RESPONSE to our challenge", one(s, response(s, 0, 30), ELSE), "response_rx"),
         ("... verifies the hub, accepts its epoch, moves the endpoint",
          (s.hub.verified, s.hub.rx_epoch, s.hub.endpoint), (True, HE, ELSE)),
         ("... and a KEEPALIVE goes out at once, seq 0 in our epoch",
          (kinds(s), sent(s).get("seq"), sent(s).get("epoch")), (["keepalive"], 0, E)),
         ("the floor: seq 29 is a replay", one(s, hub_dg(seq=29), ELSE), "replay"),
         ("seq 31 is accepted", one(s, hub_dg(seq=31), ELSE), "rx_packets"),
         ("seq 30 still is (any order above the floor)", one(s, hub_dg(seq=30), ELSE),
          "rx_packets"),
         ("the same RESPONSE again", one(s, response(s, 0, 30, body=bytes(16))), "bad_response"),
         ("own epoch unchanged (reported 0)", s.epoch, E)]
    return r


def move_rows():
    s = spoke()
    one(s, response(s, reported=E, next_seq=0))
    r = [("a report of exactly our epoch (nothing explains it) moves us",
          (s.epoch > E, s.hub.reported), (True, E)),
         ("... and the KEEPALIVE after it is in the new epoch, seq 0",
          (sent(s).get("epoch") == s.epoch, sent(s).get("seq")), (True, 0))]
    s = spoke()
    one(s, response(s, reported=E + 500))
    r.append(("a report above our epoch moves us past it", s.epoch > E + 500, True))
    s = spoke()
    one(s, challenge(epoch=HE))
    one(s, response(s, reported=E, epoch=HE), HUB, 2.0)
    r.append(("a report of our epoch after we answered the hub in that hub epoch: no move",
              s.epoch, E))
    s = spoke()
    one(s, challenge(epoch=HE - 1))
    one(s, response(s, reported=E, epoch=HE), HUB, 2.0)
    r.append(("... but an answer in another hub epoch explains nothing: move", s.epoch > E, True))
    return r


def data_rows():
    s = spoke(verified=True)
    got = []
    s.deliver = got.append
    pkt = w.icmp_echo("10.0.0.1", "10.0.0.2", 7, 1, reply=True)
    r = [("data, seq 10", one(s, hub_dg(seq=10)), "rx_packets"),
         ("... delivered", got == [pkt], True),
         ("the same again", one(s, hub_dg(seq=10)), "replay"),
         ("seq 5000", one(s, hub_dg(seq=5000)), "rx_packets"),
         ("seq 968 (5000 - 4032: outside the window)", one(s, hub_dg(seq=968)), "replay"),
         ("seq 969 (inside)", one(s, hub_dg(seq=969)), "rx_packets"),
         ("an older epoch", one(s, hub_dg(seq=6000, epoch=HE - 1)), "stale_epoch"),
         ("a bad tag", one(s, tampered(hub_dg(seq=6001))), "auth_fail"),
         ("a newer epoch with a bad tag", one(s, tampered(hub_dg(seq=1, epoch=HE + 1))),
          "auth_fail"),
         ("... changes nothing", s.hub.rx_epoch, HE),
         ("a newer epoch, seq 1", one(s, hub_dg(seq=1, epoch=HE + 1)), "rx_packets"),
         ("... becomes the accepted one", (s.hub.rx_epoch, s.hub.epochs_accepted), (HE + 1, 1)),
         ("the old epoch now", one(s, hub_dg(seq=7000)), "stale_epoch"),
         ("a KEEPALIVE", one(s, hub_dg(w.F_KEEPALIVE, 2, epoch=HE + 1)), "keepalive_rx"),
         ("the highest seq from a new address moves the endpoint",
          (one(s, hub_dg(seq=9, epoch=HE + 1), ELSE), s.hub.endpoint), ("rx_packets", ELSE)),
         ("an older seq from the old address does not",
          (one(s, hub_dg(seq=5, epoch=HE + 1), HUB), s.hub.endpoint), ("rx_packets", ELSE))]
    return r


def inner_rows():
    s = spoke(verified=True)
    seq = iter(range(100, 200))

    def inner(p):
        return one(s, hub_dg(seq=next(seq), plain=p))
    ip = w.icmp_echo
    bad_len = bytearray(ip("10.0.0.1", "10.0.0.2", 1, 1))
    bad_len[3] += 1
    return [("plaintext not IPv4", inner(b"\x60" + bytes(39)), "bad_inner"),
            ("IHL 4", inner(b"\x44" + ip("10.0.0.1", "10.0.0.2", 1, 1)[1:]), "bad_inner"),
            ("total length != plaintext length", inner(bytes(bad_len)), "bad_inner"),
            ("inner source in our own LAN", inner(ip("192.168.1.5", "10.0.0.2", 1, 1)), "inner_src"),
            ("inner source routed nowhere", inner(ip("8.8.8.8", "10.0.0.2", 1, 1)), "inner_src"),
            ("for another spoke (spokes never relay)", inner(ip("10.0.0.1", "10.0.0.3", 1, 1)),
             "not_local"),
            ("a DROP rule", inner(ip("10.0.0.1", "192.168.2.200", 1, 1)), "policy_drop"),
            ("no rule", inner(ip("10.0.0.1", "8.8.8.8", 1, 1)), "no_route"),
            ("for our LAN", inner(ip("192.168.2.10", "192.168.1.10", 1, 1)), "rx_packets")]


def tx_rows():
    s = spoke()
    ip = w.icmp_echo
    r = [("to the unverified hub", s.send_packet(ip("10.0.0.2", "10.0.0.1", 1, 1), 1.0),
          "unverified"),
         ("a keepalive to the unverified hub", s.send_keepalive(1.0), "unverified"),
         ("... nothing sent", kinds(s), [])]
    s = spoke(verified=True)
    r += [("to ourselves", s.send_packet(ip("10.0.0.2", "10.0.0.2", 1, 1), 1.0), "tun_loop"),
          ("no rule", s.send_packet(ip("10.0.0.2", "8.8.8.8", 1, 1), 1.0), "no_route"),
          ("a DROP rule", s.send_packet(ip("10.0.0.2", "192.168.2.200", 1, 1), 1.0), "policy_drop"),
          ("1421 bytes", s.send_packet(ip("10.0.0.2", "10.0.0.1", 1, 1, bytes(1393)), 1.0),
           "too_big"),
          ("1420 bytes", s.send_packet(ip("10.0.0.2", "10.0.0.1", 1, 1, bytes(1392)), 1.0), None),
          ("... sealed with seq 0, the next one 1", (sent(s).get("seq"), s.hub.tx_seq), (0, 1))]
    t = spoke()
    t.tick(0.5)
    r.append(("no second challenge within the second", kinds(t), []))
    t.tick(1.0)
    r.append(("one every second while unverified", kinds(t), ["challenge"]))
    return r


def rows():
    out = []
    for group in (header_rows, challenge_rows, unverified_rows, response_rows, move_rows,
                  data_rows, inner_rows, tx_rows):
        for name, got, want in group():
            out.append((f"{group.__name__[:-5]}: {name}", str(got), str(want)))
    return out
