# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_wire.py: the Subnetra datagram as docs/protocol.md
describes it (sections 1, 3, 5, 6), written from that page alone:

  pair_key, dir_key        section 1, the key schedule
  header, seal, open_sealed, parse, precheck
                           section 3 and receive steps 1-3
  Window                   section 6, the replay window with the floor of
                           section 7
  ipv4 helpers, Policy     the inner packet checks of steps 9-11
"""
import ipaddress
import struct

from specpeer_crypto import aead_open, aead_seal, blake2b256, x25519

VERSION = 1
F_KEEPALIVE, F_CHALLENGE, F_RESPONSE = 0x01, 0x02, 0x04
F_KINDS = F_KEEPALIVE | F_CHALLENGE | F_RESPONSE
HDR_LEN, TAG_LEN = 20, 16
MIN_LEN = HDR_LEN + TAG_LEN            # a keepalive: 36
CHALLENGE_LEN = MIN_LEN + 16           # 52
RESPONSE_LEN = MIN_LEN + 28            # 64
RANDOM_SEQ_BIT = 1 << 63               # challenges and responses
EPOCH_MIN, EPOCH_MAX = 1, 0xFFFFFFFE
ID_MIN, ID_MAX = 1, 0xFFFFFFFE
LABEL_PAIR = b"subnetra/v1/pair"
LABEL_DATA = b"subnetra/v1/data"
KIND_NAMES = {0: "data", F_KEEPALIVE: "keepalive", F_CHALLENGE: "challenge",
              F_RESPONSE: "response"}


def pair_key(priv, own_pub, peer_pub, psk=b""):
    """Section 1: BLAKE2b-256(key = dh, "subnetra/v1/pair" || pk_lo || pk_hi || psk).
    Raises ValueError for an all-zero dh (the peer key is refused)."""
    dh = x25519(priv, peer_pub)
    if dh == bytes(32):
        raise ValueError("X25519 gives all zeros for this peer key: refused")
    lo, hi = sorted((own_pub, peer_pub))
    return blake2b256(dh, LABEL_PAIR + lo + hi + psk)


def dir_key(pair, sender, receiver, epoch):
    """Section 1: the key of what `sender` sends `receiver` in sender's `epoch`."""
    return blake2b256(pair, LABEL_DATA + struct.pack(">LLL", sender, receiver, epoch))


def header(flags, key_id, epoch, seq, reserved=0, version=VERSION):
    return struct.pack(">BBHLLQ", version, flags, reserved, key_id, epoch, seq)


def nonce(epoch, seq):
    return struct.pack(">LQ", epoch, seq)


def seal(key, flags, key_id, epoch, seq, plain):
    """Section 3: header || ChaCha20-Poly1305(key, be32(epoch)||be64(seq), aad = header)."""
    hdr = header(flags, key_id, epoch, seq)
    return hdr + aead_seal(key, nonce(epoch, seq), hdr, plain)


def parse(d):
    """(version, flags, reserved, key_id, epoch, seq) of a datagram of >= 20 bytes."""
    return struct.unpack(">BBHLLQ", d[:HDR_LEN])


def open_sealed(key, d):
    """The plaintext of datagram d under key, or None when its tag does not verify."""
    _, _, _, _, epoch, seq = parse(d)
    return aead_open(key, nonce(epoch, seq), d[:HDR_LEN], d[HDR_LEN:])


def precheck(d):
    """Receive steps 1-3 (no key used): the drop reason, or None."""
    if len(d) < MIN_LEN:
        return "short"
    version, flags, reserved, _, _, _ = parse(d)
    if version != VERSION:
        return "bad_version"
    if flags & ~F_KINDS & 0xFF or reserved != 0:
        return "bad_header"
    if flags not in KIND_NAMES:  # more than one kind bit
        return "bad_header"
    want = {F_KEEPALIVE: MIN_LEN, F_CHALLENGE: CHALLENGE_LEN, F_RESPONSE: RESPONSE_LEN}
    if flags == 0 and len(d) == MIN_LEN:
        return "bad_header"  # data with an empty plaintext
    if flags and len(d) != want[flags]:
        return "bad_header"
    return None


class Window:
    """Section 6: the replay window of one accepted epoch. Seqs more than
    SIZE below the highest seen are refused, newer ones judged exactly; the
    floor of a verifying response (section 7) makes every seq below it seen.
    Checking and marking are separate (step 6 checks, step 8 marks)."""
    SIZE = 4032

    def __init__(self, floor=0):
        self.floor = floor
        self.top = None
        self.seen = set()

    def check(self, seq):
        if seq < self.floor:
            return False
        if self.top is not None and seq <= self.top - self.SIZE:
            return False
        return seq not in self.seen

    def mark(self, seq):
        """Mark seq seen; True when it is the highest seen in the epoch."""
        self.seen.add(seq)
        if self.top is not None and seq <= self.top:
            return False
        self.top = seq
        if len(self.seen) > 2 * self.SIZE:
            self.seen = {s for s in self.seen if s > seq - self.SIZE}
        return True


# ---- the inner packet ---------------------------------------------------------

def ip_checksum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, ttl=64, df=True):
    total = 20 + len(payload)
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, 0x4000 if df else 0, ttl, proto, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    h = h[:10] + struct.pack(">H", ip_checksum(h)) + h[12:]
    return h + payload


def icmp_echo(src, dst, ident, seq, payload=b"", reply=False, ip_id=0):
    body = struct.pack(">BBHHH", 0 if reply else 8, 0, 0, ident, seq) + payload
    body = body[:2] + struct.pack(">H", ip_checksum(body)) + body[4:]
    return ipv4(src, dst, 1, body, ident=ip_id)


def ipv4_wellformed(p):
    """Step 9: version 4, IHL >= 5, IHL * 4 <= length, total length == length."""
    if len(p) < 20 or p[0] >> 4 != 4:
        return False
    ihl = p[0] & 0x0F
    return ihl >= 5 and ihl * 4 <= len(p) and struct.unpack(">H", p[2:4])[0] == len(p)


def ipv4_addrs(p):
    return str(ipaddress.IPv4Address(p[12:16])), str(ipaddress.IPv4Address(p[16:20]))


def icmp_fields(p):
    """(type, ident, seq, payload) of an ICMP packet, else None."""
    ihl = (p[0] & 0x0F) * 4
    if p[9] != 1 or len(p) < ihl + 8:
        return None
    t, _, _, ident, seq = struct.unpack(">BBHHH", p[ihl:ihl + 8])
    return t, ident, seq, p[ihl + 8:]


class Policy:
    """Longest-prefix match over (prefix, action, peer): action 'local',
    'forward' (to peer) or 'drop'."""

    def __init__(self):
        self.rules = []

    def add(self, prefix, action, peer=None):
        self.rules.append((ipaddress.IPv4Network(prefix), action, peer))

    def lookup(self, addr):
        a = ipaddress.IPv4Address(addr)
        best = None
        for net, action, peer in self.rules:
            if a in net and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, action, peer)
        return (best[1], best[2]) if best else (None, None)
