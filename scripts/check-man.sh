#!/bin/sh
# Checks the manual pages (make man-check, run by make test): every man/*.[0-9] passes
# `mandoc -T lint -W warning` and `man --warnings` without a word, and every long option that
# `callbridged --help` prints appears in man/callbridged.8, so the page cannot drift from the
# option table (api/config.c).
# Usage: scripts/check-man.sh path/to/callbridged
set -eu

daemon=${1:?usage: $0 path/to/callbridged}
case $daemon in /*) ;; *) daemon=$(pwd)/$daemon ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bad=0
pages=0

for tool in mandoc:mandoc man:man-db; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
        echo "check-man: ${tool%%:*} is missing (Debian package ${tool#*:}):" \
            "scripts/install-deps.sh test installs it" >&2
        exit 1
    fi
done

for page in man/*.[0-9]; do
    pages=$((pages + 1))
    out=$(mandoc -T lint -W warning "$page" 2>&1) || true # its exit status says only what it printed
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        bad=1
    fi
    out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || bad=1
    if [ -n "$out" ]; then
        printf '%s: man --warnings:\n%s\n' "$page" "$out"
        bad=1
    fi
done

# In the page's roff source an option is written with escaped hyphens: \-\-data\-dir.
for opt in $("$daemon" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    roff=$(printf '%s' "$opt" | sed 's/-/\\-/g')
    if ! grep -qF -- "$roff" man/callbridged.8; then
        echo "man/callbridged.8: $opt (callbridged --help) is not in the page"
        bad=1
    fi
done

if [ "$bad" -ne 0 ]; then
    echo "check-man: the manual pages above need fixing" >&2
    exit 1
fi
echo "check-man: $pages pages lint clean; callbridged.8 has every --help option"
