#!/usr/bin/env bash
# `subnetrad -c FILE --check` on every example config in conf/ (YAML and
# JSON), from a temp copy with the keys at mode 0600: each passes, and so
# do MTUs at the bounds (576, 9000). Corrupted copies fail, exit non-zero,
# with an error at FILE:LINE:COL pointing at the broken line
# (docs/configuration.md: one line naming the file, the place, what is
# wrong and what would be right): MTU 100, 575 and 9001, a misspelled key,
# a private key file that group and others can read (mode 0644), a
# misspelled plugin (with "did you mean" and what is installed), options
# under a name no loaded plugin has; and a plugin chosen by path loads.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
e2e_begin check_configs --no-netns

fresh() { # a clean copy of conf/ in $T/c
	rm -rf "$T/c"
	mkdir -p "$T/c"
	cp -r "$SN_SRC/conf/." "$T/c/"
	chmod 600 "$T/c"/keys/*.key
}
check() { "$SUBNETRAD" -c "$1" --check --plugin-dir "$PLUGINS" >"$T/out" 2>&1; }

# must_fail CFG PATTERN WHAT NEEDLE: --check fails with "CFG:L:C: ..." where
# L is the line matching PATTERN (extended regex) and the message has NEEDLE.
must_fail() {
	local cfg=$1 pat=$2 what=$3 needle=$4 line
	line=$(grep -nE "$pat" "$cfg" | cut -d: -f1)
	[ "$(wc -w <<<"$line")" = 1 ] || fail "$what: corruption not applied exactly once in $cfg"
	if check "$cfg"; then
		fail "$what: --check accepted $(basename "$cfg")"
	fi
	grep -qE "^subnetrad: $cfg:$line:[0-9]+: " "$T/out" ||
		fail "$what: no error at $(basename "$cfg"):$line:COL: $(cat "$T/out")"
	grep -qF -- "$needle" "$T/out" || fail "$what: the error does not mention '$needle': $(cat "$T/out")"
	echo "  ok  $what -> $(sed "s/^subnetrad: //; s|$T/c/||g" "$T/out")"
}

n=0
for src in "$SN_SRC"/conf/*.yaml "$SN_SRC"/conf/*.json; do
	name=$(basename "$src")
	node=${name%.*}
	echo "== $name"
	fresh
	cfg=$T/c/$name
	check "$cfg" || fail "$name: --check failed: $(cat "$T/out")"
	grep -qF "$cfg: configuration OK" "$T/out" || fail "$name: no 'configuration OK': $(cat "$T/out")"
	echo "  ok  $(head -1 "$T/out" | sed "s|$T/c/||")"

	for mtu in 576 9000; do
		fresh
		sed -i -E "s/(\"?mtu\"?: *)1420/\1$mtu/" "$cfg"
		grep -qE "\"?mtu\"?: *$mtu\b" "$cfg" || fail "$name: MTU edit not applied"
		check "$cfg" || fail "$name: MTU $mtu rejected: $(cat "$T/out")"
		echo "  ok  MTU $mtu accepted"
	done
	for mtu in 100 575 9001; do
		fresh
		sed -i -E "s/(\"?mtu\"?: *)1420/\1$mtu/" "$cfg"
		must_fail "$cfg" "\"?mtu\"?: *$mtu\b" "MTU $mtu" "mtu"
	done

	fresh
	sed -i -E 's/^(\s*"?)interface("?:)/\1interfase\2/' "$cfg"
	must_fail "$cfg" '^\s*"?interfase"?:' "misspelled key" "interfase"

	fresh
	chmod 644 "$T/c/keys/$node.key"
	must_fail "$cfg" '^\s*"?private_key_file"?:' "key file mode 0644" "$T/c/keys/$node.key"

	# a misspelled plugin: where it was chosen, the closest name, what is installed
	fresh
	sed -i -E 's/("?egress"?: *"?)raw_direct/\1raw_directt/' "$cfg"
	installed=$(cd "$PLUGINS" && ls egress_*.so | sed 's/^egress_//; s/\.so$//' | LC_ALL=C sort |
		paste -sd, | sed 's/,/, /g')
	must_fail "$cfg" '"?egress"?: *"?raw_directt' "misspelled plugin" \
		"plugins.egress: $PLUGINS/egress_raw_directt.so: egress plugin file not found (No such file or directory); did you mean 'raw_direct'?; installed in $PLUGINS: $installed"
	# a plugin chosen by the path of its .so
	fresh
	sed -i -E "s|(\"?egress\"?: *\"?)raw_direct|\1$PLUGINS/egress_raw_direct.so|" "$cfg"
	check "$cfg" || fail "$name: egress by path refused: $(cat "$T/out")"
	grep -qE "egress +raw_direct .* from $PLUGINS/egress_raw_direct.so" "$T/out" ||
		fail "$name: --check does not show the plugin loaded by path: $(cat "$T/out")"
	echo "  ok  egress chosen by path"
	if [ "${name##*.}" = yaml ]; then # options under a name no plugin has
		fresh
		sed -i -E '/^  egress: raw_direct/a\  options:\n    raw_directt: { gso: "off" }' "$cfg"
		must_fail "$cfg" '^    raw_directt:' "options for no loaded plugin" \
			"plugins.options.raw_directt: no plugin of that name is loaded; did you mean 'raw_direct'?"
	fi
	n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "expected at least 6 example configs, found $n"
pass "$n example configs pass --check; corrupted copies fail at file:line:col"
