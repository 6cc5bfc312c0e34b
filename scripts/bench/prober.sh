#!/bin/sh
# make bench, part 2: the TURN prober.
# 1. bench-prober: one cycle over 1,000 TURN servers (spread over 4 coturn instances on
#    loopback), and in the same run a cycle over a single server: wall time, CPU per probe, RSS
#    growth. Targets: 1,000 servers in under 1 s, under 1 ms of CPU per probe, RSS growth under
#    20 MB.
# 2. callbridged with the same 1,000 servers stored, restarted so that all are probed at once
#    at start-up, while wrk GETs one server's /status: the API's p99 latency (target < 20 ms).
# Every server started here gets a free port and is stopped by its PID.
# Usage: scripts/bench/prober.sh build/rel   (BENCH_SERVERS, default 1000)
set -eu

bin=${1:?usage: $0 build/VARIANT}
n=${BENCH_SERVERS:-1000}
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

ports=""
for k in 0 1 2 3; do
    port=""
    for try in 1 2 3 4 5; do # a random port that nothing uses
        cand=$(shuf -i 30000-39999 -n 1)
        ss -lnuH | grep -q ":$cand " || ss -lntH | grep -q ":$cand " || { port=$cand; break; }
    done
    [ -n "$port" ] || { echo "bench: no free port" >&2; exit 1; }
    /usr/bin/turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port "$port" \
        --min-port=$((50000 + k * 2500)) --max-port=$((52499 + k * 2500)) --realm=test.local \
        --no-tls --no-dtls --no-cli --allow-loopback-peers --lt-cred-mech --user=alice:secret \
        --log-file "$dir/turn$k.log" --simple-log --pidfile=/dev/null --no-stdout-log \
        >/dev/null 2>&1 &
    pids="$pids $!"
    [ "$(listen_port $! u)" = "$port" ] || { echo "bench: coturn did not start on $port" >&2; exit 1; }
    ports="$ports $port"
done

# shellcheck disable=SC2086 # one argument per port
"$bin/bench-prober" "$n" $ports

# 2. The API while the daemon probes every stored server at once.
CALLBRIDGE_ADMIN_PASSWORD=bench "$bin/callbridged" --data-dir "$dir/var" --bind 127.0.0.1 \
    --listen 0 --log-level warn --probe-interval 3600 >"$dir/daemon.log" 2>&1 &
daemon=$!
pids="$pids $daemon"
api=$(listen_port "$daemon" t) || { echo "bench: callbridged did not start" >&2; exit 1; }
auth="Authorization: Basic $(printf 'admin:bench' | base64 -w0)"
i=0
set -- $ports
while [ $i -lt "$n" ]; do
    eval "port=\${$((i % 4 + 1))}"
    curl -sS --fail -k -H "$auth" -o /dev/null -X POST "https://127.0.0.1:$api/api/v1/turnServers" \
        --data "serverAddress=127.0.0.1:$port&username=alice&password=secret&type=cms"
    i=$((i + 1))
done
id=$(curl -sS -k -H "$auth" "https://127.0.0.1:$api/api/v1/turnServers?limit=1" |
    sed -n 's/.*turnServer id="\([^"]*\)".*/\1/p')
kill -TERM "$daemon"
wait "$daemon" || true
CALLBRIDGE_ADMIN_PASSWORD=bench "$bin/callbridged" --data-dir "$dir/var" --bind 127.0.0.1 \
    --listen 0 --log-level warn --probe-interval 3600 >"$dir/daemon2.log" 2>&1 &
daemon=$!
pids="$pids $daemon"
api=$(listen_port "$daemon" t) || { echo "bench: callbridged did not restart" >&2; exit 1; }
wrk -t2 -c16 -d3s --latency -H "$auth" "https://127.0.0.1:$api/api/v1/turnServers/$id/status" \
    >"$dir/wrk.out" 2>&1
awk -v n="$n" '/Requests\/sec:/ { r = $2 }
     $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                   p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
     END { ok = "MISSED"; if (p + 0 < 20) ok = "met";
           printf "api: GET status while %d servers are probed at start-up: %d req/s, p99 %.2f ms (target < 20 ms: %s)\n", n, r, p, ok }' "$dir/wrk.out"
