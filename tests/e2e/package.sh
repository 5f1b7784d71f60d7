#!/usr/bin/env bash
# The Debian packages, built from a copy of the tree (debian/, dpkg-buildpackage
# -us -uc -b, once), pass lintian with no error or warning (the overrides in
# debian/ say why), install with dpkg -i, and leave what an operator needs:
# /etc/subnetra root's and 0700, the programs in /usr/sbin and /usr/bin, the
# plugins where the daemon looks by default, the unit (systemd-analyze verify
# clean), the man pages, completion that works, the examples; an installed
# example, with keys from the installed `subnetra genkey`, passes `subnetrad
# --check`; the SDK of subnetra-dev builds the example plugin it ships.
# Everything is purged again, also on failure.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin package --no-netns
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
for t in dpkg-buildpackage dh lintian systemd-analyze; do
	command -v $t >/dev/null || fail "$t missing (scripts/deps.sh installs it)"
done
for p in subnetra subnetra-dev; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		skip "package $p is installed on this machine already: not touching it"
	fi
done

# purge even on failure; files this test put into /etc/subnetra go first
CONF=e2e-$$
purge() {
	rm -f "/etc/subnetra/$CONF-hub.yaml" "/etc/subnetra/$CONF-hub.key" "/etc/subnetra/$CONF-spoke.key"
	dpkg --purge subnetra-dev subnetra >"$T/purge.log" 2>&1 || cat "$T/purge.log" >&2
}
e2e_defer purge

