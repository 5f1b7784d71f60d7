#!/usr/bin/env bash
# scripts/container-image.sh ARCH [-o DIR]: build the subnetrad container
# image for ARCH (amd64, arm64 or armhf) from this tree, as DIR/subnetrad-ARCH.tar
# (DIR defaults to build/image): an uncompressed docker-archive with one
# layer (manifest.json, the image config, the layer tar), which `docker load`,
# `podman load` and RouterOS' `/container add file=` take. docs/container.md
# describes the image; docs/network-plan.md the RouterOS procedure.
#
# Nothing comes from outside but Debian's archive: the cross compilers and
# the multiarch -dev packages are installed when missing (needs root). The
# cross-built tree is cached in $SN_CACHE_DIR (default ~/.cache/subnetra-image)
# under a hash of the sources and the toolchain's package versions, so a
# rerun on unchanged sources only packs. The tars are reproducible: fixed
# owners and timestamps ($SOURCE_DATE_EPOCH, else the last commit's time),
# sorted entries.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	sed -n '2,9s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

ARCH=${1:-}
WFLAGS=
[ "$ARCH" = -h ] || [ "$ARCH" = --help ] && usage 0
shift || usage
OUT=$SRC/build/image
while [ $# -gt 0 ]; do
	case $1 in
	-o) OUT=${2:?-o needs a directory}; shift 2 ;;
	*) echo "container-image: unknown argument '$1' (expected -o DIR)" >&2; exit 2 ;;
	esac
done

# ARCH -> GNU triplet, OCI architecture and variant, readelf's machine name.
case $ARCH in
amd64) T=x86_64-linux-gnu OCI_ARCH=amd64 VARIANT='' MACHINE='Advanced Micro Devices X86-64' ;;
arm64) T=aarch64-linux-gnu OCI_ARCH=arm64 VARIANT=v8 MACHINE=AArch64 ;;
armhf) T=arm-linux-gnueabihf OCI_ARCH=arm VARIANT=v7 MACHINE=ARM
	# core/ctl_server.c's "socket path too long" message draws a
	# -Wformat-truncation warning on 32-bit targets only: kept visible, not fatal.
	WFLAGS=-Wno-error=format-truncation ;;
