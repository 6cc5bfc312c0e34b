#!/bin/sh
# The one-way module rules (DESIGN.md "Layout", STYLE.md "HEADERS") as a check: reads every
# #include "..." in the product code and prints each violation as file:line: rule, then fails.
#   base/        includes nothing of ours        store/       only base/
#   turnclient/  only base/                      media/       only turnclient/ and base/
#   api/http/    api/*.h, base, store, turnclient, media; never api/res/
#   api/res/     api/*.h, base, store, turnclient, media; never api/http/
#   api/*.[ch]   the composition root: any layer of api/ and any module; but the request/reply
#                model (api.h, form, xml) includes neither api/http/ nor api/res/
#   cli/         nothing of ours (cbctl is a program of its own)
# A module is included from outside only through its public header <dir>/<dir>.h; private
# headers are for the module itself and for tests/ and fuzz/, which are exempt from every rule
# here, and for scripts/bench/ (test and load clients such as rtcpeer, which speak STUN and
# DTLS themselves). Every include is written from the repo root. Known violations that other
# work removes are listed, each with its reason, in scripts/check-includes.allow ("file include # why").
# Usage: scripts/check-includes.sh   (from anywhere; exit 1 on any violation not allowed)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

find base store turnclient media api cli scripts -name '*.[ch]' 2>/dev/null | sort |
    xargs grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' |
    awk -F: -v allowfile=scripts/check-includes.allow '
    BEGIN {
        while ((getline line < allowfile) > 0) {
            sub(/#.*/, "", line)
            if (split(line, f, " ") == 2)
                allow[f[1] " " f[2]] = 1
        }
    }
    # The module (and api layer) a path belongs to: base, store, turnclient, media, cli,
    # api/http, api/res, api (the root level of api/), or "" for anything else (scripts/...).
    function layer(p,   n, d) {
        n = split(p, d, "/")
        if (d[1] == "api" && n > 2 && (d[2] == "http" || d[2] == "res"))
            return "api/" d[2]
        if (d[1] ~ /^(base|store|turnclient|media|cli|api)$/ && n > 1)
            return d[1]
        return ""
    }
    function top(l) { sub(/\/.*/, "", l); return l }
    function public_of(m) { return m == "api" ? "api/api.h" : m "/" m ".h" }
    # The rule an include breaks, or "" when it keeps them all.
    function broken(file, inc,   from, to) {
        from = layer(file)
        to = layer(inc)
        if (inc !~ /\//)
            return "includes start at the repo root (\"dir/" inc "\")"
        if (system("test -f \"" inc "\"") != 0)
            return "no such file from the repo root: " inc
        if (file ~ /^scripts\/bench\//)
            return ""   # test and load clients may use private headers (see above)
        if (file ~ /^api\/(api\.h|form\.[ch]|xml\.[ch])$/ && (to == "api/http" || to == "api/res"))
            return "the request/reply model (api.h, form, xml) includes neither api/http/ nor api/res/"
        if (to == "" || top(to) == top(from) && (from == "api" || to == from || to == "api"))
            return ""   # own module, own layer, api/*.h from a layer, or the composition root
        if (from == "api/http" && to == "api/res")
            return "api/http/ (the HTTPS edge) does not include api/res/ (the resources)"
        if (from == "api/res" && to == "api/http")
            return "api/res/ (the resources) does not include api/http/ (the HTTPS edge)"
        if (from == "base")
            return "base/ includes nothing of ours"
        if (from == "cli")
            return "cli/ includes nothing of ours (cbctl is a program of its own)"
        if (from == "store" && to != "base")
            return "store/ includes only base/"
        if (from == "turnclient" && to != "base")
            return "turnclient/ includes only base/"
        if (from == "media" && to != "base" && to != "turnclient")
            return "media/ includes only turnclient/ and base/"
        if (top(from) != "api" && from != "" && top(to) == "api")
            return from "/ does not include api/ (api uses the modules, not the other way)"
        if (inc != public_of(top(to)))
            return "another module is included through its public header " public_of(top(to)) \
                ", not " inc
        return ""
    }
    {
        file = $1
        lineno = $2
        inc = $0
        sub(/^[^"]*"/, "", inc)
        sub(/".*/, "", inc)
        why = broken(file, inc)
        if (why == "")
            next
        if ((file " " inc) in allow) {
            used[file " " inc] = 1
            next
        }
        print file ":" lineno ": " why
        bad++
    }
    END {
        for (k in allow)
            if (!(k in used)) {
                print allowfile ": \"" k "\" is allowed but no longer included: remove the entry"
                bad++
            }
        if (bad) {
            print bad " include rule violation(s) (scripts/check-includes.sh)"
            exit 1
        }
    }'