t0=$(date +%s)
mkdir "$T/src"
tar -C "$SN_SRC" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . | tar -C "$T/src" -xf -
(cd "$T/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 ||
	{ tail -40 "$T/build.log"; fail "dpkg-buildpackage"; }
t1=$(date +%s)
VER=$(dpkg-parsechangelog -l "$T/src/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEB=$T/subnetra_${VER}_$ARCH.deb DEV=$T/subnetra-dev_${VER}_$ARCH.deb
[ -f "$DEB" ] && [ -f "$DEV" ] || fail "dpkg-buildpackage made no $DEB and $DEV: $(ls "$T")"
echo "  ok  built $(basename "$DEB") and $(basename "$DEV") in $((t1 - t0)) s"

lintian --fail-on error,warning "$T/subnetra_${VER}_$ARCH.changes" >"$T/lintian.log" 2>&1 ||
	{ cat "$T/lintian.log"; fail "lintian reports errors or warnings"; }
grep -E '^[EW]:' "$T/lintian.log" && fail "lintian: $(cat "$T/lintian.log")"
echo "  ok  lintian: no error, no warning (overrides: $(grep -hv '^#' "$T"/src/debian/*.lintian-overrides | tr '\n' ' '))"

dpkg -i "$DEB" "$DEV" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "dpkg -i"; }
t2=$(date +%s)

# owner, group and mode of what an operator relies on
meta() { stat -c '%U:%G %a' "$1" 2>/dev/null || echo missing; }
expect_eq "/etc/subnetra" "$(meta /etc/subnetra)" "root:root 700"
expect_eq "/usr/sbin/subnetrad" "$(meta /usr/sbin/subnetrad)" "root:root 755"
expect_eq "/usr/bin/subnetra" "$(meta /usr/bin/subnetra)" "root:root 755"
PLUG=/usr/lib/$TRIPLET/subnetra/plugins
expect_eq "$PLUG" "$(meta "$PLUG")" "root:root 755"
for p in os_linux crypto_chacha egress_raw_direct egress_fec_xor egress_kcp_arq; do
	expect_eq "$PLUG/$p.so" "$(meta "$PLUG/$p.so")" "root:root 644"
done
for f in /lib/systemd/system/subnetrad@.service /usr/share/man/man8/subnetrad.8.gz \
	/usr/share/man/man8/subnetra.8.gz /usr/share/man/man5/subnetra.conf.5.gz \
	/usr/share/bash-completion/completions/subnetra /usr/share/bash-completion/completions/subnetrad \
	/usr/share/zsh/vendor-completions/_subnetra /usr/share/doc/subnetra/examples/hub.yaml \
	/usr/share/doc/subnetra/examples/spoke.yaml /usr/share/doc/subnetra/copyright \
	/usr/include/subnetra/sdk.h /usr/lib/$TRIPLET/pkgconfig/subnetra-sdk.pc \
	/usr/lib/$TRIPLET/cmake/SubnetraSDK/SubnetraSDKConfig.cmake \
	/usr/share/doc/subnetra-dev/plugin-sdk.md.gz \
	/usr/share/doc/subnetra-dev/examples/egress_udp_basic/udp_basic.c \
	/usr/share/doc/subnetra-dev/examples/egress_pad/pad.c \
	/usr/share/doc/subnetra-dev/examples/egress_pad/test_pad.c; do
	expect_eq "$f" "$(meta "$f")" "root:root 644"
done
# nothing else lands in the program and library directories
got=$(dpkg -L subnetra subnetra-dev | while read -r f; do [ -f "$f" ] && echo "$f"; done |
	grep -E '^/(usr/)?(s?bin|lib)/' | sort | tr '\n' ' ')
want="/lib/systemd/system/subnetrad@.service /usr/bin/subnetra"
want+=" /usr/lib/$TRIPLET/cmake/SubnetraSDK/SubnetraPlugin.cmake"
want+=" /usr/lib/$TRIPLET/cmake/SubnetraSDK/SubnetraSDKConfig.cmake"
want+=" /usr/lib/$TRIPLET/cmake/SubnetraSDK/SubnetraSDKConfigVersion.cmake"
want+=" /usr/lib/$TRIPLET/pkgconfig/subnetra-sdk.pc"
want+=" $PLUG/crypto_chacha.so $PLUG/crypto_openssl.so $PLUG/egress_fec_xor.so $PLUG/egress_kcp_arq.so"
want+=" $PLUG/egress_raw_direct.so"
want+=" $PLUG/os_linux.so /usr/sbin/subnetrad "
expect_eq "files under bin, sbin and lib" "$got" "$want"
expect_eq "subnetrad's built-in plugin directory" \
	"$(subnetrad --help | grep -o "/usr/lib/$TRIPLET/subnetra/plugins")" "$PLUG"

out=$(systemd-analyze verify /lib/systemd/system/subnetrad@.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
echo "  ok  systemd-analyze verify /lib/systemd/system/subnetrad@.service: clean"
for page in subnetrad.8 subnetra.8 subnetra.conf.5; do
	out=$(man -l "/usr/share/man/man${page##*.}/$page.gz" 2>/dev/null) || fail "man $page failed"
	grep -q "^NAME" <<<"$out" || fail "man $page does not render"
done
got=$(bash -c '. /usr/share/bash-completion/completions/subnetra; COMP_WORDS=(subnetra st); COMP_CWORD=1
	_subnetra; echo "${COMPREPLY[*]}"')
expect_eq "installed bash completion of 'subnetra st'" "$got" status

# an installed example, with keys from the installed tool, as README's steps do
(umask 077; subnetra genkey >"/etc/subnetra/$CONF-hub.key"; subnetra genkey >"/etc/subnetra/$CONF-spoke.key")
expect_eq "a key from subnetra genkey" "$(meta "/etc/subnetra/$CONF-hub.key")" "root:root 600"
SPUB=$(subnetra pubkey <"/etc/subnetra/$CONF-spoke.key")
sed -e "s|SPOKE_A_PUBLIC_KEY|$SPUB|" \
	-e "s|private_key_file: hub.key|private_key_file: $CONF-hub.key|" \
	/usr/share/doc/subnetra/examples/hub.yaml >"/etc/subnetra/$CONF-hub.yaml"
out=$(subnetrad -c "/etc/subnetra/$CONF-hub.yaml" --check) || fail "subnetrad --check on the installed example: $out"
grep -q "from $PLUG/os_linux.so" <<<"$out" || fail "--check did not load the installed plugins: $out"
echo "  ok  subnetrad --check on the installed hub example: $(head -1 <<<"$out")"

# the SDK as a third party finds it: the example plugins shipped in subnetra-dev
for ex in egress_pad egress_udp_basic; do
	cp -r "/usr/share/doc/subnetra-dev/examples/$ex" "$T/$ex"
	cmake -S "$T/$ex" -B "$T/$ex/build" >"$T/$ex.log" 2>&1 && cmake --build "$T/$ex/build" >>"$T/$ex.log" 2>&1 ||
		{ cat "$T/$ex.log"; fail "the SDK example $ex does not build against subnetra-dev"; }
	[ -n "$(find "$T/$ex/build" -name "$ex.so" | head -1)" ] || fail "no $ex.so built"
done

purge
for p in subnetra subnetra-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && fail "$p still installed after purge"
done
[ -e /etc/subnetra ] && fail "/etc/subnetra is left after purge: $(ls -la /etc/subnetra)"
t3=$(date +%s)
pass "packages built in $((t1 - t0)) s, lintian clean, installed, checked and purged in $((t3 - t1)) s more"
