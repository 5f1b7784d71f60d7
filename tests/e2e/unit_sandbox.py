#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/e2e/unit_sandbox.py: run a systemd service's ExecStart= the way
systemd would sandbox it, where there is no systemd to do it (a container,
CI): the restrictions are read from the unit file and applied with the
kernel's own tools, then the command is exec'ed (same PID, so the caller's
$! is the daemon's).

  unit_sandbox.py UNIT INSTANCE [--command ARGV...]
  unit_sandbox.py --print-exec-reload UNIT INSTANCE MAINPID

UNIT is a unit file (a template: %i becomes INSTANCE); --command runs
ARGV instead of ExecStart= (a probe). Applied, in systemd's order:

  StateDirectory=, RuntimeDirectory= (+Mode)  created under /var/lib, /run
  a new mount namespace (slave), ProtectHostname= (a new UTS namespace)
  ProtectProc=          a new /proc with hidepid=invisible
  ProtectSystem=strict  every mount but /dev, /proc, /sys remounted read-only
  ReadWritePaths=, StateDirectory=, RuntimeDirectory=  bound read-write again
  ProtectKernelTunables=  /proc/sys, /proc/sysrq-trigger, /sys read-only
                        (ReadWritePaths= under them bound read-write again)
  ProtectControlGroups= /sys/fs/cgroup read-only
  ProtectKernelLogs=    /proc/kmsg inaccessible
  PrivateTmp=           empty /tmp and /var/tmp
  ProtectHome=yes       empty, inaccessible /home, /root, /run/user
  DevicePolicy=closed, DeviceAllow=  a /dev holding only the pseudo devices
                        closed allows and the DeviceAllow= ones
  UMask=, LimitMEMLOCK=
  CapabilityBoundingSet=, NoNewPrivileges=, User=/Group=  by setpriv(1)
  SystemCallFilter= (@sets from systemd-analyze), SystemCallErrorNumber=,
  SystemCallArchitectures=, RestrictAddressFamilies=, MemoryDenyWriteExecute=,
  LockPersonality=, RestrictNamespaces=, RestrictRealtime=,
  RestrictSUIDSGID=     one seccomp filter (python3-seccomp), loaded last

What systemd does that this does not: the device cgroup (emulated by what
/dev holds), NotifyAccess= (the test checks the sender's pid itself),
ProtectClock=/ProtectKernelModules= beyond the system calls @privileged
removes, the ordering, restart and watchdog logic of the service manager.
A directive this file does not know makes it fail, so a new one in the unit
is not silently left out.
"""
import ctypes
import errno
import json
import os
import resource
import shlex
import stat
import subprocess
import sys

HANDLED = {
    "Type", "NotifyAccess", "ExecStart", "ExecReload", "Restart", "RestartSec",
    "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve",
    "StateDirectory", "StateDirectoryMode", "UMask", "LimitMEMLOCK",
    "CapabilityBoundingSet", "NoNewPrivileges", "ProtectSystem", "ProtectHome",
    "PrivateTmp", "DevicePolicy", "DeviceAllow", "ProtectKernelTunables",
    "ReadWritePaths", "ProtectKernelModules", "ProtectKernelLogs",
    "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc",
    "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime",
    "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute",
    "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber",
    "User", "Group",
}
# Directives whose every line adds to a list (the others: last one wins).
LISTS = {"SystemCallFilter", "ReadWritePaths", "DeviceAllow", "RuntimeDirectory",
         "StateDirectory", "RestrictAddressFamilies", "CapabilityBoundingSet"}

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_SLAVE = 32, 4096, 16384, 1 << 19
CLONE_NEWNS, CLONE_NEWUTS = 0x00020000, 0x04000000


def log(msg):
    print("unit_sandbox: " + msg, file=sys.stderr, flush=True)


def die(msg):
    log(msg)
    sys.exit(1)


def parse_unit(path, instance):
    """[Service] of the unit: {key: value} or {key: [values]} for LISTS."""
    svc, section = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]":
                continue
            key, _, value = line.partition("=")
            value = value.strip().replace("%i", instance).replace("%%", "%")
            if key not in HANDLED:
                die(f"{path}: {key}= is not emulated here; teach tests/e2e/unit_sandbox.py")
            if key in LISTS:
                svc.setdefault(key, []).append(value)
            else:
                svc[key] = value
    return svc


def words(svc, key):
    return [w for v in svc.get(key, []) for w in v.split()]


def yes(svc, key):
    return svc.get(key, "no") in ("yes", "true", "1", "on", "strict", "invisible")


def mount(src, dst, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    if libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)) != 0:
        e = ctypes.get_errno()
        die(f"mount {src} on {dst} ({fstype}, flags {flags:#x}, {data}): {os.strerror(e)}")


def mountpoints():
    """(mount point, per-mount flags to keep) of every mount, outermost first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mp = fields[4].encode().decode("unicode_escape")
            opts = fields[5].split(",")
            keep = (MS_NOSUID if "nosuid" in opts else 0) | (MS_NODEV if "nodev" in opts else 0) \
                | (MS_NOEXEC if "noexec" in opts else 0)
            out.append((mp, keep))
    return out


def under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def remount(mp, keep, ro):
    mount(None, mp, None, MS_REMOUNT | MS_BIND | keep | (MS_RDONLY if ro else 0))


def read_only(root):
    """root and every mount below it read-only."""
    mount(root, root, None, MS_BIND | MS_REC)
    for mp, keep in mountpoints():
        if under(mp, [root]):
            remount(mp, keep, True)


def read_write(path):
    mount(path, path, None, MS_BIND | MS_REC)
    for mp, keep in mountpoints():
        if mp == path:
            remount(mp, keep, False)


def make_dirs(svc):
    """StateDirectory=, RuntimeDirectory=: created (with their parents) as systemd does."""
    made = []
    for key, base in (("StateDirectory", "/var/lib"), ("RuntimeDirectory", "/run")):
        mode = int(svc.get(key + "Mode", "0755"), 8)
        for name in words(svc, key):
            path = os.path.join(base, name)
            os.makedirs(path, mode=0o755, exist_ok=True)
            os.chmod(path, mode)
            made.append(path)
    return made


def private_dev(svc):
    """DevicePolicy=closed: the standard pseudo devices plus DeviceAllow=."""
    allow = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]
    for entry in svc.get("DeviceAllow", []):
        allow.append(entry.split()[0])
    nodes = []
    for path in allow:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        nodes.append((path, st.st_mode, st.st_rdev))
    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755")
    for path, mode, rdev in nodes:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mknod(path, mode, rdev)
        os.chmod(path, stat.S_IMODE(mode))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, "/dev/" + name)
    os.mkdir("/dev/shm", 0o1777)
    os.chmod("/dev/shm", 0o1777)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")


