#!/usr/bin/env bash
# subnetrad@.service's sandbox, emulated without systemd (unit_sandbox.py
# reads the unit and applies its restrictions): the unit passes
# systemd-analyze verify; a probe under the sandbox finds what the unit
# promises (read-only system, private /tmp, no /root, only /dev/net/tun
# among the devices, CAP_NET_ADMIN only, no AF_INET6, no W+X memory, no
# setuid); a hub and a spoke from the installed examples, each run under
# the sandbox as subnetrad@NAME, verify each other and carry pings, and
# each tells its own NOTIFY_SOCKET READY=1 with STATUS=, then RELOADING=1
# (MONOTONIC_USEC) and READY=1 around a SIGHUP reload (the unit's
# ExecReload=), then STOPPING=1; the reload is applied.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin unit_sandbox
for t in setpriv systemd-analyze man; do
	command -v $t >/dev/null || fail "$t missing (scripts/deps.sh installs it)"
done
$PY -c 'import seccomp' 2>/dev/null || fail "python3-seccomp missing (scripts/deps.sh installs it)"

# The sandbox hides /tmp and the home directories: the programs, configs
# and probes live where the unit lets a service read, as an install would.
R=$(mktemp -d /var/lib/sn-unit-sandbox.XXXXXX)
SANDBOX_PY=$R/unit_sandbox.py # (the source tree may itself be under /tmp)
e2e_defer rm -rf "$R"
chmod 755 "$R"
cp "$E2E_DIR/unit_sandbox.py" "$SANDBOX_PY"
HUB=e2e-$$-hub SPOKE=e2e-$$-spoke
# StateDirectory= and RuntimeDirectory= are the unit's own paths: note what
# existed before, remove only what this test made
for d in /var/lib/subnetra /run/subnetra; do
	[ -e "$d" ] || e2e_defer rmdir --ignore-fail-on-non-empty "$d"
done
e2e_defer rm -rf "/var/lib/subnetra/$HUB" "/var/lib/subnetra/$SPOKE" \
	"/run/subnetra/$HUB.sock" "/run/subnetra/$SPOKE.sock"
N=$(mktemp -d /run/sn-notify.XXXXXX) # what systemd's /run/systemd/notify stands for
e2e_defer rm -rf "$N"

cmake --install "$SN_BUILD" --prefix "$R/usr" >"$T/install.log" || fail "cmake --install"
PLUG=$(dirname "$(find "$R/usr" -name os_linux.so | head -1)")
# LeakSanitizer stops the world with ptrace, which the unit's system call
# filter refuses (as it should): a sanitizer build runs here without it
# (every other e2e test checks leaks)
SANDBOX_ENV=
if grep -q libasan <<<"$(ldd "$R/usr/sbin/subnetrad")"; then
	SANDBOX_ENV="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
UNIT=$R/subnetrad@.service
sed -e "s|@SN_SBIN_DIR@|$R/usr/sbin|g" -e "s|@SN_CONF_DIR@|$R/etc|g" \
	"$SN_SRC/contrib/systemd/subnetrad@.service.in" >"$UNIT"
