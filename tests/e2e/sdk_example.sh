#!/usr/bin/env bash
# The SDK example builds against the installed SDK alone (nothing from the
# source tree on its include path) and subnetrad --check loads it.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin sdk_example --no-netns
PREFIX=$T/prefix

cmake --install "$SN_BUILD" --prefix "$PREFIX" >"$T/install.log" || fail "cmake --install"
for f in include/subnetra/sdk.h include/subnetra/plugin.h include/subnetra/options.h \
	share/doc/subnetra/sdk/plugin-sdk.md share/doc/subnetra/sdk/examples/egress_udp_basic/udp_basic.c \
	share/doc/subnetra/sdk/examples/egress_udp_basic/example.yaml; do
	[ -f "$PREFIX/$f" ] || fail "$f not installed"
done
PC=$(find "$PREFIX" -name subnetra-sdk.pc | head -1)
[ -n "$PC" ] || fail "subnetra-sdk.pc not installed"
CFG=$(find "$PREFIX" -name SubnetraSDKConfig.cmake | head -1)
[ -n "$CFG" ] || fail "SubnetraSDKConfig.cmake not installed"
inc=$(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags subnetra-sdk | sed -E 's/^-I([^ ]*).*/\1/')
[ "$(realpath "$inc")" = "$(realpath "$PREFIX/include")" ] ||
	fail "pkg-config --cflags subnetra-sdk gives $inc, not the prefix's include dir"
# and a plugin compiles with nothing but pkg-config's flags
cc -shared -fPIC -fvisibility=hidden $(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags subnetra-sdk) \
	"$SN_SRC/sdk/examples/egress_udp_basic/udp_basic.c" -o "$T/pc_build.so" || fail "build with pkg-config flags"

# The mock host compiles with the installed headers alone, and so does a
# test that drives the example through it.
MOCK=$PREFIX/share/subnetra/sdk/mock
[ -f "$MOCK/mock_host.c" ] && [ -f "$MOCK/mock_host.h" ] || fail "mock host not installed in $MOCK"
cc -c -Wall -Wextra -Werror $(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags subnetra-sdk) \
	-I"$MOCK" "$MOCK/mock_host.c" -o "$T/mock_host.o" || fail "the installed mock host does not compile"
grep -q "SUBNETRA_MOCK_HOST_DIR" "$CFG" || fail "SubnetraSDKConfig.cmake does not give SUBNETRA_MOCK_HOST_DIR"

# Build the example from a copy, so the source tree is not even nearby.
cp -r "$SN_SRC/sdk/examples/egress_udp_basic" "$T/example"
# No build type given: subnetra_add_plugin() makes it an optimised one.
# The template builds without a warning.
cmake -S "$T/example" -B "$T/example/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
	-DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$T/cfg.log" ||
	{ cat "$T/cfg.log"; fail "example configure"; }
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$T/example/build/CMakeCache.txt" ||
	fail "subnetra_add_plugin() left the build type unset: $(grep CMAKE_BUILD_TYPE "$T/example/build/CMakeCache.txt")"
cmake --build "$T/example/build" >"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "example build"; }
grep -q -- "-O[23]" "$T/example/build/compile_commands.json" ||
	fail "the example is not built optimised: $(cat "$T/example/build/compile_commands.json")"
if grep -q -- "$SN_SRC" "$T/example/build/compile_commands.json"; then
	fail "the example's compile line refers to the source tree"
fi
cmake --install "$T/example/build" >>"$T/install.log" || fail "example install"
SO=$(find "$PREFIX" -name egress_udp_basic.so | head -1)
[ -n "$SO" ] || fail "egress_udp_basic.so not installed"
PLUGDIR=$(dirname "$SO")
# exports only the entry symbol
syms=$(nm -D --defined-only "$SO" | awk '$2 == "T" {print $3}')
[ "$syms" = sn_plugin_entry_v1 ] || fail "plugin exports more than sn_plugin_entry_v1: $syms"

# A node config choosing the example egress; everything else from the prefix.
mkdir -p "$T/node"
(umask 077; "$PREFIX/bin/subnetra" genkey >"$T/node/key")
HUBPUB=$("$PREFIX/bin/subnetra" genkey | "$PREFIX/bin/subnetra" pubkey)
cat >"$T/node/spoke.yaml" <<YAML
node:
  id: 2
  role: spoke
  private_key_file: key
  state_dir: state
overlay:
  subnet: 10.0.0.0/24
  address: 10.0.0.2
plugins:
  directory: $PLUGDIR
  egress: udp_basic
hub:
  id: 1
  public_key: $HUBPUB
  endpoint: 127.0.0.1:51820
control:
  socket: ctl.sock
YAML
out=$("$PREFIX/sbin/subnetrad" -c "$T/node/spoke.yaml" --check) || fail "--check failed: $out"
echo "$out"
echo "$out" | grep -q "egress    udp_basic 1.0.0 (ABI 1.0) from $PLUGDIR/egress_udp_basic.so" ||
	fail "--check did not load the example plugin"

# The installed example config works once its placeholders are filled in.
EX=$PREFIX/share/doc/subnetra/sdk/examples/egress_udp_basic/example.yaml
sed -e "s|HUB_PUBLIC_KEY|$HUBPUB|; s|spoke.key|key|" "$EX" >"$T/node/example.yaml"
sed -i "s|^plugins:|plugins:\n  directory: $PLUGDIR|" "$T/node/example.yaml"
out=$("$PREFIX/sbin/subnetrad" -c "$T/node/example.yaml" --check) || fail "example.yaml: --check failed: $out"
echo "$out" | grep -q "egress    udp_basic" || fail "example.yaml did not load udp_basic: $out"
# and a bad option of the example is refused with the SDK's message
sed -i 's|sndbuf: 4MiB|sndbuff: 4MiB|' "$T/node/example.yaml"
if out=$("$PREFIX/sbin/subnetrad" -c "$T/node/example.yaml" --check 2>&1); then
	fail "example.yaml with a misspelled option passed --check"
fi
echo "$out" | grep -qF "udp_basic: unknown option 'sndbuff' (did you mean 'sndbuf'?)" ||
	fail "the misspelled option is not reported as the SDK says: $out"
pass "SDK example built against the installed SDK and loaded by subnetrad --check"
