#!/bin/bash
# scripts/test-completion.bash: the bash completion of cbctl (scripts/cbctl.bash-completion)
# against a running daemon; cbctl on PATH and its connection in ~/.config/cbctl/config
# ($XDG_CONFIG_HOME). Called by scripts/test-clients.sh. Exit 0 when every case completes.
set -u
# shellcheck source=scripts/cbctl.bash-completion
. "$(dirname "$0")/cbctl.bash-completion"

status=0
expect() { # what COMPREPLY must hold (sorted, space-separated), then the words; the last is cur
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _cbctl
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" != "$want" ]; then
        echo "completion of '${COMP_WORDS[*]}': got '$got', want '$want'" >&2
        status=1
    fi
}

expect "turn" cbctl tu
expect "call callbridge" cbctl --json cal
expect "add list rm set show status" cbctl turn ""
expect "status" cbctl system s
expect "--cacert --crit-rtt" cbctl check turn --c
id=$(cbctl turn add --serverAddress completion.example.invalid) || exit 1
expect "$id" cbctl turn show ""
expect "$id" cbctl --insecure check turn ""
cbctl turn rm "$id" || exit 1
exit $status
