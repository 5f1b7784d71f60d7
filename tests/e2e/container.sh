#!/usr/bin/env bash
# The container image (scripts/container-image.sh, docs/container.md) as a
# container runtime runs it.
#
# Builds the amd64, arm64 and armhf images (the script installs Debian's
# cross toolchains when missing; its build cache makes a rerun cheap) and
# checks each: the docker-archive layout, the image config's architecture,
# the ELF machine of every program, plugin and library (readelf -h). The
# amd64 image is rebuilt from a cold cache: the tar must be byte-identical.
# The arm images run under Debian's qemu-user-static: subnetrad --version
# and --check of spoke A's config with the plugins from the image.
#
# Then podman (private vfs storage under $T, runc, lowered rlimits, no
# systemd; crun refuses this machine's hybrid cgroups) loads the amd64 image and runs it as spoke A of the namespace
# star, in spoke A's namespace, with the conf/ copy mounted at
# /etc/subnetra and spoke A's key made mode 0644 as a RouterOS disk shows
# it, and IPv4 forwarding off in that namespace. The entrypoint must say it
# uses a 0600 copy of the key and turned forwarding on; the hub must learn
# the container; LAN A must reach LAN B through it (forwarded by the
# container, over the overlay, relayed by the hub); `subnetra status` in the
# container (directly and through the image's /bin/sh) must show the hub;
# and `podman stop` must end the daemon cleanly, the container exiting 0.
# Containers, images, storage and namespaces are removed even on failure.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin container

for t in podman runc qemu-aarch64-static qemu-arm-static readelf; do
	command -v "$t" >/dev/null || fail "$t is missing (scripts/deps.sh installs it)"
done
CT=sn-e2e-$$
# Everything podman and runc keep goes under $T: storage, run, tmp and CNI
# directories, and runc's state (through a wrapper, which podman also hands
# to the cleanup processes it leaves behind). podman still keeps a blob
# cache in /var/lib/containers/cache whatever --root says.
mkdir -p "$T/pm/bin"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v runc)" "$T/pm/runc" >"$T/pm/bin/runc"
chmod +x "$T/pm/bin/runc"
PM=(timeout 120 podman --root "$T/pm/root" --runroot "$T/pm/run" --tmpdir "$T/pm/tmp"
    --network-config-dir "$T/pm/cni"
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file
    --runtime "$T/pm/bin/runc")
HAD_VLC=; [ -e /var/lib/containers ] && HAD_VLC=1

ct_cleanup() {
	"${PM[@]}" rm -f -t 0 "$CT" >/dev/null 2>&1
	"${PM[@]}" rmi -a -f >/dev/null 2>&1
	"${PM[@]}" system reset -f >/dev/null 2>&1
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	[ -n "$HAD_VLC" ] || rm -rf /var/lib/containers
}
ct_exit() {
	local rc=$?
	set +e
	if [ "$rc" != 0 ] && [ -n "${CT_STARTED:-}" ]; then
		echo "---- container log" >&2
		"${PM[@]}" logs "$CT" 2>&1 | tail -40 >&2
	fi
	ct_cleanup
	(exit "$rc")
	e2e_cleanup
}
trap ct_exit EXIT

# ---- the three images --------------------------------------------------------

IMG=$T/images
for a in amd64 arm64 armhf; do
	timeout 900 bash "$SN_SRC/scripts/container-image.sh" "$a" -o "$IMG" ||
		fail "scripts/container-image.sh $a"
done
SN_CACHE_DIR=$T/cold timeout 900 bash "$SN_SRC/scripts/container-image.sh" amd64 -o "$T/again" ||
	fail "scripts/container-image.sh amd64 with a cold cache"
expect_eq "amd64 image from a cold cache (sha256)" "$(sha256sum <"$T/again/subnetrad-amd64.tar")" \
	"$(sha256sum <"$IMG/subnetrad-amd64.tar")"

# unpack ARCH: the archive into $T/x-ARCH, its layer into $T/root-ARCH.
unpack() {
	local x=$T/x-$1 layers
	mkdir -p "$x" "$T/root-$1"
	tar -xf "$IMG/subnetrad-$1.tar" -C "$x"
	expect_eq "$1: archive entries" "$(tar -tf "$IMG/subnetrad-$1.tar" | wc -l)" 3
	layers=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(len(m), len(m[0]["Layers"]), m[0]["RepoTags"][0]); print(m[0]["Layers"][0]); print(m[0]["Config"])' "$x/manifest.json")
	expect_eq "$1: manifest (images, layers, tag)" "$(sed -n 1p <<<"$layers")" \
		"1 1 subnetra/subnetrad:$(sed -n 's/^project(subnetra VERSION \([0-9.]*\).*/\1/p' "$SN_SRC/CMakeLists.txt")-$1"
	tar -xf "$x/$(sed -n 2p <<<"$layers")" -C "$T/root-$1"
	CONFIG_JSON=$x/$(sed -n 3p <<<"$layers")
}

# check_elf ARCH MACHINE: every ELF file of the image is for MACHINE.
check_elf() {
	local f n=0 m
	while IFS= read -r f; do
		m=$(readelf -h "$f" | sed -n 's/^ *Machine: *//p')
		[ "$m" = "$2" ] || fail "$1: ${f#"$T/root-$1"} is for '$m', not '$2'"
		n=$((n + 1))
	done < <(find "$T/root-$1" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
	echo "  ok  $1: $n ELF files, all '$2'"
	[ "$n" -ge 10 ] || fail "$1: only $n ELF files"
}

for spec in "amd64:amd64:Advanced Micro Devices X86-64" "arm64:arm64:AArch64" "armhf:arm:ARM"; do
	IFS=: read -r a oci machine <<<"$spec"
	unpack "$a"
	expect_eq "$a: image config architecture" \
		"$("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["architecture"], c["os"], c["config"]["Entrypoint"][0])' "$CONFIG_JSON")" \
		"$oci linux /usr/sbin/subnetra-entrypoint"
	check_elf "$a" "$machine"
	echo "  ok  $a: $(stat -c %s "$IMG/subnetrad-$a.tar") bytes"
