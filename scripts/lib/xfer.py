#!/usr/bin/env python3
"""xfer.py: a tiny TCP file transfer for the demo and tests (stdlib only).

  xfer.py recv ADDR PORT OUT   accept one connection, write what arrives to OUT,
                               print its sha256 and byte count, exit
  xfer.py send ADDR PORT FILE  connect, send FILE, print its sha256 and rate
Both give up after --timeout seconds (default 60).
"""
import hashlib
import socket
import sys
import time


def main(argv):
    timeout = 60.0
    if "--timeout" in argv:
        i = argv.index("--timeout")
        timeout = float(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) != 5 or argv[1] not in ("recv", "send"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, addr, port, path = argv[1], argv[2], int(argv[3]), argv[4]
    h = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    if mode == "recv":
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, port))
        srv.listen(1)
        srv.settimeout(timeout)
        conn, _ = srv.accept()
        conn.settimeout(timeout)
        with open(path, "wb") as f:
            while True:
                b = conn.recv(1 << 16)
                if not b:
                    break
                f.write(b)
                h.update(b)
                n += len(b)
        conn.close()
        srv.close()
    else:
        s = socket.create_connection((addr, port), timeout=timeout)
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    break
                s.sendall(b)
                h.update(b)
                n += len(b)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
    dt = max(time.monotonic() - t0, 1e-9)
    print(f"{h.hexdigest()} {n} bytes {n * 8 / dt / 1e6:.0f} Mbit/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