def inaccessible(path, is_dir=True):
    """path can no longer be read or listed (mode 000; no CAP_DAC_OVERRIDE remains)."""
    if not os.path.exists(path):
        return
    if is_dir:
        mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000")
        return
    # a mode-000 file of our own private /tmp, bound over path and unlinked
    scratch = "/tmp/.unit-sandbox-inaccessible"
    os.close(os.open(scratch, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0))
    mount(scratch, path, None, MS_BIND)
    os.unlink(scratch)


def namespace(svc):
    flags = CLONE_NEWNS | (CLONE_NEWUTS if yes(svc, "ProtectHostname") else 0)
    if libc.unshare(flags) != 0:
        die("unshare: " + os.strerror(ctypes.get_errno()))
    mount(None, "/", None, MS_REC | MS_SLAVE)
    if yes(svc, "ProtectProc"):
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    rw = [p.lstrip("-") for p in words(svc, "ReadWritePaths")]
    rw += [os.path.join("/var/lib", d) for d in words(svc, "StateDirectory")]
    rw += [os.path.join("/run", d) for d in words(svc, "RuntimeDirectory")]
    if svc.get("ProtectSystem") == "strict":
        for mp, keep in mountpoints():
            if not under(mp, ["/proc", "/sys", "/dev"]):
                remount(mp, keep, True)
    if yes(svc, "ProtectKernelTunables"):
        for p in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/sys"):
            if os.path.exists(p):
                read_only(p)
    if yes(svc, "ProtectControlGroups") and os.path.isdir("/sys/fs/cgroup"):
        read_only("/sys/fs/cgroup")
    for p in rw:
        if os.path.exists(p):
            read_write(p)
    if yes(svc, "PrivateTmp"):
        for p in ("/tmp", "/var/tmp"):
            mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if yes(svc, "ProtectKernelLogs"):
        if not yes(svc, "PrivateTmp"):
            die("ProtectKernelLogs= is emulated with PrivateTmp= only")
        inaccessible("/proc/kmsg", is_dir=False)
    if svc.get("ProtectHome") == "yes":
        for p in ("/home", "/root", "/run/user"):
            inaccessible(p)
    if svc.get("DevicePolicy") == "closed":
        private_dev(svc)


