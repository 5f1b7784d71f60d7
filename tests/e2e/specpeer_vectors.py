# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_vectors.py: `specpeer.py selftest`. Checks, and
prints one line per value:

  - the examples of RFC 7748 (sections 5.2, 6.1) and RFC 8439 (2.8.2);
  - every value of docs/protocol.md section 10 (keys, dh, pair keys with
    and without PSK, direction keys, the inner packets, the four sealed
    datagrams byte for byte), each opened again by its receiver, and the
    response rebuilt by the spoke state machine from the challenge;
  - that each of those values is still written in docs/protocol.md;
  - the receive steps of section 6 and the rules of section 7, one case
    per row (specpeer_steps.py);
  - that the demo keys in conf/keys/ match their .pub files.
Returns the number of mismatches.
"""
import base64
import os
import re

import specpeer_crypto as c
import specpeer_steps
import specpeer_wire as w
from specpeer_node import Spoke

H = bytes.fromhex
EPOCH = 1700000000
PRIV1 = bytes(range(0x01, 0x21))
PRIV2 = bytes(range(0x21, 0x41))
PSK = bytes(range(0x41, 0x61))
CHAL = bytes(range(16))

DOC = {  # docs/protocol.md, section 10
    "pub1": "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
    "pub2": "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b",
    "priv1_b64": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "pub1_b64": "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=",
    "priv2_b64": "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=",
    "pub2_b64": "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=",
    "psk_b64": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2A=",
    "dh": "a84dc7c3c8f058b1b2dc4cd1e9b5dc0a7987f88b6a9564cde3391fc421159e77",
    "pair": "b82997f3e5ae1fa73a78ba77e01c426bfc76edc1899a210587624053bfea56fe",
    "pair_psk": "0e5078ccd72fde067f4c4983a8590d678fbe3ab60e9d9fa5e2ff73a6cd591127",
    "dir21": "b0521ecd2b97d1a9aca79772d809f56b81f316c0c4ecb67c9dc60b781a8edaf9",
    "dir12": "24434c9ff109fe5af522d9519536403a926d0ef686ea7da714f9dd382adc7b53",
    "plain21": "4500001c00004000400126df0a0000020a0000010800e5ca12340001",
    "plain12": "4500001c00004000400126df0a0000010a0000020000edca12340001",
    "dg21": "01000000000000026553f1000000000000000007"
            "5cd4afc0b4080311d798d6ff65412aeb0143a534c6a74ed05a85bbf3"
            "de87c1f17ab536a2fbb52aee769cccd1",
    "dg12": "01000000000000016553f1000000000000000007"
            "2067b59f739410efff00d92ee0e518c817e5ad2ee314bfdc79149848"
            "f3d65db9c2ffa7da343071fa8669fadf",
    "chal": "01020000000000016553f1008000000000000001"
            "3e6343066121f6ffce2a76a8e460eb7d"
            "77d901cf9188e117235f7d905cdd5b08",
    "resp": "01040000000000026553f100c0ffee0000000002"
            "faec49ca3c211abee60393a11e713afe7fc66e3707b3b0433a25af1e"
            "82cb146a9c0aa1a8dbc7ce5a3813589e",
    "resp_plain": "000102030405060708090a0b0c0d0e0f000000000000000000000007",
}
CHAL_SEQ, RESP_SEQ = 0x8000000000000001, 0xC0FFEE0000000002


def b64(b):
    return base64.b64encode(b).decode()


def key_rows():
    pub1, pub2 = c.x25519_public(PRIV1), c.x25519_public(PRIV2)
    dh12, dh21 = c.x25519(PRIV1, pub2), c.x25519(PRIV2, pub1)
    pair1, pair2 = w.pair_key(PRIV1, pub1, pub2), w.pair_key(PRIV2, pub2, pub1)
    return [
        ("priv1 base64", b64(PRIV1), DOC["priv1_b64"]),
        ("priv2 base64", b64(PRIV2), DOC["priv2_b64"]),
        ("pub1", pub1.hex(), DOC["pub1"]), ("pub1 base64", b64(pub1), DOC["pub1_b64"]),
        ("pub2", pub2.hex(), DOC["pub2"]), ("pub2 base64", b64(pub2), DOC["pub2_b64"]),
        ("psk base64", b64(PSK), DOC["psk_b64"]),
        ("dh (node 1)", dh12.hex(), DOC["dh"]), ("dh (node 2)", dh21.hex(), DOC["dh"]),
        ("pk_lo is pub1", str(min(pub1, pub2) == pub1), "True"),
        ("pair_key (node 1)", pair1.hex(), DOC["pair"]),
        ("pair_key (node 2)", pair2.hex(), DOC["pair"]),
        ("pair_key with PSK (node 1)", w.pair_key(PRIV1, pub1, pub2, PSK).hex(), DOC["pair_psk"]),
        ("pair_key with PSK (node 2)", w.pair_key(PRIV2, pub2, pub1, PSK).hex(), DOC["pair_psk"]),
        ("dir_key(2, 1, E)", w.dir_key(pair1, 2, 1, EPOCH).hex(), DOC["dir21"]),
        ("dir_key(1, 2, E)", w.dir_key(pair2, 1, 2, EPOCH).hex(), DOC["dir12"]),
    ]


def datagram_rows():
    pub1, pub2 = c.x25519_public(PRIV1), c.x25519_public(PRIV2)
    pair_at1, pair_at2 = w.pair_key(PRIV1, pub1, pub2), w.pair_key(PRIV2, pub2, pub1)
    k21_tx, k21_rx = w.dir_key(pair_at2, 2, 1, EPOCH), w.dir_key(pair_at1, 2, 1, EPOCH)
    k12_tx, k12_rx = w.dir_key(pair_at1, 1, 2, EPOCH), w.dir_key(pair_at2, 1, 2, EPOCH)
    req = w.icmp_echo("10.0.0.2", "10.0.0.1", 0x1234, 1)
    rep = w.icmp_echo("10.0.0.1", "10.0.0.2", 0x1234, 1, reply=True)
    cases = [  # name, tx key, rx key, flags, sender, seq, plain, want
        ("node 2 -> node 1 data", k21_tx, k21_rx, 0, 2, 7, req, DOC["dg21"]),
        ("node 1 -> node 2 data", k12_tx, k12_rx, 0, 1, 7, rep, DOC["dg12"]),
        ("node 1 challenges node 2", k12_tx, k12_rx, w.F_CHALLENGE, 1, CHAL_SEQ, CHAL, DOC["chal"]),
        ("node 2 answers", k21_tx, k21_rx, w.F_RESPONSE, 2, RESP_SEQ, H(DOC["resp_plain"]),
         DOC["resp"]),
    ]
    rows = [("echo request (10.0.0.2 -> 10.0.0.1)", req.hex(), DOC["plain21"]),
            ("echo reply (10.0.0.1 -> 10.0.0.2)", rep.hex(), DOC["plain12"])]
    for name, ktx, krx, flags, sender, seq, plain, want in cases:
        d = w.seal(ktx, flags, sender, EPOCH, seq, plain)
        rows.append((f"{name}: sealed, {len(d)} bytes", d.hex(), want))
        rows.append((f"{name}: opened by the receiver", (w.open_sealed(krx, H(want)) or b"").hex(),
                     plain.hex()))
    return rows


def response_rows():
    """Node 2 as a spoke of 'hub' node 1 answers the vector's challenge; node
    1 as a spoke of 'hub' node 2 takes the vector's response."""
    pub1, pub2 = c.x25519_public(PRIV1), c.x25519_public(PRIV2)
    n2 = Spoke(2, PRIV2, pub2, 1, pub1, ("192.0.2.1", 1), EPOCH)
    n2.hub.tx_seq = 7
    n2.rand_seq = lambda: RESP_SEQ
    got = n2.receive(H(DOC["chal"]), ("192.0.2.1", 1), now=0.0)
    sent = n2.out[-1][0].hex() if n2.out else ""
    pol = w.Policy()
    pol.add("10.0.0.1/32", "local")
    pol.add("10.0.0.0/24", "forward", 2)
    n1 = Spoke(1, PRIV1, pub1, 2, pub2, ("192.0.2.2", 1), EPOCH, policy=pol)
    n1.hub.challenge = CHAL
    took = n1.receive(H(DOC["resp"]), ("192.0.2.2", 1), now=0.0)
    h = n1.hub
    window = [h.window.check(6), h.window.check(7)] if h.window else None
    data = n1.receive(H(DOC["dg21"]), ("192.0.2.2", 1), now=0.0)
    again = n1.receive(H(DOC["dg21"]), ("192.0.2.2", 1), now=0.0)
    return [
        ("node 2 counts the challenge", got, "challenge_rx"),
        ("node 2's response (rebuilt by the state machine)", sent, DOC["resp"]),
        ("node 1 takes the response", took, "response_rx"),
        ("node 1: node 2 verified, epoch accepted", f"{h.verified} {h.rx_epoch}", f"True {EPOCH}"),
        ("node 1: seq 6 refused, seq 7 acceptable (floor 7)", str(window), "[False, True]"),
        ("node 1: own epoch not moved (reported 0)", str(n1.epoch), str(EPOCH)),
        ("node 1 accepts node 2's data, seq 7", data, "rx_packets"),
        ("node 1: the same datagram again", again, "replay"),
    ]


