# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_node.py: a Subnetra spoke as docs/protocol.md
describes it, without any I/O: the receive steps of section 6 (every drop
reason), the verification of section 7 (challenge, response, rate limits,
freshness floor, moving past a used epoch), the epochs and seqs of section
5 and the keepalives of section 8. Datagrams to send are appended to
`out` as (bytes, (host, port), meta); inner packets for this node go to
`deliver(packet)`. The clock is passed in (seconds, float).
"""
import collections
import os
import struct
import time

import specpeer_wire as w

RATE_LIMIT = 0.1          # one challenge / response per (peer, address) per 100 ms
CHALLENGE_EVERY = 1.0     # while the peer stays unverified
REJECT_LOG_MAX = 2000
# docs/protocol.md's names (section 6) for what a datagram is counted as,
# then what the spec peer counts besides (tx_drop_<reason> for packets it
# did not send, as the TUN side of section 6 would drop them)
RX_NAMES = ("rx_packets", "keepalive_rx", "challenge_rx", "response_rx", "short", "bad_version",
            "bad_header", "unknown_peer", "unverified", "stale_epoch", "replay", "auth_fail",
            "bad_response", "bad_inner", "inner_src", "not_local", "policy_drop", "no_route")
OWN_NAMES = ("tx_packets", "keepalive_tx", "challenge_tx", "response_tx", "response_limited",
             "tun_rx_packets", "tun_tx_packets", "endpoint_moves", "epoch_moves", "tx_error")


class Session:
    """What the spoke keeps about its one peer, the hub (section 6)."""

    def __init__(self, endpoint):
        self.verified = False
        self.challenge = os.urandom(16)   # drawn when the peer becomes unverified
        self.rx_epoch = None              # accepted from the hub
        self.window = None
        self.endpoint = endpoint          # configured; then learnt (section 8)
        self.last_rx = None
        self.tx_seq = 0                   # next sequenced seq towards the hub
        self.answered = set()             # hub epochs whose challenges we answered, this epoch
        self.reported = None              # epoch the hub reported accepting from us
        self.epochs_accepted = 0
        self.keys = {}                    # (sender, epoch) -> dir_key


class Spoke:
    def __init__(self, own_id, priv, pub, hub_id, hub_pub, hub_endpoint, epoch, psk=b"",
                 policy=None, mtu=1420, keepalive=25, persist=None, deliver=None, clock=time.monotonic):
        self.own_id, self.hub_id = own_id, hub_id
        self.pair = w.pair_key(priv, pub, hub_pub, psk)
        self.epoch = epoch
        self.hub = Session(hub_endpoint)
        self.policy = policy or w.Policy()
        self.mtu, self.keepalive = mtu, keepalive
        self.persist = persist or (lambda e: None)
        self.deliver = deliver or (lambda p: None)
        self.clock = clock
        self.rand_seq = lambda: w.RANDOM_SEQ_BIT | int.from_bytes(os.urandom(8), "big")
        # the epoch a RESPONSE reports accepting from the hub, given the
        # challenge's epoch (a test may make it lie, as a hub whose state
        # directory was rolled back would be told)
        self.report_for = lambda challenge_epoch: self.hub.rx_epoch or 0
        self.counters = collections.Counter({n: 0 for n in RX_NAMES + OWN_NAMES})
        self.rejected = []
        self.moves = []                   # epoch moves: {from, to, reported}
        self.out = []
        self.limits = {}                  # (kind, address) -> time of the last one sent
        self.last_tx = None               # last sequenced datagram to the hub
        self.last_challenge = None
        self.verified_at = None

    # ---- keys --------------------------------------------------------------

    def key(self, sender, receiver, epoch):
        k = self.hub.keys.get((sender, epoch))
        if k is None:
            k = w.dir_key(self.pair, sender, receiver, epoch)
            if len(self.hub.keys) > 64:
                self.hub.keys.clear()
            self.hub.keys[(sender, epoch)] = k
        return k

    def rx_key(self, epoch):
        return self.key(self.hub_id, self.own_id, epoch)

    def tx_key(self):
        return self.key(self.own_id, self.hub_id, self.epoch)

    # ---- sending -----------------------------------------------------------

    def emit(self, flags, seq, plain, addr):
        d = w.seal(self.tx_key(), flags, self.own_id, self.epoch, seq, plain)
        meta = {"kind": w.KIND_NAMES[flags], "key_id": self.own_id, "receiver": self.hub_id,
                "epoch": self.epoch, "seq": seq}
        self.out.append((d, addr, meta))
        return d

    def limited(self, kind, addr, now):
        last = self.limits.get((kind, addr))
        return last is not None and now - last < RATE_LIMIT

    def send_challenge(self, addr, now):
        """Section 7: the same 16 bytes every time, a random seq >= 2^63."""
        if self.limited("challenge", addr, now):
            return False
        self.limits[("challenge", addr)] = now
        self.emit(w.F_CHALLENGE, self.rand_seq(), self.hub.challenge, addr)
        self.counters["challenge_tx"] += 1
        self.last_challenge = now
        return True

    def next_seq(self):
        if self.hub.tx_seq >= w.RANDOM_SEQ_BIT:
            self.move_epoch(self.epoch, "seq space used up")
        seq = self.hub.tx_seq
        self.hub.tx_seq += 1
        return seq

    def send_sequenced(self, flags, plain, now):
        self.emit(flags, self.next_seq(), plain, self.hub.endpoint)
        self.last_tx = now

    def send_keepalive(self, now):
        if not self.hub.verified:
            return self.tx_drop("unverified")
        self.send_sequenced(w.F_KEEPALIVE, b"", now)
        self.counters["keepalive_tx"] += 1
        return None

    def send_packet(self, p, now=None):
        """A packet 'read from the TUN device' (section 6, last part): the
        drop reason, or None when it was sealed and queued."""
        now = self.clock() if now is None else now
        self.counters["tun_rx_packets"] += 1
        action, peer = self.policy.lookup(w.ipv4_addrs(p)[1])
        if action == "local":
            return self.tx_drop("tun_loop")
        if action == "drop":
            return self.tx_drop("policy_drop")
        if action != "forward" or peer != self.hub_id:
            return self.tx_drop("no_route")
        if not self.hub.verified:
            return self.tx_drop("unverified")
        if self.hub.endpoint is None:
            return self.tx_drop("no_endpoint")
        if len(p) > self.mtu:
            return self.tx_drop("too_big")
        self.send_sequenced(0, p, now)
        self.counters["tx_packets"] += 1
        return None

    def tx_drop(self, reason):
        self.counters["tx_drop_" + reason] += 1
        return reason

    # ---- timers ------------------------------------------------------------

    def start(self, now):
        self.started = now
        self.send_challenge(self.hub.endpoint, now)

    def tick(self, now):
        """Periodic duties: the 1 s challenge while unverified, keepalives."""
        h = self.hub
        if not h.verified:
            if self.last_challenge is None or now - self.last_challenge >= CHALLENGE_EVERY:
                self.send_challenge(h.endpoint, now)
            return
        if self.keepalive and (self.last_tx is None or now - self.last_tx >= self.keepalive):
            self.send_keepalive(now)

    def next_timer(self, now):
        if not self.hub.verified:
            return (self.last_challenge or now) + CHALLENGE_EVERY
        if self.keepalive:
            return (self.last_tx or now) + self.keepalive
        return now + 3600

    # ---- epochs ------------------------------------------------------------

    def move_epoch(self, reported, why):
        """Section 7: a new epoch greater than the reported one, persisted
        first, seq from 0; also section 5's max(time, last + 1)."""
        new = max(int(time.time()), reported + 1, self.epoch + 1)
        if new > w.EPOCH_MAX:
            raise RuntimeError(f"no usable epoch is left after {reported}")
        self.persist(new)
        self.moves.append({"from": self.epoch, "to": new, "reported": reported, "why": why})
        self.epoch = new
        self.hub.tx_seq = 0
        self.hub.answered.clear()
        self.counters["epoch_moves"] += 1

    # ---- receiving ---------------------------------------------------------

    def drop(self, reason, d, src, now):
        self.counters[reason] += 1
        if len(self.rejected) < REJECT_LOG_MAX:
            e = {"t": round(now - getattr(self, "started", now), 3), "reason": reason,
                 "src": f"{src[0]}:{src[1]}", "len": len(d)}
            if len(d) >= w.HDR_LEN:
                _, flags, _, key_id, epoch, seq = w.parse(d)
                e.update(flags=flags, key_id=key_id, epoch=epoch, seq=seq)
            self.rejected.append(e)
        return reason

    def count(self, name):
        self.counters[name] += 1
        return name

    def receive(self, d, src, now=None):
        """Section 6's receive steps, in order. Returns what the datagram
        was counted as: a drop reason, or rx_packets / keepalive_rx /
        challenge_rx / response_rx."""
        now = self.clock() if now is None else now
        reason = w.precheck(d)                                   # steps 1-3
        if reason:
            return self.drop(reason, d, src, now)
        _, flags, _, key_id, epoch, seq = w.parse(d)
        if key_id != self.hub_id or key_id == self.own_id:       # step 4
            return self.drop("unknown_peer", d, src, now)
        if flags == w.F_CHALLENGE:                               # step 4a
            return self.on_challenge(d, src, epoch, now)
        h = self.hub
        if flags != w.F_RESPONSE:
            if not h.verified:                                   # step 4b
                return self.on_unverified(d, src, epoch, now)
            if epoch < h.rx_epoch:                               # step 5
                return self.drop("stale_epoch", d, src, now)
            if epoch == h.rx_epoch and not h.window.check(seq):  # step 6
                return self.drop("replay", d, src, now)
        plain = w.open_sealed(self.rx_key(epoch), d)             # step 7
        if plain is None:
            return self.drop("auth_fail", d, src, now)
        if flags == w.F_RESPONSE:                                # step 8
            return self.on_response(d, plain, src, epoch, now)
        return self.accept(d, plain, flags, src, epoch, seq, now)

    def on_challenge(self, d, src, epoch, now):
        plain = w.open_sealed(self.rx_key(epoch), d)
        if plain is None:
            return self.drop("auth_fail", d, src, now)
        self.counters["challenge_rx"] += 1
        if not self.limited("response", src, now):
            self.limits[("response", src)] = now
            h = self.hub
            body = plain + struct.pack(">LQ", self.report_for(epoch), h.tx_seq)
            self.emit(w.F_RESPONSE, self.rand_seq(), body, src)
            h.answered.add(epoch)
            self.counters["response_tx"] += 1
        else:
            self.counters["response_limited"] += 1
        return "challenge_rx"

    def on_unverified(self, d, src, epoch, now):
        if not self.limited("challenge", src, now):
            if w.open_sealed(self.rx_key(epoch), d) is not None:
                self.send_challenge(src, now)
        return self.drop("unverified", d, src, now)

    def on_response(self, d, plain, src, epoch, now):
        h = self.hub
        if h.verified or plain[:16] != h.challenge:
            return self.drop("bad_response", d, src, now)
        reported, floor = struct.unpack(">LQ", plain[16:28])
        h.verified, h.challenge = True, None
        if h.rx_epoch != epoch:
            h.epochs_accepted += 1
        h.rx_epoch, h.window = epoch, w.Window(floor)
        h.endpoint, h.reported = src, reported
        self.verified_at = now
        if reported >= self.epoch and not (reported == self.epoch and epoch in h.answered):
            self.move_epoch(reported, "the hub reported accepting an epoch >= ours")
        self.counters["response_rx"] += 1
        self.send_keepalive(now)                    # section 8: at once
        return "response_rx"

    def accept(self, d, plain, flags, src, epoch, seq, now):
        """Step 8 for data and keepalives, then steps 9-11."""
        h = self.hub
        if epoch > h.rx_epoch:
            h.rx_epoch, h.window = epoch, w.Window()
            h.epochs_accepted += 1
        if h.window.mark(seq) and src != h.endpoint:
            h.endpoint = src
            self.counters["endpoint_moves"] += 1
        h.last_rx = now
        self.counters["rx_packets"] += 1
        if flags == w.F_KEEPALIVE:
            return self.count("keepalive_rx")
        if not w.ipv4_wellformed(plain):                         # step 9
            return self.drop("bad_inner", d, src, now)
        s, dst = w.ipv4_addrs(plain)
        if self.policy.lookup(s) != ("forward", self.hub_id):    # step 10
            return self.drop("inner_src", d, src, now)
        action, _ = self.policy.lookup(dst)                      # step 11
        if action == "local":
            self.counters["tun_tx_packets"] += 1
            self.deliver(plain)
            return "rx_packets"
        reason = {"forward": "not_local", "drop": "policy_drop"}.get(action, "no_route")
        return self.drop(reason, d, src, now)
