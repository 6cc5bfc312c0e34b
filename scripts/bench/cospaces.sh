#!/bin/sh
# make bench, part 3: coSpaces and call matching with 100,000 coSpaces and 1,000 rules
# (BENCH_SPACES, BENCH_RULES): create rate, filter and matching p99, the filter as a direct SQLite
# query for the ratio, database size, daemon RSS (scripts/bench/cospaces.c).
# Usage: scripts/bench/cospaces.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

CALLBRIDGE_ADMIN_PASSWORD=bench "$bin/callbridged" --data-dir "$dir/var" --bind 127.0.0.1 \
    --listen 0 --log-level warn >"$dir/daemon.log" 2>&1 &
daemon=$!
pids="$daemon"
port=$(listen_port "$daemon") || { echo "bench: callbridged did not start" >&2; exit 1; }
"$bin/bench-cospaces" "https://127.0.0.1:$port" bench "$dir/var/cert.pem" \
    "$dir/var/callbridge.db" "$daemon" "${BENCH_SPACES:-100000}" "${BENCH_RULES:-1000}"
