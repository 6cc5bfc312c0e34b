#!/bin/sh
# make bench: wrk over HTTPS (keep-alive, Basic auth, 64 connections) against
# GET /api/v1/turnServers with 100 TURN servers stored, and in the same run against a minimal
# libmicrohttpd HTTPS server (same TLS, same pool) answering callbridged's own body, byte for byte.
# Prints both req/s, their ratio, p99 latency and callbridged's peak RSS, against the targets:
# ratio >= 0.6, p99 < 10 ms, RSS < 30 MB. Repeated GETs of one page are served from the daemon's
# list cache (api/cache.c); a third run rotates through 64 different pages (offset=0..63, more
# than the cache holds) to show the cost of rendering every answer from SQLite.
# The daemon logs at warn level here, so the figures leave out the per-request log line.
# Usage: scripts/bench/bench.sh build/rel   (BENCH_SECONDS, default 10, per run)
set -eu

bin=${1:?usage: $0 build/VARIANT}
secs=${BENCH_SECONDS:-10}
threads=$(nproc)
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

password=bench-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
CALLBRIDGE_ADMIN_PASSWORD=$password "$bin/callbridged" --data-dir "$dir" --bind 127.0.0.1 \
    --listen 0 --threads "$threads" --log-level warn >"$dir/daemon.log" 2>&1 &
daemon=$!
pids="$daemon"
port=$(listen_port "$daemon") || { echo "bench: callbridged did not start" >&2; cat "$dir/daemon.log" >&2; exit 1; }
url=https://127.0.0.1:$port/api/v1/turnServers
auth="Authorization: Basic $(printf 'admin:%s' "$password" | base64 -w0)"

n=0
while [ $n -lt 100 ]; do
    curl -sS --fail --cacert "$dir/cert.pem" -H "$auth" -o /dev/null -X POST "$url" \
        --data "serverAddress=turn$n.example.invalid:3478&clientAddress=edge$n.example.com&username=u$n&password=p$n&type=expressway"
    n=$((n + 1))
done
curl -sS --fail --cacert "$dir/cert.pem" -H "$auth" -o "$dir/body.xml" "$url"
grep -q 'total="100"' "$dir/body.xml" || { echo "bench: expected 100 servers" >&2; exit 1; }

"$bin/bench-minimal" "$dir/cert.pem" "$dir/key.pem" "$dir/body.xml" "$threads" >"$dir/minimal.out" &
pids="$pids $!"
mport=$(listen_port "$!") || { echo "bench: bench-minimal did not start" >&2; exit 1; }

# wrk prints "Requests/sec: N" and, with --latency, "99%  X{us,ms,s}".
cat >"$dir/rotate.lua" <<'LUA'
-- each wrk thread starts half a cycle after the other, so neither finds the other's pages
local n = 0
function setup(thread)
    thread:set("start", n * 32)
    n = n + 1
end
local i = -1
request = function()
    if i < 0 then i = start end
    i = (i + 1) % 64
    return wrk.format(nil, "/api/v1/turnServers?offset=" .. i)
end
LUA

run_wrk() { # url [wrk args] -> "reqs p99ms"
    u=$1
    shift
    wrk -t2 -c64 -d"${secs}s" --latency -H "$auth" "$@" "$u" >"$dir/wrk.out" 2>&1
    grep -q 'Non-2xx' "$dir/wrk.out" && { echo "bench: non-2xx answers" >&2; cat "$dir/wrk.out" >&2; exit 1; }
    awk '/Requests\/sec:/ { r = $2 }
         $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                       p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
         END { printf "%.0f %.2f\n", r, p }' "$dir/wrk.out"
}

set -- $(run_wrk "https://127.0.0.1:$mport/api/v1/turnServers")
base_rps=$1 base_p99=$2
set -- $(run_wrk "$url")
cb_rps=$1 cb_p99=$2
set -- $(run_wrk "$url" -s "$dir/rotate.lua")
nc_rps=$1 nc_p99=$2
rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$daemon/status")

awk -v b="$base_rps" -v bp="$base_p99" -v c="$cb_rps" -v cp="$cb_p99" -v rss="$rss_kb" \
    -v n="$nc_rps" -v np="$nc_p99" \
    -v size="$(wc -c <"$dir/body.xml")" -v s="$secs" -v t="$threads" 'BEGIN {
    ratio = c / b
    r_ok = "MISSED"; if (ratio >= 0.6) r_ok = "met"
    p_ok = "MISSED"; if (cp < 10) p_ok = "met"
    m_ok = "MISSED"; if (rss < 30 * 1024) m_ok = "met"
    printf "GET /api/v1/turnServers (100 stored, %d-byte answer), wrk -t2 -c64 -d%ss, %d server threads\n", size, s, t
    printf "  %-26s %10s %10s\n", "", "req/s", "p99 ms"
    printf "  %-26s %10d %10.2f\n", "minimal MHD (baseline)", b, bp
    printf "  %-26s %10d %10.2f\n", "callbridged", c, cp
    printf "  %-26s %10d %10.2f   (ratio %.2f)\n", "callbridged, 64 pages", n, np, n / b
    printf "  ratio callbridged/baseline: %.2f   (target >= 0.6: %s)\n", ratio, r_ok
    printf "  callbridged p99: %.2f ms     (target < 10 ms: %s)\n", cp, p_ok
    printf "  callbridged peak RSS: %.1f MB (target < 30 MB: %s)\n", rss / 1024, m_ok
}'