done

# ---- the arm images under qemu-user ------------------------------------------

chmod 600 "$STAR_DIR"/keys/*.key
for spec in arm64:qemu-aarch64-static armhf:qemu-arm-static; do
	IFS=: read -r a q <<<"$spec"
	r=$T/root-$a
	expect_eq "$a: subnetrad --version under $q" \
		"$(timeout 60 "$q" -L "$r" "$r/usr/sbin/subnetrad" --version)" \
		"$("$SUBNETRAD" --version)"
	out=$(timeout 60 "$q" -L "$r" "$r/usr/sbin/subnetrad" -c "$STAR_DIR/spoke-a.yaml" --check \
		--plugin-dir "$r/usr/lib/subnetra/plugins") || fail "$a: --check under $q: $out"
	grep -q "configuration OK" <<<"$out" || fail "$a: --check under $q printed: $out"
	expect_eq "$a: plugins loaded from the image under $q" \
		"$(grep -c "from $r/usr/lib/subnetra/plugins/" <<<"$out")" 3
done

# ---- the amd64 image as spoke A, run by podman and runc -----------------------

"${PM[@]}" load -q -i "$IMG/subnetrad-amd64.tar" >/dev/null || fail "podman load"
"${PM[@]}" load -q -i "$IMG/subnetrad-arm64.tar" >/dev/null || fail "podman load (arm64)"
TAG=$("${PM[@]}" images --format '{{.Repository}}:{{.Tag}}' | grep -- '-amd64$')
expect_eq "podman's view of the arm64 image" \
	"$("${PM[@]}" image inspect --format '{{.Architecture}}/{{.Os}}' "${TAG%-amd64}-arm64")" \
	"arm64/linux"

chmod 644 "$STAR_DIR/keys/spoke-a.key"
nsx "$NS_A" sysctl -qw net.ipv4.ip_forward=0
star_start hub
star_start spoke-b
"${PM[@]}" run -d --name "$CT" --network "ns:/run/netns/$NS_A" --cap-add NET_ADMIN \
	--device /dev/net/tun --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--security-opt unmask=/proc/sys -e SUBNETRA_CONFIG=/etc/subnetra/spoke-a.yaml \
	-v "$STAR_DIR:/etc/subnetra" "$TAG" >/dev/null || fail "podman run"
CT_STARTED=1

wait_for 20 "the hub to learn the container (spoke A)" peer_up hub 2
wait_for 15 "spoke B to hear the hub" peer_up spoke-b 1
star_wait_ping "$NS_LA" 192.168.2.10 15 || fail "LAN A cannot reach LAN B through the container"
expect_eq "LAN A -> LAN B through the container, 20 pings" "$(ping_n "$NS_LA" 192.168.2.10 20)" 20
expect_eq "hub -> the container's overlay address, 10 pings" "$(ping_n "$NS_HUB" 10.0.0.2 10)" 10

LOG=$("${PM[@]}" logs "$CT" 2>&1)
grep -q "spoke-a.key has mode 0644, which subnetrad refuses" <<<"$LOG" ||
	fail "the entrypoint did not say it stands in for the 0644 key"
grep -q "using a copy of mode 0600, /run/subnetra/etc/keys/spoke-a.key" <<<"$LOG" ||
	fail "the entrypoint did not use a 0600 copy"
grep -q "IPv4 forwarding on (/proc/sys/net/ipv4/ip_forward = 1)" <<<"$LOG" ||
	fail "the entrypoint did not turn on forwarding"
echo "  ok  the entrypoint stood in for the 0644 key and turned on forwarding"
expect_eq "net.ipv4.ip_forward in spoke A's namespace" \
	"$(nsx "$NS_A" sysctl -n net.ipv4.ip_forward)" 1
expect_eq "the key file on the mounted disk, untouched" "$(stat -c %a "$STAR_DIR/keys/spoke-a.key")" 644

"${PM[@]}" exec "$CT" subnetra --json status >"$T/ct.json" || fail "subnetra status in the container"
expect_eq "subnetra status in the container: node" "$(jv ct node.id)" 2
expect_eq "subnetra status in the container: the hub's endpoint" "$(jv ct peer.1.endpoint)" \
	172.31.2.1:51820
[ "$(jv ct peer.1.rx_epoch)" != null ] || fail "the container accepted no epoch from the hub"
TEXT=$("${PM[@]}" exec "$CT" /bin/sh -c "subnetra status") || fail "/bin/sh -c 'subnetra status'"
grep -qE '^1 +hub +172\.31\.2\.1:51820 ' <<<"$TEXT" || fail "no hub line in: $TEXT"
echo "  ok  /bin/sh -c 'subnetra status' shows the hub"
TEXT=$(echo "subnetra peers" | "${PM[@]}" exec -i "$CT" /bin/sh) || fail "subnetra peers on /bin/sh"
grep -q "hub  172.31.2.1:51820" <<<"$TEXT" || fail "no hub in: $TEXT"
echo "  ok  'subnetra peers' typed into /bin/sh shows the hub"

expect_eq "container state" "$("${PM[@]}" inspect -f '{{.State.Status}}' "$CT")" running
"${PM[@]}" stop -t 10 "$CT" >/dev/null || fail "podman stop"
expect_eq "container state and exit code after podman stop" \
	"$("${PM[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$CT")" "exited 0"
pass "container: 3 images built and checked, arm ones run under qemu, amd64 ran as spoke A"