*) echo "container-image: unknown ARCH '$ARCH' (expected amd64, arm64 or armhf)" >&2; exit 2 ;;
esac
HOST_ARCH=$(dpkg --print-architecture)
VERSION=$(sed -n 's/^project(subnetra VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
TAG=subnetra/subnetrad:$VERSION-$ARCH
CACHE=${SN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/subnetra-image}
START=$(date +%s)

log() { echo "container-image: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- the toolchain, from Debian's archive ----------------------------------

if [ "$ARCH" = "$HOST_ARCH" ]; then
	CC=gcc TOOLS=
	PKGS=(gcc libc6-dev libuv1-dev libsodium-dev libyaml-dev)
	TOOLCHAIN=()
else
	CC=$T-gcc TOOLS=$T-
	PKGS=("gcc-$T" "binutils-$T" "libc6-dev-$ARCH-cross"
	      "libuv1-dev:$ARCH" "libsodium-dev:$ARCH" "libyaml-dev:$ARCH")
	TOOLCHAIN=(-DCMAKE_TOOLCHAIN_FILE="$SRC/container/toolchain/$T.cmake")
fi
PKGS+=(cmake make pkg-config binutils tar coreutils)

install_deps() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
	if [ "$ARCH" != "$HOST_ARCH" ] && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
		log "dpkg --add-architecture $ARCH"
		dpkg --add-architecture "$ARCH"
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install_deps

# ---- the cross-built tree, cached under the hash of what goes into it ------

source_key() {
	(
		cd "$SRC"
		find CMakeLists.txt core plugins sdk container scripts/container-image.sh \
			-type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
		dpkg-query -W "${PKGS[@]}"
		echo "$ARCH"
	) | sha256sum | cut -c1-16
}

# Without crypto_openssl (SN_CRYPTO_OPENSSL=OFF), on every ARCH alike: the
# image stays about 3 MiB (libcrypto alone is 4.6 MB) and a router's memory
# counts more than its cipher speed, so the image's default crypto plugin
# is crypto_chacha (docs/container.md).
build_tree() {
	local b=$1
	rm -rf "$b"
	cmake -S "$SRC" -B "$b" "${TOOLCHAIN[@]}" -DCMAKE_BUILD_TYPE=Release -DSN_WERROR=ON \
		-DSN_BUILD_TESTS=OFF -DSN_CRYPTO_OPENSSL=OFF -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib \
		-DCMAKE_C_COMPILER="$CC" \
		-DCMAKE_C_FLAGS="-ffile-prefix-map=$SRC=. -ffile-prefix-map=$b=. $WFLAGS" >/dev/null
	cmake --build "$b" -j"$(nproc)" >/dev/null
}

KEY=$(source_key)
TREE=$CACHE/$ARCH-$KEY
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$ARCH"
flock 9
if [ -f "$TREE/.done" ]; then
	CACHED=hit
else
	CACHED=miss
	find "$CACHE" -maxdepth 1 -name "$ARCH-*" -exec rm -rf {} +
	log "building for $ARCH ($T) in $TREE"
	build_tree "$TREE"
	touch "$TREE/.done"
fi

# ---- the root filesystem: the programs, their libraries, the loader --------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sn-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/rootfs
READELF=${TOOLS}readelf
STRIP=${TOOLS}strip

needed() { "$READELF" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
interp() { "$READELF" -l "$1" | sed -n 's/.*program interpreter: \(.*\)\]$/\1/p'; }

check_machine() {
	local got
	got=$("$READELF" -h "$1" | sed -n 's/^ *Machine: *//p')
	[ "$got" = "$MACHINE" ] || die "$1 is for '$got', not $ARCH ('$MACHINE')"
}

# find_lib NAME: the target's library NAME on this machine (multiarch
# first, then the cross libc's directory).
find_lib() {
	local d
	for d in "/usr/lib/$T" "/lib/$T" "/usr/$T/lib"; do
		[ -e "$d/$1" ] && { readlink -f "$d/$1"; return 0; }
	done
	return 1
}

# add_libs FILE...: copy what the files need, recursively, into /lib/TRIPLET
# (a system search path of Debian's loader, so no ld.so.cache is needed).
add_libs() {
	local f lib path
	for f in "$@"; do
		for lib in $(needed "$f"); do
			[ "$lib" = "$(basename "$LOADER")" ] && continue # the loader itself
			[ -e "$R/lib/$T/$lib" ] && continue
			path=$(find_lib "$lib") || die "$f needs $lib, which no $ARCH package here has"
			install -m 0644 "$path" "$R/lib/$T/$lib"
			check_machine "$R/lib/$T/$lib"
			add_libs "$R/lib/$T/$lib"
		done
	done
}

make_rootfs() {
	local b=$TREE f host_loader
	install -d -m 0755 "$R"/{bin,dev,etc,etc/subnetra,proc,run,sys,var,var/lib} \
		"$R/usr/sbin" "$R/usr/lib/subnetra/plugins" "$R/lib/$T"
	install -d -m 1777 "$R/tmp"
	install -d -m 0700 "$R/var/lib/subnetra"
	install -m 0755 "$b/subnetrad" "$b/subnetra" "$b/container/subnetra-entrypoint" "$R/usr/sbin/"
	install -m 0755 "$b/container/subnetra-sh" "$R/bin/sh"
	install -m 0644 "$b"/plugins/*.so "$R/usr/lib/subnetra/plugins/"
	"$STRIP" "$R"/usr/sbin/* "$R/bin/sh"
	"$STRIP" --strip-unneeded "$R"/usr/lib/subnetra/plugins/*.so
	for f in "$R"/usr/sbin/* "$R/bin/sh" "$R"/usr/lib/subnetra/plugins/*.so; do
		check_machine "$f"
	done
	LOADER=$(interp "$R/usr/sbin/subnetrad")
	[ -n "$LOADER" ] || die "subnetrad names no program interpreter"
	host_loader=$(readlink -f "$LOADER" 2>/dev/null || true)
	[ -e "$host_loader" ] || host_loader=$(find_lib "$(basename "$LOADER")") ||
		die "no $ARCH loader $LOADER on this machine"
	install -D -m 0755 "$host_loader" "$R$LOADER"
	check_machine "$R$LOADER"
	add_libs "$R"/usr/sbin/* "$R/bin/sh" "$R"/usr/lib/subnetra/plugins/*.so
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$R/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
	printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"
	chmod 0644 "$R"/etc/{passwd,group,nsswitch.conf}
}
make_rootfs

# ---- the docker-archive ----------------------------------------------------

if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	EPOCH=$SOURCE_DATE_EPOCH
else
	EPOCH=$(git -C "$SRC" log -1 --format=%ct 2>/dev/null || echo 0)
fi
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# pack DIR TAR NAME...: a reproducible tar of NAMEs inside DIR.
pack() {
	local dir=$1 tar=$2; shift 2
	tar -C "$dir" --sort=name --format=ustar --numeric-owner --owner=0 --group=0 \
		--mtime="@$EPOCH" -cf "$tar" "$@"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

make_archive() {
	local a=$WORK/archive layer_id config_id variant=
	mkdir -p "$a"
	(cd "$R" && LC_ALL=C ls -A) >"$WORK/top"
	mapfile -t top <"$WORK/top"
	pack "$R" "$WORK/layer.tar" "${top[@]}"
	layer_id=$(sha "$WORK/layer.tar")
	mkdir -p "$a/$layer_id"
	mv "$WORK/layer.tar" "$a/$layer_id/layer.tar"
	[ -n "$VARIANT" ] && variant=",\"variant\":\"$VARIANT\""
	printf '{"architecture":"%s"%s,"os":"linux","created":"%s","config":{%s,%s,%s,%s},%s,%s}' \
		"$OCI_ARCH" "$variant" "$CREATED" \
		'"Entrypoint":["/usr/sbin/subnetra-entrypoint"]' \
		'"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' \
		'"WorkingDir":"/","StopSignal":"SIGTERM"' \
		"\"Labels\":{\"org.opencontainers.image.title\":\"subnetrad\",\"org.opencontainers.image.version\":\"$VERSION\"}" \
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_id\"]}" \
		"\"history\":[{\"created\":\"$CREATED\",\"created_by\":\"scripts/container-image.sh $ARCH\"}]" \
		>"$WORK/config.json"
	config_id=$(sha "$WORK/config.json")
	mv "$WORK/config.json" "$a/$config_id.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
		"$config_id" "$TAG" "$layer_id" >"$a/manifest.json"
	mkdir -p "$OUT"
	pack "$a" "$WORK/image.tar" manifest.json "$config_id.json" "$layer_id/layer.tar"
	mv "$WORK/image.tar" "$OUT/subnetrad-$ARCH.tar"
}
make_archive

IMG=$OUT/subnetrad-$ARCH.tar
log "$IMG: $TAG, $(stat -c %s "$IMG") bytes, sha256 $(sha "$IMG")," \
	"$(($(date +%s) - START)) s (build cache $CACHED)"
