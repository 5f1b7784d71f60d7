# SPDX-License-Identifier: MIT
# bash completion for subnetra(8) and subnetrad(8), installed under both
# names in bash-completion's directory. Stands alone (no bash-completion
# helpers needed): options, commands, the policy sub-commands, config files
# (those in /etc/subnetra first), control sockets, --platform values, the
# options of init/add-spoke/remove-spoke and the spokes remove-spoke knows.

_subnetra_confdir=${_subnetra_confdir:-/etc/subnetra}

# _subnetra_reply WORDS...: the words that start with $cur
_subnetra_reply() {
	local w
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	return 0
}

# config files: the node configs in /etc/subnetra, then files and dirs as usual
_subnetra_configs() {
	local f
	for f in "$_subnetra_confdir"/*.yaml "$_subnetra_confdir"/*.yml "$_subnetra_confdir"/*.json; do
		[[ -f $f && $f == "$cur"* ]] && COMPREPLY+=("$f")
	done
	_subnetra_files
}

# files and directories that start with $cur, each once
_subnetra_files() {
	local f have=$'\n'"${COMPREPLY[*]}"$'\n' IFS=$'\n'
	for f in $(compgen -f -- "$cur"); do
		[[ $have == *$'\n'"$f"$'\n'* ]] || COMPREPLY+=("$f")
	done
	compopt -o filenames 2>/dev/null || true
}

_subnetra_sockets() {
	local f
	for f in /run/subnetra/*.sock; do
		[[ -S $f && $f == "$cur"* ]] && COMPREPLY+=("$f")
	done
	_subnetra_files
}

# the spokes add-spoke put in peers.d (the hub's directory: --dir, else
# /etc/subnetra)
_subnetra_spokes() {
	local f d=$_subnetra_confdir i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == --dir ]] && d=${COMP_WORDS[i + 1]}
	done
	for f in "$d"/peers.d/*.yaml "$d"/peers.d/*.json; do
		[[ -f $f ]] || continue
		f=${f##*/}
		_subnetra_reply "${f%.*}"
	done
}

# init, add-spoke, remove-spoke: options of their own
_subnetra_onboard() {
	local cmd=$1 prev=${COMP_WORDS[COMP_CWORD - 1]}
	case $prev in
	--dir | --state-dir)
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null || true
		return ;;
	--hub) _subnetra_configs; return ;;
	--out | --socket) _subnetra_files; return ;;
	--lan | --overlay | --address | --listen | --endpoint | --spoke-route | --name) return ;;
	esac
	case $cmd in
	init)
		if [[ $cur == -* ]]; then
			_subnetra_reply --dir --name --overlay --address --listen --endpoint --lan \
				--spoke-route --state-dir --socket --force --help
		elif [ "$COMP_CWORD" = 2 ]; then
			_subnetra_reply hub
		fi ;;
	add-spoke)
		[[ $cur == -* ]] && _subnetra_reply --lan --dir --hub --out --endpoint --state-dir \
			--socket --help ;;
	remove-spoke)
		if [[ $cur == -* ]]; then _subnetra_reply --dir --hub --help; else _subnetra_spokes; fi ;;
	esac
	return 0
}

_subnetra() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i w words=()
	COMPREPLY=()
	case ${COMP_WORDS[1]:-} in
	init | add-spoke | remove-spoke)
		[ "$COMP_CWORD" -gt 1 ] && { _subnetra_onboard "${COMP_WORDS[1]}"; return; } ;;
	esac
	case $prev in
	-c | --config) _subnetra_configs; return ;;
	-s | --socket) _subnetra_sockets; return ;;
	esac
	# the words so far that are not options (the command and its arguments)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c | --config | -s | --socket) ((i++)) ;;
		-*) ;;
		*) words+=("$w") ;;
		esac
	done
	if [[ $cur == -* ]]; then
		_subnetra_reply -s --socket -c --config -j --json -h --help -V --version
		return
	fi
	case "${words[*]}" in
	"") _subnetra_reply genkey pubkey genpsk status peers metrics policy reload init add-spoke \
		remove-spoke help ;;
	policy) _subnetra_reply list add del delete replace ;;
	"policy replace") _subnetra_files ;;
	policy\ add\ *)
		# policy add PREFIX forward PEER | PREFIX drop
		[ ${#words[@]} = 3 ] && _subnetra_reply forward drop ;;
	esac
	return 0
}

_subnetrad() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	-c | --config) _subnetra_configs; return ;;
	--plugin-dir)
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null || true
		return 0 ;;
	--platform) _subnetra_reply linux macos routeros; return ;;
	--routeros-version) _subnetra_reply 7.19 7.20 7.21; return ;;
	esac
	_subnetra_reply -c --config --check --print-network-plan --platform --routeros-version \
		--plugin-dir -v --verbose -q --quiet -h --help -V --version
}

complete -F _subnetra subnetra
complete -F _subnetrad subnetrad
