# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_crypto.py: the primitives of the spec peer, in pure
Python (stdlib only), written from the RFCs and nothing else:

  x25519(k, u)                 RFC 7748 section 5 (Montgomery ladder)
  chacha20_block/_xor          RFC 8439 sections 2.3, 2.4
  poly1305(msg, key)           RFC 8439 section 2.5
  aead_seal/aead_open          RFC 8439 section 2.8 (AEAD_CHACHA20_POLY1305)
  blake2b256(key, msg)         keyed BLAKE2b, 32-byte output (hashlib)
  rfc_vectors()                the RFCs' examples: [(name, got, want)]

Slow (a few hundred datagrams a second), which is plenty for a test peer.
"""
import hashlib
import hmac
import struct

P25519 = 2**255 - 19
A24 = 121665
BASEPOINT = (9).to_bytes(32, "little")


def _clamp(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def _decode_u(u):
    b = bytearray(u)
    b[31] &= 127  # RFC 7748: mask the most significant bit
    return int.from_bytes(b, "little") % P25519


def x25519(k, u):
    """X25519(k, u) per RFC 7748 section 5: 32-byte scalar, 32-byte u."""
    if len(k) != 32 or len(u) != 32:
        raise ValueError("x25519: scalar and u must be 32 bytes")
    k_int, x1 = _clamp(k), _decode_u(u)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in range(254, -1, -1):
        k_t = (k_int >> t) & 1
        swap ^= k_t
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = k_t
        a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
        aa, bb = a * a % P25519, b * b % P25519
        e = (aa - bb) % P25519
        c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
        da, cb = d * a % P25519, c * b % P25519
        x3 = (da + cb) ** 2 % P25519
        z3 = x1 * (da - cb) ** 2 % P25519
        x2 = aa * bb % P25519
        z2 = e * (aa + A24 * e) % P25519
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2 * pow(z2, P25519 - 2, P25519) % P25519).to_bytes(32, "little")


def x25519_public(priv):
    return x25519(priv, BASEPOINT)


def _rotl(v, n):
    return ((v << n) & 0xFFFFFFFF) | (v >> (32 - n))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter, nonce):
    """RFC 8439 section 2.3: one 64-byte keystream block."""
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8L", key)) + [counter & 0xFFFFFFFF]
    state += list(struct.unpack("<3L", nonce))
    w = list(state)
    for _ in range(10):
        _quarter(w, 0, 4, 8, 12)
        _quarter(w, 1, 5, 9, 13)
        _quarter(w, 2, 6, 10, 14)
        _quarter(w, 3, 7, 11, 15)
        _quarter(w, 0, 5, 10, 15)
        _quarter(w, 1, 6, 11, 12)
        _quarter(w, 2, 7, 8, 13)
        _quarter(w, 3, 4, 9, 14)
    return struct.pack("<16L", *[(w[i] + state[i]) & 0xFFFFFFFF for i in range(16)])


def chacha20_xor(key, counter, nonce, data):
    """RFC 8439 section 2.4: encrypt or decrypt data from block `counter` on."""
    out = bytearray()
    for i in range(0, len(data), 64):
        ks = chacha20_block(key, counter + i // 64, nonce)
        chunk = data[i:i + 64]
        out += bytes(x ^ y for x, y in zip(chunk, ks))
    return bytes(out)


def poly1305(msg, key):
    """RFC 8439 section 2.5: a 16-byte tag of msg under a one-time 32-byte key."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:32], "little")
    p, acc = (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(b):
    return b"\x00" * (-len(b) % 16)


def _aead_tag(key, nonce, aad, ct):
    otk = chacha20_block(key, 0, nonce)[:32]
    mac = aad + _pad16(aad) + ct + _pad16(ct) + struct.pack("<QQ", len(aad), len(ct))
    return poly1305(mac, otk)


def aead_seal(key, nonce, aad, plain):
    """RFC 8439 section 2.8: ciphertext || 16-byte tag."""
    ct = chacha20_xor(key, 1, nonce, plain)
    return ct + _aead_tag(key, nonce, aad, ct)


def aead_open(key, nonce, aad, sealed):
    """The plaintext, or None when the tag does not verify (compared in constant time)."""
    if len(sealed) < 16:
        return None
    ct, tag = sealed[:-16], sealed[-16:]
    if not hmac.compare_digest(_aead_tag(key, nonce, aad, ct), tag):
        return None
    return chacha20_xor(key, 1, nonce, ct)


def blake2b256(key, msg):
    """Keyed BLAKE2b with a 32-byte output (libsodium's crypto_generichash)."""
    return hashlib.blake2b(msg, digest_size=32, key=key).digest()


# ---- the RFCs' own examples -------------------------------------------------

H = bytes.fromhex

RFC7748_61 = {  # section 6.1, Curve25519 Diffie-Hellman
    "a_priv": "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "a_pub": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "b_priv": "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    "b_pub": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    "shared": "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
}
RFC7748_52 = [  # section 5.2, (scalar, u, output)
    ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
]
# section 5.2, iterated: k = u = 9; after 1 and 1000 iterations (the
# 1,000,000-iteration value would take hours in pure Python and is left out)
RFC7748_ITER = {
    1: "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
    1000: "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
}
RFC8439_282 = {  # section 2.8.2, AEAD_CHACHA20_POLY1305
    "plain": b"Ladies and Gentlemen of the class of '99: If I could offer you only "
             b"one tip for the future, sunscreen would be it.",
    "aad": "50515253c0c1c2c3c4c5c6c7",
    "key": "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    "nonce": "070000004041424344454647",
    "cipher": "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
              "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
              "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
              "3ff4def08e4b7a9de576d26586cec64b6116",
    "tag": "1ae10b594f09e26a7e902ecbd0600691",
}


def _x25519_iterated(n):
    k = u = BASEPOINT
    for _ in range(n):
        k, u = x25519(k, u), k
    return k


def rfc_vectors(iterations=(1, 1000)):
    """Every RFC example as (name, got_hex, want_hex)."""
    v = RFC7748_61
    out = [
        ("rfc7748 6.1 alice pub", x25519_public(H(v["a_priv"])).hex(), v["a_pub"]),
        ("rfc7748 6.1 bob pub", x25519_public(H(v["b_priv"])).hex(), v["b_pub"]),
        ("rfc7748 6.1 shared (alice)", x25519(H(v["a_priv"]), H(v["b_pub"])).hex(), v["shared"]),
        ("rfc7748 6.1 shared (bob)", x25519(H(v["b_priv"]), H(v["a_pub"])).hex(), v["shared"]),
    ]
    for i, (k, u, want) in enumerate(RFC7748_52, 1):
        out.append((f"rfc7748 5.2 vector {i}", x25519(H(k), H(u)).hex(), want))
    for n in iterations:
        out.append((f"rfc7748 5.2 {n} iteration(s)", _x25519_iterated(n).hex(), RFC7748_ITER[n]))
    a = RFC8439_282
    sealed = aead_seal(H(a["key"]), H(a["nonce"]), H(a["aad"]), a["plain"])
    out.append(("rfc8439 2.8.2 ciphertext", sealed[:-16].hex(), a["cipher"]))
    out.append(("rfc8439 2.8.2 tag", sealed[-16:].hex(), a["tag"]))
    opened = aead_open(H(a["key"]), H(a["nonce"]), H(a["aad"]), sealed)
    out.append(("rfc8439 2.8.2 open", (opened or b"").hex(), a["plain"].hex()))
    bad = bytearray(sealed)
    bad[0] ^= 1
    refused = aead_open(H(a["key"]), H(a["nonce"]), H(a["aad"]), bytes(bad)) is None
    out.append(("rfc8439 2.8.2 a flipped bit is refused", str(refused), "True"))
    return out
