#!/usr/bin/env bash
# plugins.crypto (docs/configuration.md): unset, `subnetrad --check` on an
# example config picks crypto_openssl where it is built; with
# crypto_openssl.so missing from the plugin directory, or with an OpenSSL
# that provides none of its algorithms (OPENSSL_CONF loading the base
# provider only), it warns, names why, and uses crypto_chacha. Set to
# openssl, a missing plugin is an error and nothing falls back; set to
# chacha, chacha it is, with no warning.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
[ -f "$PLUGINS/crypto_openssl.so" ] || skip "crypto_openssl is not built (no OpenSSL >= 3)"
e2e_begin crypto_default --no-netns

mkdir -p "$T/c"
cp -r "$SN_SRC/conf/." "$T/c/"
chmod 600 "$T"/c/keys/*.key
grep -qE '^\s+crypto:' "$T/c/hub.yaml" && fail "conf/hub.yaml sets plugins.crypto (expected unset)"
mkdir -m 0755 "$T/pl"
cp "$PLUGINS"/os_*.so "$PLUGINS"/egress_*.so "$PLUGINS/crypto_chacha.so" "$T/pl/"
printf 'openssl_conf = init\n[init]\nproviders = prov\n[prov]\nbase = base\n[base]\nactivate = 1\n' \
	>"$T/base.cnf"

# check CFG DIR [env...]: --check's output in $T/out, its status returned
check() {
	local cfg=$1 dir=$2; shift 2
	env "$@" "$SUBNETRAD" -c "$cfg" --check --plugin-dir "$dir" >"$T/out" 2>&1
}
crypto_line() { sed -n 's/^  crypto *\([a-z_]*\) .* from \(.*\)$/\1 \2/p' "$T/out"; }
warned() { grep -c "warning: plugins.crypto is not set" "$T/out" || true; }

echo "== unset, both plugins there"
check "$T/c/hub.yaml" "$PLUGINS" || fail "--check failed: $(cat "$T/out")"
expect_eq "plugin in use" "$(crypto_line)" "openssl $PLUGINS/crypto_openssl.so"
expect_eq "fallback warnings" "$(warned)" 0

echo "== unset, crypto_openssl.so not installed"
check "$T/c/hub.yaml" "$T/pl" || fail "--check failed: $(cat "$T/out")"
expect_eq "plugin in use" "$(crypto_line)" "chacha $T/pl/crypto_chacha.so"
expect_eq "fallback warnings" "$(warned)" 1
grep -qF "crypto_openssl.so: crypto plugin file not found" "$T/out" ||
	fail "the warning does not say why: $(cat "$T/out")"

echo "== unset, an OpenSSL without ChaCha20-Poly1305 (base provider only)"
check "$T/c/hub.yaml" "$PLUGINS" OPENSSL_CONF="$T/base.cnf" || fail "--check failed: $(cat "$T/out")"
expect_eq "plugin in use" "$(crypto_line)" "chacha $PLUGINS/crypto_chacha.so"
grep -qF "not available on this machine: OpenSSL provides no ChaCha20-Poly1305" "$T/out" ||
	fail "the warning does not say why: $(cat "$T/out")"

echo "== crypto: openssl, not installed: an error, no fallback"
sed -i 's|^plugins:$|plugins:\n  crypto: openssl|' "$T/c/hub.yaml"
if check "$T/c/hub.yaml" "$T/pl"; then fail "--check accepted a missing crypto_openssl.so"; fi
grep -qE "^subnetrad: $T/c/hub.yaml:[0-9]+:[0-9]+: plugins.crypto: $T/pl/crypto_openssl.so: crypto plugin file not found .*installed in $T/pl: chacha$" "$T/out" ||
	fail "unexpected error: $(cat "$T/out")"
expect_eq "fallback warnings" "$(warned)" 0
echo "  ok  $(sed "s|$T/||g" "$T/out")"

echo "== crypto: chacha"
sed -i 's|^  crypto: openssl$|  crypto: chacha|' "$T/c/hub.yaml"
check "$T/c/hub.yaml" "$PLUGINS" || fail "--check failed: $(cat "$T/out")"
expect_eq "plugin in use" "$(crypto_line)" "chacha $PLUGINS/crypto_chacha.so"
expect_eq "fallback warnings" "$(warned)" 0
pass "unset: openssl, else chacha with the reason logged (plugin missing, algorithms missing); set: that plugin or an error"