def doc_rows(rows):
    """Every expected hex value of section 10 still appears in docs/protocol.md."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/protocol.md")
    if not os.path.exists(path):
        return [("docs/protocol.md found", "False", "True")]
    text = open(path).read()
    # values are split over lines and annotated "(IPv4 header)": try both readings
    flats = [re.sub(r"[\s`]", "", t) for t in (text, re.sub(r"\([^)\n]*\)", "", text))]
    out = []
    for name, want in DOC.items():
        if name == "resp_plain":
            continue
        out.append((f"docs/protocol.md still holds {name}", str(any(want in f for f in flats)), "True"))
    return out


def conf_key_rows():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../conf/keys")
    rows = []
    for node in ("hub", "spoke-a", "spoke-b"):
        kf, pf = os.path.join(d, node + ".key"), os.path.join(d, node + ".pub")
        if os.path.exists(kf) and os.path.exists(pf):
            priv = base64.b64decode(open(kf).read().strip())
            rows.append((f"conf/keys/{node}.pub = X25519(priv, 9)", b64(c.x25519_public(priv)),
                         open(pf).read().strip()))
    return rows


def selftest(quick=False):
    groups = [("RFC 7748 / RFC 8439", c.rfc_vectors((1,) if quick else (1, 1000))),
              ("docs/protocol.md section 10: keys", key_rows()),
              ("docs/protocol.md section 10: datagrams", datagram_rows()),
              ("docs/protocol.md section 10: challenge and response", response_rows()),
              ("docs/protocol.md holds the vector", doc_rows(None)),
              ("receive steps and verification (sections 6, 7)", specpeer_steps.rows()),
              ("conf/keys", conf_key_rows())]
    bad = 0
    for title, rows in groups:
        print(f"== {title}")
        for name, got, want in rows:
            ok = got == want
            bad += not ok
            print(f"  {'ok ' if ok else 'BAD'} {name}" + ("" if ok else f": got {got}, want {want}"))
    print(f"selftest: {'all match' if not bad else f'{bad} mismatch(es)'}")
    return bad


if __name__ == "__main__":
    raise SystemExit(1 if selftest() else 0)
