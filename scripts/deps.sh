#!/usr/bin/env bash
# scripts/deps.sh: install what building, testing and the demo need, from
# Debian's archive, when it is missing. Idempotent; needs root to install.
set -euo pipefail

PKGS=(gcc cmake make pkg-config libuv1-dev libsodium-dev libyaml-dev libcmocka-dev libssl-dev
      iproute2 iputils-ping nftables iperf3 python3 procps valgrind binutils coreutils
      util-linux podman runc qemu-user-static)
# (tests/e2e/container.sh runs the image with podman and runc and the arm
# images under qemu-user; scripts/container-image.sh installs the cross
# compilers and multiarch libraries it needs itself.)
# the macOS build check (scripts/macos-cross.sh): dpkg-source unpacks the
# dependencies' Debian sources, autotools makes libsodium's configure, npm
# fetches zig (any npm will do: one that came with nodejs counts)
PKGS+=(dpkg-dev autoconf automake libtool)
# packaging and service checks: the man pages (mandoc), the completions
# (bash-completion, zsh), the Debian package (debhelper, lintian, fakeroot),
# systemd-analyze verify looks up the units' man pages (man-db),
# the unit (systemd for systemd-analyze; nothing is started), the unit's
# sandbox emulated (libcap2-bin, python3-seccomp)
PKGS+=(mandoc man-db bash-completion zsh debhelper lintian fakeroot systemd libcap2-bin python3-seccomp)
command -v npm >/dev/null || PKGS+=(npm)
[ "${SN_DEPS_EXTRA:-}" ] && read -r -a extra <<<"$SN_DEPS_EXTRA" && PKGS+=("${extra[@]}")

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