def setpriv_argv(svc):
    argv = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all"]
    caps = words(svc, "CapabilityBoundingSet")
    if caps:
        keep = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
        argv.append("--bounding-set=-all," + keep)
    if yes(svc, "NoNewPrivileges"):
        argv.append("--no-new-privs")
    if "User" in svc:
        argv += ["--reuid", svc["User"], "--regid", svc.get("Group", svc["User"]), "--init-groups"]
    return argv + ["--"]


def seccomp_plan(svc):
    """What stage 2 loads: the allowed system calls and the argument rules."""
    cache = {}

    def expand(name):
        if not name.startswith("@"):
            return {name}
        if name not in cache:
            out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                                 capture_output=True, text=True).stdout.splitlines()
            names = set()
            for line in out[1:]:
                w = line.strip()
                if w and not w.startswith("#"):
                    names |= expand(w)
            cache[name] = names
        return cache[name]

    allow = None
    for line in svc.get("SystemCallFilter", []):
        neg = line.startswith("~")
        names = set().union(*(expand(w) for w in line.lstrip("~").split()))
        if allow is None:
            if neg:
                die("a deny-list SystemCallFilter= is not emulated")
            allow = set()
        allow = allow - names if neg else allow | names
    err = svc.get("SystemCallErrorNumber")
    return {
        "allow": sorted(allow) if allow is not None else None,
        "errno": getattr(errno, err) if err else None,
        "families": words(svc, "RestrictAddressFamilies"),
        "mdwe": yes(svc, "MemoryDenyWriteExecute"),
        "personality": yes(svc, "LockPersonality"),
        "namespaces": yes(svc, "RestrictNamespaces"),
        "realtime": yes(svc, "RestrictRealtime"),
        "suid": yes(svc, "RestrictSUIDSGID"),
    }


def stage1(unit, instance, command):
    svc = parse_unit(unit, instance)
    argv = command or shlex.split(svc["ExecStart"])
    made = make_dirs(svc)
    namespace(svc)
    if "UMask" in svc:
        os.umask(int(svc["UMask"], 8))
    if "LimitMEMLOCK" in svc:
        v = svc["LimitMEMLOCK"]
        n = int(v[:-1]) * {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[v[-1]] if v[-1] in "KMG" else int(v)
        hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
        if hard != resource.RLIM_INFINITY and n > hard:  # no CAP_SYS_RESOURCE here
            log(f"LimitMEMLOCK={v}: this machine's hard limit is {hard} bytes; using that")
            n = hard
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (n, n))
    plan = seccomp_plan(svc)
    log(f"{os.path.basename(unit)} ({instance}): dirs {made}, exec {argv}")
    os.execvp("setpriv", setpriv_argv(svc) + [sys.executable, os.path.abspath(__file__),
                                              "--stage2", json.dumps(plan), "--"] + argv)


AF = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17}
AF_MAX = 46
PROT_WRITE, PROT_EXEC, SHM_EXEC = 2, 4, 0o100000
NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 \
    | 0x40000000 | 0x00000080  # NEWNS CGROUP UTS IPC USER PID NET TIME
SCHED_FIFO, SCHED_RR, SCHED_DEADLINE = 1, 2, 6
S_ISUID_GID = 0o6000


