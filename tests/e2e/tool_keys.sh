#!/usr/bin/env bash
# subnetra genkey / pubkey / genpsk: wg's text form, key files 0600, and the
# tool's command line (options before or after the command, clear errors).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin tool_keys --no-netns

(umask 022; "$SUBNETRA" genkey >"$T/a.key")
mode=$(stat -c %a "$T/a.key")
[ "$mode" = 600 ] || fail "genkey left the key file mode $mode, want 600"
key=$(cat "$T/a.key")
[[ "$key" =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "genkey printed '$key', not 44 base64 characters"
# X25519 clamping, as wg genkey does: low 3 bits of byte 0 clear, byte 31 = 01xxxxxx
"$PY" - "$key" <<'PY' || fail "genkey output is not a clamped X25519 private key"
import base64, sys
k = base64.b64decode(sys.argv[1])
assert len(k) == 32 and k[0] & 7 == 0 and k[31] & 0xC0 == 0x40
PY
# pubkey of the demo keys equals the .pub files made with wg(8)
for n in hub spoke-a spoke-b; do
	got=$("$SUBNETRA" pubkey <"$SN_SRC/conf/keys/$n.key")
	[ "$got" = "$(cat "$SN_SRC/conf/keys/$n.pub")" ] || fail "pubkey of $n.key: $got"
done
# genpsk: 32 random bytes, also 0600 when written to a file
(umask 022; "$SUBNETRA" genpsk >"$T/a.psk")
[ "$(stat -c %a "$T/a.psk")" = 600 ] || fail "genpsk left the file world-readable"
[ "$(base64 -d "$T/a.psk" | wc -c)" = 32 ] || fail "genpsk is not 32 bytes"
[ "$("$SUBNETRA" genkey)" != "$("$SUBNETRA" genkey)" ] || fail "two genkey runs gave the same key"
# errors
if out=$(echo "not a key" | "$SUBNETRA" pubkey 2>&1); then fail "pubkey accepted garbage"; fi
grep -q "stdin is not a private key" <<<"$out" || fail "pubkey error: $out"
if out=$("$SUBNETRA" status --bogus 2>&1); then fail "unknown option accepted"; fi
grep -q "unknown option '--bogus'" <<<"$out" || fail "unknown option message: $out"
if out=$("$SUBNETRA" status --json -s "$T/none.sock" 2>&1); then fail "status without a daemon succeeded"; fi
grep -q "cannot connect to $T/none.sock: No such file or directory (is subnetrad running?)" <<<"$out" ||
	fail "no-daemon message: $out"
pass "genkey/pubkey/genpsk in wg's form, key files 0600, CLI errors clear"
