# SPDX-License-Identifier: MIT
"""tests/e2e/specpeer_run.py: runs the spec peer's spoke (specpeer_node)
over a real UDP socket, plays the script of `specpeer.py spoke` and
reports one JSON object. See specpeer.py for the actions.
"""
import json
import os
import select
import shlex
import signal
import socket
import sys
import time

import specpeer_craft
import specpeer_wire as w
from specpeer_node import Spoke

PING_EVERY = 0.2
PING_GRACE = 2.0


def read_epoch(path):
    """The last epoch in an epoch file (decimal and a newline), None if none."""
    try:
        text = open(path).read()
    except FileNotFoundError:
        return None
    if not text.strip().isdigit():
        raise SystemExit(f"specpeer: {path}: holds no epoch (remove it to start from the clock)")
    return int(text)


def persist_epoch(path, epoch):
    """Section 5: write a temporary file, fsync it, rename it over the old
    one, fsync the directory, before anything is sent in that epoch."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = path + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, f"{epoch}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def policy_of(a):
    """A spoke's policy as docs/configuration.md derives it: own address and
    LANs local, the overlay subnet and hub routes to the hub."""
    p = w.Policy()
    if a.src:
        p.add(a.src + "/32", "local")
    for lan in a.lan:
        p.add(lan, "local")
    p.add(a.subnet, "forward", a.hub_id)
    for r in a.route:
        p.add(r, "forward", a.hub_id)
    for r in a.drop:
        p.add(r, "drop")
    return p


class Expectation(Exception):
    pass


class Runner:
    def __init__(self, a, epoch):
        self.a = a
        self.t0 = time.monotonic()
        self.deadline = self.t0 + a.timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(a.bind)
        self.spoke = Spoke(a.id, a.priv, a.pub, a.hub_id, a.hub_pub, a.hub, epoch, a.psk,
                           policy_of(a), a.mtu, a.keepalive,
                           persist=(lambda e: persist_epoch(a.state_file, e)) if a.state_file
                           else None, deliver=self.deliver)
        self.epoch_start = epoch
        self.ident = os.getpid() & 0xFFFF
        self.ping_seq = 0
        self.pending = {}                 # icmp seq -> (dst, time sent)
        self.answered = set()
        self.pings = {"sent": 0, "answered": 0, "echo_requests_answered": 0}
        self.ping_until = []
        self.results = []
        self.marks = {}
        self.replayers = []               # sockets that re-sent captured datagrams
        self.replay_of = {}               # socket -> its entry in replays
        self.replays = []
        self.files = {k: open(getattr(a, k), "a") for k in ("sent", "record") if getattr(a, k)}
        signal.signal(signal.SIGTERM, self.on_term)

    def on_term(self, *_):
        raise Expectation("terminated by SIGTERM")

    def now(self):
        return time.monotonic()

    def rel(self):
        return round(self.now() - self.t0, 3)

    def log(self, kind, entry):
        f = self.files.get(kind)
        if f:
            f.write(json.dumps(entry) + "\n")
            f.flush()

    # ---- I/O ---------------------------------------------------------------

    def flush(self):
        while self.spoke.out:
            d, addr, meta = self.spoke.out.pop(0)
            try:
                self.sock.sendto(d, addr)
            except OSError as e:
                self.spoke.counters["tx_error"] += 1
                meta = dict(meta, error=e.strerror)
            self.log("sent", dict(meta, t=self.rel(), dst=f"{addr[0]}:{addr[1]}", hex=d.hex()))

    def receive_one(self, s):
        d, src = s.recvfrom(65535)
        if s is not self.sock:  # an attacker's socket: it only counts what it gets
            kind = w.KIND_NAMES.get(d[1], "?") if len(d) > 1 else "?"
            got = self.replay_of[s]["received"]
            got[kind] = got.get(kind, 0) + 1
            return
        verdict = self.spoke.receive(d, src, self.now())
        self.log("record", {"t": self.rel(), "src": f"{src[0]}:{src[1]}", "hex": d.hex(),
                            "verdict": verdict})

    def pump(self, until=None, secs=0.0):
        """Run the loop for secs, or until until() holds (then True)."""
        end = min(self.now() + secs, self.deadline)
        while True:
            self.spoke.tick(self.now())
            self.flush()
            if until and until():
                return True
            t = self.now()
            if t >= end:
                if t >= self.deadline:
                    raise Expectation(f"the run's --timeout of {self.a.timeout} s is over")
                return False
            wait = max(0.0, min(end, self.spoke.next_timer(t)) - t)
            socks = [self.sock] + self.replayers
            ready, _, _ = select.select(socks, [], [], min(wait, 0.05))
            for s in ready:
                self.receive_one(s)
            self.flush()

    # ---- the overlay side -----------------------------------------------------

    def deliver(self, p):
        """A packet for this node (what a TUN device would get)."""
        f = w.icmp_fields(p)
        if not f:
            return
        typ, ident, seq, payload = f
        src, dst = w.ipv4_addrs(p)
        if typ == 0 and ident == self.ident and seq in self.pending:
            if self.pending[seq][0] == src and seq not in self.answered:
                self.answered.add(seq)
                self.pings["answered"] += 1
        elif typ == 8:
            self.spoke.send_packet(w.icmp_echo(dst, src, ident, seq, payload, reply=True))
            self.pings["echo_requests_answered"] += 1

    def send_ping(self, dst, size=56):
        if not self.a.src:
            raise Expectation("ping needs --src (our overlay address)")
        self.ping_seq = (self.ping_seq + 1) & 0xFFFF
        seq = self.ping_seq
        self.pending[seq] = (dst, self.now())
        self.pings["sent"] += 1
        p = w.icmp_echo(self.a.src, dst, self.ident, seq, os.urandom(size), ip_id=seq)
        self.spoke.send_packet(p, self.now())
        self.flush()
        return seq

    # ---- script actions ---------------------------------------------------------

    def act_expect_verified(self, secs="5"):
        if not self.pump(lambda: self.spoke.hub.verified, float(secs)):
            raise Expectation(f"the hub was not verified within {secs} s")
        return f"verified after {self.verified_after()} s"

    def act_wait(self, secs):
        self.pump(secs=float(secs))
        return None

    def act_ping(self, dst, n, size="56"):
        seqs = []
        for _ in range(int(n)):
            seqs.append(self.send_ping(dst, int(size)))
            self.pump(secs=PING_EVERY)
        self.pump(lambda: all(s in self.answered for s in seqs), PING_GRACE)
        got = sum(s in self.answered for s in seqs)
        if got != int(n):
            raise Expectation(f"{got} of {n} echo requests to {dst} answered")
        return f"{got} of {n} answered"

    def act_ping_until(self, dst, secs):
        start, seqs = self.now(), []
        while self.now() - start < float(secs):
            seqs.append(self.send_ping(dst))
            if self.pump(lambda: any(s in self.answered for s in seqs), PING_EVERY):
                took = round(self.now() - start, 3)
                self.ping_until.append({"dst": dst, "secs": took, "sent": len(seqs)})
                return f"answered after {took} s ({len(seqs)} sent)"
        self.ping_until.append({"dst": dst, "secs": None, "sent": len(seqs)})
        raise Expectation(f"no echo reply from {dst} within {secs} s ({len(seqs)} sent)")

    def act_keepalive(self):
        r = self.spoke.send_keepalive(self.now())
        self.flush()
        return r

    def act_touch(self, path):
        open(path, "a").close()

    def act_report(self, path):
        with open(path + ".tmp", "w") as f:
            json.dump(self.report(None), f, sort_keys=True)
        os.rename(path + ".tmp", path)

    def act_wait_file(self, path, secs):
        if not self.pump(lambda: os.path.exists(path), float(secs)):
            raise Expectation(f"{path} did not appear within {secs} s")

    def act_mark(self, name):
        self.marks[name] = self.snapshot()

    def act_replay(self, path, port="0", kind="all"):
        if port == "same":
            s = self.sock
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((self.a.bind[0], int(port)))
            self.replayers.append(s)
        rec = {"file": os.path.basename(path), "kind": kind, "from": "%s:%d" % s.getsockname(),
               "sent": 0, "sent_by_kind": {}, "received": {}}
        self.replays.append(rec)
        self.replay_of[s] = rec
        for line in open(path).readlines():
            e = json.loads(line)
            if kind == "all" or e.get("kind") == kind:
                s.sendto(bytes.fromhex(e["hex"]), self.a.hub)
                rec["sent"] += 1
                rec["sent_by_kind"][e["kind"]] = rec["sent_by_kind"].get(e["kind"], 0) + 1
        self.pump(secs=0.3)
        return f"{rec['sent']} datagram(s) re-sent from {rec['from']}"

    def act_rebind(self, port="0"):
        """Move to a new local port, as a NAT rebinding would (section 8)."""
        old = self.sock
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.a.bind[0], int(port)))
        old.close()
        return "now %s:%d" % self.sock.getsockname()

    def act_craft(self, name, count="1"):
        """Send the probe `name` of specpeer_craft.CRAFTS count times."""
        if name not in specpeer_craft.CRAFTS:
            raise SystemExit(f"specpeer: script: craft: no probe '{name}' (specpeer.py craft-list)")
        for _ in range(int(count)):
            d = specpeer_craft.build(self.spoke, name, self.a.src or "10.0.0.2")
            self.sock.sendto(d, self.spoke.hub.endpoint)
            self.log("sent", {"kind": "craft:" + name, "t": self.rel(), "hex": d.hex()})
        self.pump(secs=0.05)
        return f"{count} x {name} (the hub must count: {specpeer_craft.CRAFTS[name][0]})"

    def act_answer_reporting(self, offset):
        """From now on our responses report the challenge's epoch + offset
        as the epoch we accept from the hub ('off': the truth again)."""
        if offset == "off":
            self.spoke.report_for = lambda e: self.spoke.hub.rx_epoch or 0
        else:
            self.spoke.report_for = lambda e, n=int(offset): e + n

    def act_expect_epoch_moved(self):
        if not self.spoke.moves:
            raise Expectation("our epoch never moved")
        return f"{self.epoch_start} -> {self.spoke.epoch}"

    def act_expect_no_drops(self):
        if self.spoke.rejected:
            raise Expectation(f"{len(self.spoke.rejected)} datagram(s) dropped")

    # ---- running ------------------------------------------------------------

    def verified_after(self):
        v = self.spoke.verified_at
        return None if v is None else round(v - self.t0, 3)

    def snapshot(self):
        return {"t": self.rel(), "counters": dict(self.spoke.counters), "epoch": self.spoke.epoch,
                "hub_epoch": self.spoke.hub.rx_epoch, "pings": dict(self.pings)}

    def run_script(self):
        for raw in self.a.script.replace(";", "\n").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = shlex.split(line)
            fn = getattr(self, "act_" + words[0].replace("-", "_"), None)
            if fn is None:
                raise SystemExit(f"specpeer: script: unknown action '{words[0]}'")
            try:
                r = {"action": line, "ok": True, "detail": fn(*words[1:])}
            except TypeError as e:
                raise SystemExit(f"specpeer: script: {line}: {e}")
            except Expectation as e:
                r = {"action": line, "ok": False, "detail": str(e)}
            r["t"] = self.rel()
            self.results.append(r)
            sys.stderr.write(f"specpeer: [{r['t']:8.3f}] {'ok ' if r['ok'] else 'BAD'} {line}"
                             + (f": {r['detail']}" if r["detail"] else "") + "\n")
            if not r["ok"]:
                return False
        return True

    def run(self):
        self.spoke.start(self.now())
        self.flush()
        try:
            ok = self.run_script()
        except Expectation as e:
            self.results.append({"action": "(run)", "ok": False, "t": self.rel(), "detail": str(e)})
            ok = False
        report = json.dumps(self.report(ok), sort_keys=True)
        print(report)
        if not ok:
            sys.stderr.write(f"specpeer: the script failed; report: {report}\n")
        return 0 if ok else 1

    def report(self, ok):
        s, h = self.spoke, self.spoke.hub
        return {
            "ok": ok, "verified": h.verified, "time_to_verified": self.verified_after(),
            "epoch_start": self.epoch_start, "epoch": s.epoch, "epoch_moves": s.moves,
            "hub_epoch": h.rx_epoch, "hub_epochs_accepted": h.epochs_accepted,
            "hub_reported_epoch": h.reported,
            "hub_endpoint": None if h.endpoint is None else "%s:%d" % h.endpoint,
            "local": "%s:%d" % self.sock.getsockname(),
            "counters": dict(s.counters), "pings": self.pings, "ping_until": self.ping_until,
            "rejected": s.rejected, "script": self.results, "marks": self.marks,
            "replays": self.replays,
        }
