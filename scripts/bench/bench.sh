#!/bin/sh
# make bench: wrk over HTTPS (keep-alive, Basic auth, 64 connections) against
# GET /api/v1/turnServers with 100 TURN servers stored, and in the same run against a minimal
# libmicrohttpd HTTPS server (same TLS, same pool) answering callbridged's own body, byte for byte.
# Prints both req/s, their ratio, p99 latency and callbridged's peak RSS, against the targets:
# ratio >= 0.6, p99 < 10 ms, RSS < 30 MB. Repeated GETs of one page are served from the daemon's
# list cache (api/res/cache.c); a third run rotates through 64 different pages (offset=0..63, more
# than the cache holds) to show the cost of rendering every answer from SQLite.
# The daemon logs at warn level here, so the figures leave out the per-request log line.
# Both servers run libmicrohttpd's poll() loop (api/http/http.c says why not epoll). Next to the
# ratio: the CPU seconds each server uses while 2, then 50, clients hold a connection open after
# the first byte of a TLS handshake, for STALL_SECONDS (default 5); target: under 0.1 s.
# BENCH_COMPARE=1 also runs the minimal server with epoll and with select, the other candidates.
# Usage: scripts/bench/bench.sh build/rel   (BENCH_SECONDS, default 10, per run)
set -eu

bin=${1:?usage: $0 build/VARIANT}
secs=${BENCH_SECONDS:-10}
stall_secs=${STALL_SECONDS:-5}
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

start_minimal() { # mode -> sets $minimal and $mport
    "$bin/bench-minimal" "$dir/cert.pem" "$dir/key.pem" "$dir/body.xml" "$threads" "$1" \
        >"$dir/minimal-$1.out" 2>&1 &
    minimal=$!
    pids="$pids $minimal"
    mport=$(listen_port "$minimal") || { echo "bench: bench-minimal ($1) did not start" >&2; exit 1; }
}
stop_minimal() {
    kill -TERM "$minimal" && wait "$minimal" || true
}
stall_cpu() { # pid port conns -> CPU seconds used while conns half-handshakes stall
    "$bin/bench-stall" "$1" "$2" "$3" "$stall_secs" | awk -v n="$3" '
        $4 != n { print "bench: only " $4 " of " n " stalled connections opened" > "/dev/stderr" }
        { print $2 }'
}
start_minimal poll

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
cb_stall2=$(stall_cpu "$daemon" "$port" 2)
cb_stall50=$(stall_cpu "$daemon" "$port" 50)
base_stall2=$(stall_cpu "$minimal" "$mport" 2)
base_stall50=$(stall_cpu "$minimal" "$mport" 50)
stop_minimal

awk -v b="$base_rps" -v bp="$base_p99" -v c="$cb_rps" -v cp="$cb_p99" -v rss="$rss_kb" \
    -v n="$nc_rps" -v np="$nc_p99" -v cs2="$cb_stall2" -v cs50="$cb_stall50" \
    -v bs2="$base_stall2" -v bs50="$base_stall50" -v ss="$stall_secs" \
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
    s_ok = "MISSED"; if (cs2 < 0.1 && cs50 < 0.1) s_ok = "met"
    printf "CPU seconds over %ss while clients stall after 1 byte of a TLS handshake (poll loop)\n", ss
    printf "  %-26s %10s %10s\n", "", "2 stalled", "50 stalled"
    printf "  %-26s %10.2f %10.2f\n", "minimal MHD (baseline)", bs2, bs50
    printf "  %-26s %10.2f %10.2f   (target < 0.1 s: %s)\n", "callbridged", cs2, cs50, s_ok
}'

# The other event loops of libmicrohttpd, on the minimal server, for the record.
if [ -n "${BENCH_COMPARE:-}" ]; then
    for mode in epoll select; do
        start_minimal "$mode"
        set -- $(run_wrk "https://127.0.0.1:$mport/api/v1/turnServers")
        printf "  minimal MHD, %-6s loop: %6d req/s, p99 %.2f ms, CPU over %ss with 2 / 50 stalled: %s / %s\n" \
            "$mode" "$1" "$2" "$stall_secs" "$(stall_cpu "$minimal" "$mport" 2)" "$(stall_cpu "$minimal" "$mport" 50)"
        stop_minimal
    done
fi