out=$(MANPATH=$R/usr/share/man systemd-analyze verify "$UNIT" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
echo "  ok  systemd-analyze verify subnetrad@.service: clean"

# ---- the sandbox itself, seen from inside --------------------------------
cat >"$R/probe.py" <<'EOF'
import errno, mmap, os, socket
def t(what, fn):
    try:
        fn(); r = "ok"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    print(f"{what}={r}")
t("write_usr", lambda: open("/usr/.sn-probe", "w"))
t("write_etc", lambda: open("/etc/.sn-probe", "w"))
t("write_run", lambda: open("/run/.sn-probe", "w"))
t("write_state", lambda: (open("/var/lib/subnetra/.sn-probe", "w").close(), os.unlink("/var/lib/subnetra/.sn-probe")))
t("write_runtime", lambda: (open("/run/subnetra/.sn-probe", "w").close(), os.unlink("/run/subnetra/.sn-probe")))
print("tmp_entries=%d" % len(os.listdir("/tmp")))
t("list_root", lambda: os.listdir("/root"))
t("sysctl_kernel", lambda: open("/proc/sys/kernel/hostname", "w"))
t("sysctl_ipv6_conf", lambda: open("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "w").close())
t("tun", lambda: os.close(os.open("/dev/net/tun", os.O_RDWR)))
print("dev=" + " ".join(sorted(os.listdir("/dev"))))
t("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
t("inet6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
t("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
t("mmap_wx", lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC))
t("setuid", lambda: os.setuid(65534))
t("kmsg", lambda: open("/proc/kmsg"))
st = dict(l.split(":\t") for l in open("/proc/self/status").read().splitlines() if ":\t" in l)
for k in ("CapEff", "CapBnd", "NoNewPrivs", "Seccomp"):
    print(f"{k}={st[k].strip()}")
EOF
$PY "$SANDBOX_PY" "$UNIT" probe --command "$PY" "$R/probe.py" >"$T/probe.out" 2>"$T/probe.err" ||
	fail "the probe under the sandbox failed: $(cat "$T/probe.err")"
probe() { sed -n "s/^$1=//p" "$T/probe.out"; }
for want in write_usr=EROFS write_etc=EROFS write_run=EROFS write_state=ok write_runtime=ok \
	tmp_entries=0 list_root=EACCES sysctl_kernel=EROFS sysctl_ipv6_conf=ok tun=ok \
	inet=ok inet6=EAFNOSUPPORT packet=EAFNOSUPPORT mmap_wx=EPERM setuid=EPERM kmsg=EACCES \
	CapEff=0000000000001000 CapBnd=0000000000001000 NoNewPrivs=1 Seccomp=2; do
	expect_eq "sandbox: ${want%%=*}" "$(probe "${want%%=*}")" "${want#*=}"
done
expect_eq "sandbox: /dev holds" "$(probe dev)" "fd full net null random shm stderr stdin stdout tty urandom zero"

# ---- a hub and a spoke from the installed examples ------------------------
mkdir -m 700 "$R/etc"
for n in $HUB $SPOKE; do
	(umask 077; "$R/usr/bin/subnetra" genkey >"$R/etc/$n.key")
	"$R/usr/bin/subnetra" pubkey <"$R/etc/$n.key" >"$T/$n.pub"
done
EX=$R/usr/share/doc/subnetra/examples
sed -e "s|SPOKE_A_PUBLIC_KEY|$(cat "$T/$SPOKE.pub")|" \
	-e "s|private_key_file: hub.key|private_key_file: $HUB.key|" \
	-e "s|/var/lib/subnetra/hub|/var/lib/subnetra/$HUB|" -e "s|/run/subnetra/hub.sock|/run/subnetra/$HUB.sock|" \
	"$EX/hub.yaml" >"$R/etc/$HUB.yaml"
sed -e "s|HUB_PUBLIC_KEY|$(cat "$T/$HUB.pub")|" -e "s|hub.example.net:51820|172.31.2.1:51820|" \
	-e "s|private_key_file: spoke.key|private_key_file: $SPOKE.key|" \
	-e "s|/var/lib/subnetra/spoke|/var/lib/subnetra/$SPOKE|" -e "s|/run/subnetra/spoke.sock|/run/subnetra/$SPOKE.sock|" \
	"$EX/spoke.yaml" >"$R/etc/$SPOKE.yaml"
printf 'plugins:\n  directory: %s\n' "$PLUG" | tee -a "$R/etc/$HUB.yaml" >>"$R/etc/$SPOKE.yaml"
for n in $HUB $SPOKE; do
	out=$("$R/usr/sbin/subnetrad" -c "$R/etc/$n.yaml" --check) || fail "$n: --check: $out"
done

# NOTIFY_SOCKET listeners: every datagram a JSON line {pid, msg}, for 60 s at most
listen() { # NAME
	$PY -c '
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as out:
    while time.time() < end:
        try:
            msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            continue
        pid = next((struct.unpack("iII", d)[0] for l, t, d in anc if t == socket.SCM_CREDENTIALS), 0)
        out.write(json.dumps({"pid": pid, "msg": msg.decode()}) + "\n")
' "$N/$1" "$T/notify.$1" &
	E2E_BG+=($!)
	wait_for 5 "the notify socket of $1" test -S "$N/$1"
}
# notified NAME KEY=VALUE...: one datagram holds them all (VALUE a prefix)
notified() {
	local n=$1; shift
	$PY - "$T/notify.$n" "$@" <<-'EOF'
		import json, sys
		want = sys.argv[2:]
		for line in open(sys.argv[1]):
		    kv = dict(l.split("=", 1) for l in json.loads(line)["msg"].split("\n") if "=" in l)
		    if all(k in kv and kv[k].startswith(v) for k, v in (w.split("=", 1) for w in want)):
		        sys.exit(0)
		sys.exit(1)
	EOF
}
start() { # NAME NS
	listen "$1"
	bg nsx "$2" env NOTIFY_SOCKET="$N/$1" $SANDBOX_ENV $PY "$SANDBOX_PY" "$UNIT" "$1" >"$T/$1.log" 2>&1
	eval "PID_${1//-/_}=$BG_PID"
	e2e_defer wait_gone "$BG_PID"
}
pid_of() { local v="PID_${1//-/_}"; echo "${!v}"; }
wait_gone() { local _; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; }
logs() { tail -20 "$T/$HUB.log" "$T/$SPOKE.log" >&2; }

start "$HUB" "$NS_HUB"
wait_for 10 "READY=1 from the hub" notified "$HUB" READY=1 "STATUS=epoch " || { logs; false; }
start "$SPOKE" "$NS_A"
wait_for 10 "READY=1 from the spoke" notified "$SPOKE" READY=1 "STATUS=epoch " || { logs; false; }
hpid=$(pid_of "$HUB") spid=$(pid_of "$SPOKE")
for n in $HUB $SPOKE; do
	pid=$(pid_of "$n")
	bad=$($PY -c 'import json,sys; print(sum(json.loads(l)["pid"] != int(sys.argv[2]) for l in open(sys.argv[1])))' \
		"$T/notify.$n" "$pid")
	expect_eq "$n: datagrams from another pid than the daemon's (NotifyAccess=main)" "$bad" 0
	for k in CapEff CapBnd NoNewPrivs Seccomp; do
		v=$(awk -v k="$k:" '$1 == k {print $2}' /proc/"$pid"/status)
		case $k in Cap*) want=0000000000001000 ;; NoNewPrivs) want=1 ;; Seccomp) want=2 ;; esac
		expect_eq "$n (pid $pid): $k" "$v" "$want"
	done
	expect_eq "$n: / is read-only for it" "$(awk '$5 == "/" {print $6}' /proc/"$pid"/mountinfo | cut -d, -f1)" ro
done
grep -q "could not mlock" "$T/$HUB.log" "$T/$SPOKE.log" && fail "mlock failed under the sandbox: $(grep mlock "$T"/*.log)"

star_wait_ping "$NS_A" 10.0.0.1 20 || { logs; fail "the spoke does not reach the hub under the sandbox"; }
got=$(ping_n "$NS_LA" 10.0.0.1 5)
expect_eq "pings from spoke A's LAN to the hub, answered" "$got" 5
wait_for 10 "the hub's STATUS= saying 1 verified" eval \
	"grep -q '1 verified' '$T/notify.$HUB'"
expect_eq "hub's state under StateDirectory" "$(test -s "/var/lib/subnetra/$HUB/epoch" && echo yes)" yes
expect_eq "hub's socket under RuntimeDirectory" "$(test -S "/run/subnetra/$HUB.sock" && echo yes)" yes

# a reload the way systemctl reload does it: the unit's ExecReload=
echo "  - { prefix: 198.51.100.0/24, action: drop }" >"$T/rule"
printf 'policy:\n%s\n' "$(cat "$T/rule")" >>"$R/etc/$HUB.yaml"
lines=$(wc -l <"$T/notify.$HUB")
reload=$($PY "$SANDBOX_PY" --print-exec-reload "$UNIT" "$HUB" "$hpid")
expect_eq "ExecReload=" "$reload" "/bin/kill -HUP $hpid"
$reload
wait_for 10 "READY=1 after the reload" eval \
	"tail -n +$((lines + 1)) '$T/notify.$HUB' | grep -q 'READY=1'"
tail -n +$((lines + 1)) "$T/notify.$HUB" >"$T/reload.notify"
$PY - "$T/reload.notify" <<-'EOF' || fail "RELOADING=1 (MONOTONIC_USEC) then READY=1 expected, got: $(cat "$T/reload.notify")"
	import json, sys, time
	msgs = [json.loads(l)["msg"] for l in open(sys.argv[1])]
	first = [i for i, m in enumerate(msgs) if m.startswith("RELOADING=1\nMONOTONIC_USEC=")]
	ready = [i for i, m in enumerate(msgs) if m.startswith("READY=1\nSTATUS=")]
	assert first and ready and first[0] < ready[0], msgs
	usec = int(msgs[first[0]].split("\n")[1].split("=")[1])
	assert abs(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6 - usec) < 30e6, usec
	print("  ok  after SIGHUP: %s" % " | ".join(m.replace("\n", ", ") for m in msgs))
EOF
grep -q "reload (SIGHUP) applied: $R/etc/$HUB.yaml" "$T/$HUB.log" || fail "the hub did not log the reload: $(tail -3 "$T/$HUB.log")"
out=$(timeout 10 "$R/usr/bin/subnetra" -s "/run/subnetra/$HUB.sock" policy list) || fail "policy list failed"
grep -q "198.51.100.0/24" <<<"$out" || fail "the reload's rule is not in the hub's policy: $out"
grep -q ", 1 reload" <(tail -1 "$T/reload.notify") || fail "STATUS= does not count the reload: $(tail -1 "$T/reload.notify")"
star_wait_ping "$NS_A" 10.0.0.1 5 || fail "no traffic after the reload"

kill -TERM "$spid" "$hpid"
wait "$hpid" || fail "the hub exited $? on SIGTERM: $(tail -5 "$T/$HUB.log")"
wait "$spid" || fail "the spoke exited $? on SIGTERM: $(tail -5 "$T/$SPOKE.log")"
notified "$HUB" STOPPING=1 || fail "no STOPPING=1 from the hub"
pass "under the emulated unit sandbox: verify clean, probe as promised, a hub and a spoke from the examples up with READY=1 and STATUS=, pings 5/5, RELOADING=1 then READY=1 on ExecReload=, STOPPING=1"