def stage2(plan, argv):
    import seccomp
    from seccomp import Arg, EQ, MASKED_EQ, ALLOW, ERRNO, KILL_PROCESS
    default = ERRNO(plan["errno"]) if plan["errno"] else KILL_PROCESS
    f = seccomp.SyscallFilter(defaction=default if plan["allow"] is not None else ALLOW)
    allow = set(plan["allow"] or [])
    cond = {}  # syscall -> list of (action, [Arg...]): these are not allowed unconditionally

    def rule(name, action, *args):
        cond.setdefault(name, []).append((action, list(args)))

    if plan["families"]:
        fams = {AF[x] for x in plan["families"]}
        for fam in range(AF_MAX):
            rule("socket", ALLOW if fam in fams else ERRNO(errno.EAFNOSUPPORT), Arg(0, EQ, fam))
    if plan["mdwe"]:
        wx = PROT_WRITE | PROT_EXEC
        for ok in (0, PROT_WRITE, PROT_EXEC):
            rule("mmap", ALLOW, Arg(2, MASKED_EQ, wx, ok))
        rule("mmap", ERRNO(errno.EPERM), Arg(2, MASKED_EQ, wx, wx))
        for name in ("mprotect", "pkey_mprotect"):
            rule(name, ALLOW, Arg(2, MASKED_EQ, PROT_EXEC, 0))
            rule(name, ERRNO(errno.EPERM), Arg(2, MASKED_EQ, PROT_EXEC, PROT_EXEC))
        rule("shmat", ALLOW, Arg(2, MASKED_EQ, SHM_EXEC, 0))
        rule("shmat", ERRNO(errno.EPERM), Arg(2, MASKED_EQ, SHM_EXEC, SHM_EXEC))
    if plan["personality"]:
        for p in (0, 0xFFFFFFFF):  # PER_LINUX, and asking for the current one
            rule("personality", ALLOW, Arg(0, EQ, p))
    if plan["namespaces"]:
        rule("clone", ALLOW, Arg(0, MASKED_EQ, NS_FLAGS, 0))
        rule("unshare", ALLOW, Arg(0, MASKED_EQ, NS_FLAGS, 0))
        rule("clone3", ERRNO(errno.ENOSYS))  # its flags are out of reach: glibc falls back to clone
        rule("setns", ERRNO(errno.EPERM))
    if plan["realtime"]:
        for pol in (SCHED_FIFO, SCHED_RR, SCHED_DEADLINE):
            rule("sched_setscheduler", ERRNO(errno.EPERM), Arg(1, EQ, pol))
        for pol in (0, 3, 5):  # OTHER, BATCH, IDLE
            rule("sched_setscheduler", ALLOW, Arg(1, EQ, pol))
    if plan["suid"]:
        for name, i in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2)):
            rule(name, ALLOW, Arg(i, MASKED_EQ, S_ISUID_GID, 0))
    for name in sorted(allow):
        if name in cond:
            continue
        try:
            f.add_rule(ALLOW, name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a system call of this architecture or this libseccomp
    for name, rules in cond.items():
        for action, args in rules:
            if plan["allow"] is not None and name not in allow and action == ALLOW:
                continue  # the filter takes it away altogether
            try:
                f.add_rule(action, name, *args)
            except (RuntimeError, ValueError, OSError):
                pass
    f.load()
    os.execvp(argv[0], argv)


def print_exec_reload(unit, instance, mainpid):
    svc = parse_unit(unit, instance)
    print(svc["ExecReload"].replace("$MAINPID", mainpid).replace("${MAINPID}", mainpid))


def main(a):
    if a[:1] == ["--stage2"]:
        return stage2(json.loads(a[1]), a[3:])
    if a[:1] == ["--print-exec-reload"]:
        return print_exec_reload(a[1], a[2], a[3])
    if len(a) < 2:
        die(__doc__.split("\n\n")[1])
    command = a[3:] if len(a) > 2 and a[2] == "--command" else None
    stage1(a[0], a[1], command)


if __name__ == "__main__":
    main(sys.argv[1:])
