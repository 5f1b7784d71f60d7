# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_craft.py: datagrams the spec peer sends on purpose to
probe the receive steps of its hub (docs/protocol.md section 6), each with
the name under which the hub must count it. `craft NAME [COUNT]` in a
spec peer script; `specpeer.py craft-list` prints the table.

Sealed ones use the spoke's real keys (they pass step 7 when they should).
Those the hub must accept take the next seq like any datagram; the others
take a random seq in 2^62 .. 2^63 - 1, far above any sequenced count, so no
(key, nonce) of real traffic is ever used for a probe.
"""
import os

import specpeer_wire as w

# name: (what the hub must count it as, what it is)
CRAFTS = {
    "short": ("short", "35 bytes"),
    "bad_version": ("bad_version", "version 2"),
    "reserved_flag": ("bad_header", "flag bit 0x08"),
    "reserved_byte": ("bad_header", "reserved bytes 0x0001"),
    "two_kinds": ("bad_header", "KEEPALIVE|CHALLENGE, 52 bytes"),
    "empty_data": ("bad_header", "data, 36 bytes"),
    "keepalive_plain": ("bad_header", "KEEPALIVE with 4 bytes of plaintext"),
    "challenge_len": ("bad_header", "CHALLENGE of 53 bytes"),
    "response_len": ("bad_header", "RESPONSE of 52 bytes"),
    "unknown_peer": ("unknown_peer", "key_id 9, not a peer"),
    "own_id": ("unknown_peer", "key_id = the hub's own id"),
    "auth_fail": ("auth_fail", "data with one tag bit flipped"),
    "auth_fail_epoch": ("auth_fail", "data of a newer epoch, one tag bit flipped"),
    "stale_epoch": ("stale_epoch", "data sealed in our epoch - 1"),
    "bad_inner": ("bad_inner", "data: 20 zero bytes"),
    "inner_src": ("inner_src", "echo request from 192.168.2.5 (spoke B's LAN)"),
    "relay_loop": ("relay_loop", "echo request to 192.168.1.10 (our own LAN)"),
    "no_route": ("no_route", "echo request to 8.8.8.8"),
    "bad_response": ("bad_response", "RESPONSE to no challenge of the hub's"),
    "challenge": ("challenge_rx", "CHALLENGE with 16 random bytes (answered)"),
    "keepalive": ("keepalive_rx", "an ordinary keepalive"),
    # values only a sender is told to avoid (section 5); the receive steps
    # do not refuse them, and each ends the session it lands in
    "top_bit_seq": ("rx_packets", "echo request with seq 2^63 + 1 (!: later seqs are replays)"),
    "epoch_ffffffff": ("rx_packets", "echo request in epoch 0xFFFFFFFF (!: ours is stale after)"),
}


def flip_last(d):
    b = bytearray(d)
    b[-1] ^= 1
    return bytes(b)


def probe_seq():
    return (1 << 62) | int.from_bytes(os.urandom(8), "big") >> 2


def raw(spoke, flags=0, n=4, version=1, reserved=0, key_id=None):
    kid = spoke.own_id if key_id is None else key_id
    return w.header(flags, kid, spoke.epoch, probe_seq(), reserved, version) + os.urandom(n + 16)


def sealed(spoke, flags, plain, epoch=None, seq=None, key_id=None):
    e = spoke.epoch if epoch is None else epoch
    kid = spoke.own_id if key_id is None else key_id
    s = spoke.next_seq() if seq is None else seq
    return w.seal(w.dir_key(spoke.pair, kid, spoke.hub_id, e), flags, kid, e, s, plain)


def echo(spoke, src, dst):
    return sealed(spoke, 0, w.icmp_echo(src, dst, 0x5150, 1, b"probe"))


def build(spoke, name, src):
    """The datagram `name` of CRAFTS, from a spoke whose overlay address is src."""
    rnd, probe = spoke.rand_seq(), probe_seq()
    ping = w.icmp_echo(src, "10.0.0.1", 0x5150, 2, b"probe")
    table = {
        "short": lambda: os.urandom(35),
        "bad_version": lambda: raw(spoke, version=2),
        "reserved_flag": lambda: raw(spoke, flags=0x08),
        "reserved_byte": lambda: raw(spoke, reserved=1),
        "two_kinds": lambda: raw(spoke, flags=0x03, n=16),
        "empty_data": lambda: raw(spoke, n=0),
        "keepalive_plain": lambda: raw(spoke, flags=w.F_KEEPALIVE, n=4),
        "challenge_len": lambda: raw(spoke, flags=w.F_CHALLENGE, n=17),
        "response_len": lambda: raw(spoke, flags=w.F_RESPONSE, n=16),
        "unknown_peer": lambda: sealed(spoke, 0, ping, key_id=9, seq=probe),
        "own_id": lambda: sealed(spoke, 0, ping, key_id=spoke.hub_id, seq=probe),
        "auth_fail": lambda: flip_last(sealed(spoke, 0, ping, seq=probe)),
        "auth_fail_epoch": lambda: flip_last(sealed(spoke, 0, ping, epoch=spoke.epoch + 1,
                                                    seq=probe)),
        "stale_epoch": lambda: sealed(spoke, 0, ping, epoch=spoke.epoch - 1, seq=probe),
        "bad_inner": lambda: sealed(spoke, 0, bytes(20)),
        "inner_src": lambda: echo(spoke, "192.168.2.5", "10.0.0.1"),
        "relay_loop": lambda: echo(spoke, src, "192.168.1.10"),
        "no_route": lambda: echo(spoke, src, "8.8.8.8"),
        "bad_response": lambda: sealed(spoke, w.F_RESPONSE, os.urandom(16) + bytes(12), seq=rnd),
        "challenge": lambda: sealed(spoke, w.F_CHALLENGE, os.urandom(16), seq=rnd),
        "keepalive": lambda: sealed(spoke, w.F_KEEPALIVE, b""),
        "top_bit_seq": lambda: sealed(spoke, 0, ping, seq=w.RANDOM_SEQ_BIT | 1),
        "epoch_ffffffff": lambda: sealed(spoke, 0, ping, epoch=0xFFFFFFFF, seq=0),
    }
    return table[name]()
