#!/bin/sh
# make bench, fifth part: does a wrong login cost the same whether the user exists or not?
# Sends 100 requests as an unknown user and 100 as admin with a wrong password, alternating,
# each client address (127.0.0.10 up) sending two, fewer than the 10 failures that start the
# failed-login backoff, and reads the daemon's own time for each request from its log line
# (found by X-Request-Id). Prints both medians and their ratio; a ratio far from 1 would let a
# client find out which user names exist.
# Usage: scripts/bench/auth.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

password=bench-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
CALLBRIDGE_ADMIN_PASSWORD=$password "$bin/callbridged" --data-dir "$dir" --bind 127.0.0.1 \
    --listen 0 --threads 2 >"$dir/daemon.log" 2>&1 &
daemon=$!
pids="$daemon"
port=$(listen_port "$daemon") || { echo "bench: callbridged did not start" >&2; exit 1; }
url=https://127.0.0.1:$port/api/v1/system/status

i=0
while [ $i -lt 100 ]; do
    for kind in unknown wrong; do
        case $kind in
        unknown) cred="nosuchuser:$password" ;;
        wrong) cred="admin:not-$password" ;;
        esac
        curl -sS --cacert "$dir/cert.pem" --interface 127.0.0.$((10 + i)) -u "$cred" \
            -H "X-Request-Id: $kind-$i" -o /dev/null "$url"
    done
    i=$((i + 1))
done
grep -q ' 429 ' "$dir/daemon.log" && { echo "bench: the backoff answered some requests" >&2; exit 1; }

# "... GET /api/v1/system/status 401 41234us user=- id=wrong-7"
awk '/ id=(unknown|wrong)-/ {
    split($NF, id, "[=-]"); us = $6; sub("us", "", us); print id[2], us
}' "$dir/daemon.log" | sort -k1,1 -k2,2n | awk '
{ v[$1, ++n[$1]] = $2 }
END {
    for (k in n) med[k] = v[k, int((n[k] + 1) / 2)]
    if (n["unknown"] != 100 || n["wrong"] != 100) {
        printf "bench: expected 100 log lines of each kind, got %d and %d\n", n["unknown"], n["wrong"]
        exit 1
    }
    printf "Failed logins, the daemon'\''s own time per request (median of 100 each)\n"
    printf "  wrong password          %8.2f ms\n", med["wrong"] / 1000
    printf "  unknown user            %8.2f ms\n", med["unknown"] / 1000
    printf "  ratio unknown/wrong: %.3f (1 means a client cannot tell them apart)\n", med["unknown"] / med["wrong"]
}'
