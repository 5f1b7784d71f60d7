#!/usr/bin/env bash
# The bash completion (contrib/completion/subnetra.bash) driven as bash
# drives it, through COMP_WORDS and COMP_CWORD: options, commands, policy
# sub-commands, config files in the config directory, --platform values,
# the options of init/add-spoke/remove-spoke and the spokes in peers.d;
# and the zsh completion parses. Needs no root and no build.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/sn-completion.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0 checks=0

mkdir "$T/etc" "$T/etc/peers.d" "$T/etc/other" "$T/etc/other/peers.d"
touch "$T/etc/hub.yaml" "$T/etc/spoke.json" "$T/etc/hub.key" "$T/etc/peers.d/branch-1.yaml" \
	"$T/etc/peers.d/branch-2.json" "$T/etc/peers.d/.tmp.yaml" "$T/etc/other/peers.d/far.yaml"
_subnetra_confdir=$T/etc
# shellcheck source=/dev/null
. "$SRC/contrib/completion/subnetra.bash"
[ "$(complete -p subnetra)" = "complete -F _subnetra subnetra" ] || { echo "FAIL: subnetra has no completion"; exit 1; }
[ "$(complete -p subnetrad)" = "complete -F _subnetrad subnetrad" ] || { echo "FAIL: subnetrad has no completion"; exit 1; }

# expect "WORDS (the last one being completed)" "WANT (sorted, space-separated)"
expect() {
	local line=$1 want=$2 got fn
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	fn=_${COMP_WORDS[0]}
	COMPREPLY=()
	cd "$T"
	"$fn"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	checks=$((checks + 1))
	if [ "$got" = "$want" ]; then
		echo "ok   '$line' -> $got"
	else
		echo "FAIL '$line' -> '$got', expected '$want'"
		fails=$((fails + 1))
	fi
}

expect "subnetra " "add-spoke genkey genpsk help init metrics peers policy pubkey reload remove-spoke status"
expect "subnetra p" "peers policy pubkey"
expect "subnetra init " "hub"
expect "subnetra init hub --sp" "--spoke-route"
expect "subnetra init hub --lan " ""
expect "subnetra add-spoke b --l" "--lan"
expect "subnetra add-spoke b --hub $T/etc/h" "$T/etc/hub.key $T/etc/hub.yaml"
expect "subnetra remove-spoke " "branch-1 branch-2"
expect "subnetra remove-spoke --dir $T/etc/other " "far"
expect "subnetra remove-spoke --" "--dir --help --hub"
expect "subnetra policy " "add del delete list replace"
expect "subnetra -c $T/etc/hub.yaml policy a" "add"
expect "subnetra --json policy add 10.1.0.0/16 " "drop forward"
expect "subnetra policy add 10.1.0.0/16 forward " ""
expect "subnetra --" "--config --help --json --socket --version"
expect "subnetra -c $T/etc/h" "$T/etc/hub.key $T/etc/hub.yaml"
expect "subnetra status -c " "$T/etc/hub.yaml $T/etc/spoke.json etc"
expect "subnetrad -c $T/etc/s" "$T/etc/spoke.json"
expect "subnetrad --pl" "--platform --plugin-dir"
expect "subnetrad -c x --print-network-plan --platform " "linux macos routeros"
expect "subnetrad --platform routeros --routeros-version 7.2" "7.20 7.21"
expect "subnetrad --plugin-dir " "etc"
expect "subnetrad --ch" "--check"

if command -v zsh >/dev/null; then
	checks=$((checks + 1))
	if zsh -n "$SRC/contrib/completion/_subnetra"; then
		echo "ok   zsh -n _subnetra"
	else
		echo "FAIL zsh -n _subnetra"; fails=$((fails + 1))
	fi
else
	echo "FAIL: no zsh to check _subnetra with (scripts/deps.sh installs it)"; fails=$((fails + 1))
fi
echo "$((checks - fails)) passed, $fails failed"
[ "$fails" = 0 ]
