#!/bin/sh
# make bench, cluster part: the API on PostgreSQL next to SQLite, three nodes on one PostgreSQL
# against one node, and the time a node needs to write again after the primary database dies.
#
# It starts its own PostgreSQL 15 (scripts/pg-test-server.sh: a primary and a streaming replica
# on free loopback ports, run as nobody, stopped by PID with its directory removed when this
# script ends, also on Ctrl-C) and its own callbridged nodes (--database on that server; each
# PostgreSQL node gets a copy of the first one's secret.key).
#
# 1. One node on SQLite, then one on PostgreSQL, the same load each: BENCH_SPACES (100,000, a
#    multiple of 10,000) coSpaces, the first 10,000 made through the API's own bulk path (one
#    coSpaceBulkSync, timed), the rest copied from them in SQL with the node stopped (timed; on
#    PostgreSQL with VACUUM ANALYZE), and BENCH_RULES (1,000) inbound dial plan rules, then
#    wrk (keep-alive HTTPS, BENCH_CONNS=16 connections, 2 threads, BENCH_CLUSTER_SECONDS=10 s)
#    per operation: GET a list page (64 pages in turn, more than the list cache holds, as
#    bench.sh's third run), GET coSpaces?filter=<callId> (a random one of the loaded spaces),
#    GET callMatching (a random space at a random rule's domain, as cospaces.c) and POST a new
#    coSpace. Each is printed as 2xx answers per second, with the non-2xx count, the CPU the
#    node and the primary PostgreSQL spent per answer, and the ratio PostgreSQL/SQLite. Then
#    the list pages again on the PostgreSQL node restarted with --threads 8 (a worker thread
#    holds its database connection for the whole request, waiting on the round trips).
# 2. Three nodes on the same PostgreSQL: the one-node load on each at once (one wrk per node),
#    list reads and creates; the sum of 2xx answers per second and its ratio to one node alone,
#    measured just before. Then the creates again after the replica is made synchronous.
# 3. Failover: a fresh node on the multi-host URL (primary,replica;
#    target_session_attrs=read-write) and one writer POSTing coSpaces one after the other
#    (curl, a new connection each, 10 s timeout). After 2 s the primary's postmaster gets
#    SIGKILL and the replica is promoted at once (pg_ctl promote, as a failover manager would
#    after detecting the death). Prints the time from the kill to the first 200 of a request
#    sent after it, the answers that were not 200 meanwhile, and the acknowledged writes found
#    on the new primary afterwards; fewer found than acknowledged fails the script.
#
# Every node, wrk and PostgreSQL share this machine's cores, so a cluster's ratio here shows the
# extra work per request, not the capacity of three machines (docs/scaling.md reads it).
# BENCH_QUICK=1: 10,000 spaces, 100 rules, 3 s per run (about a minute and a half in all).
# Usage: scripts/bench/cluster.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
here=$(cd "$(dirname "$0")" && pwd)
pgctl=$here/../pg-test-server.sh
# shellcheck source=scripts/bench/lib.sh
. "$here/lib.sh"

if [ -n "${BENCH_QUICK:-}" ]; then
    secs=${BENCH_CLUSTER_SECONDS:-3} spaces=${BENCH_SPACES:-10000} rules=${BENCH_RULES:-100}
else
    secs=${BENCH_CLUSTER_SECONDS:-10} spaces=${BENCH_SPACES:-100000} rules=${BENCH_RULES:-1000}
fi
conns=${BENCH_CONNS:-16}
if [ "$spaces" -gt 10000 ] && [ $((spaces % 10000)) -ne 0 ]; then
    echo "bench: BENCH_SPACES over 10,000 must be a multiple of 10,000" >&2
    exit 2
fi
password=bench-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
auth="Authorization: Basic $(printf 'admin:%s' "$password" | base64 -w0)"
tck=$(getconf CLK_TCK)
started=$(date +%s)

# PostgreSQL goes with everything else when the script ends, however it ends.
pgdir=""
cluster_cleanup() {
    trap - EXIT INT TERM
    for p in $pids; do # a node finishes its requests in flight first: 10 s, then SIGKILL
        kill -TERM "$p" 2>/dev/null || continue
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null || true
    done
    cleanup
    if [ -n "$pgdir" ]; then
        "$pgctl" stop "$pgdir" || echo "bench: could not stop PostgreSQL in $pgdir" >&2
    fi
}
trap cluster_cleanup EXIT
trap 'cluster_cleanup; exit 130' INT TERM

# ---- nodes ----------------------------------------------------------------------------------

# start_node NAME [DATABASE-URL]: callbridged with its data in $dir/NAME (again, if it ran
# before), a PostgreSQL node with the first node's secret.key, named NAME in the cluster (the
# default, the host's name, is taken by the first node on this host). Sets $node_pid and
# $node_port.
first_key=""
node_args="" # more options, e.g. --threads 8
start_node() {
    [ -d "$dir/$1" ] || mkdir -m 700 "$dir/$1"
    if [ -n "${2:-}" ] && [ -n "$first_key" ] && [ ! -e "$dir/$1/secret.key" ]; then
        cp "$first_key" "$dir/$1/secret.key"
        chmod 600 "$dir/$1/secret.key"
    fi
    CALLBRIDGE_ADMIN_PASSWORD=$password "$bin/callbridged" --data-dir "$dir/$1" \
        ${2:+--database "$2"} --node-name "bench-$1" --bind 127.0.0.1 --listen 0 \
        --log-level warn $node_args \
        >>"$dir/$1.log" 2>&1 &
    node_pid=$!
    pids="$pids $node_pid"
    node_port=$(listen_port "$node_pid") ||
        { echo "bench: callbridged $1 did not start" >&2 && cat "$dir/$1.log" >&2 && exit 1; }
    if [ -n "${2:-}" ] && [ -z "$first_key" ]; then first_key=$dir/$1/secret.key; fi
}

stop_node() { # PID
    kill -TERM "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
}

api() { # PORT METHOD PATH [FORM] -> the body on stdout; fails on an answer other than 200
    curl -sS --fail --cacert "$dir/cert.pem" -H "$auth" -X "$2" ${4:+--data "$4"} \
        "https://127.0.0.1:$1/api/v1/$3"
}

# curl_many PORT WRITE-OUT: one curl, one keep-alive connection, a request per line of stdin
# ("PATH [FORM]": a POST with a form, else a GET, under /api/v1/); prints WRITE-OUT per request.
curl_many() {
    sep=""
    while read -r path form; do
        [ -z "$sep" ] || echo next
        sep=1
        printf 'url = "https://127.0.0.1:%s/api/v1/%s"\n' "$1" "$path"
        [ -z "$form" ] || printf 'data = "%s"\n' "$form"
        printf 'cacert = "%s"\nheader = "%s"\noutput = "/dev/null"\nwrite-out = "%s\\n"\n' \
            "$dir/cert.pem" "$auth" "$2"
    done >"$dir/many.curl"
    curl -sS -K "$dir/many.curl"
}

# The other coSpaces up to $spaces (a multiple of 10,000), copied in SQL from the 10,000 the API
# made, with the node stopped (its list cache would not know): uri, name and callId of index
# N + 10,000 k, a new id, every other column as the API wrote it. Through the API the rest
# would take minutes on PostgreSQL (the sync's rate, printed, times nine). Sets $copy_s.
copies=$((spaces / 10000 - 1))
copy_select() { # UUID-EXPR CAST-EXPR COLUMNS
    echo "INSERT INTO cospace (id, name, uri, call_id, $3)
        SELECT $1, 'Bench Space ' || ($2 + 10000 * n), 'bench.' || ($2 + 10000 * n),
               CAST($2 + 10000 * n AS TEXT), $3
        FROM cospace, k WHERE call_id BETWEEN '10000000' AND '10009999' ORDER BY n, seq;"
}
copy_sqlite() { # DB-FILE
    t0=$(date +%s.%N)
    if [ "$copies" -gt 0 ]; then
        cols=$(sqlite3 "$1" "SELECT group_concat(name, ', ') FROM pragma_table_info('cospace')
            WHERE name NOT IN ('seq', 'id', 'name', 'uri', 'call_id')")
        sqlite3 "$1" "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $copies)
            $(copy_select "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
                substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) ||
                substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))" \
                "CAST(call_id AS INTEGER)" "$cols")"
    fi
    copy_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}
copy_pg() { # and VACUUM ANALYZE, as autovacuum would do a little later
    t0=$(date +%s.%N)
    if [ "$copies" -gt 0 ]; then
        cols=$(psql_primary "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
            FROM information_schema.columns WHERE table_name = 'cospace'
            AND column_name NOT IN ('seq', 'id', 'name', 'uri', 'call_id')" callbridge)
        psql_primary "WITH k(n) AS (SELECT generate_series(1, $copies))
            $(copy_select "gen_random_uuid()::text" "call_id::bigint" "$cols")" callbridge >/dev/null
    fi
    psql_primary "VACUUM ANALYZE" callbridge >/dev/null
    copy_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

# filter_ms PORT: the median of 21 GET coSpaces?filter=<callId> one after the other, in ms.
filter_ms() {
    awk -v n="$spaces" -v seed="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN {
        srand(seed); for (i = 0; i < 21; i++) printf "coSpaces?filter=%d\n", 10000000 + int(rand() * n)
    }' | curl_many "$1" '%{http_code} %{time_total}' | awk '
        $1 != 200 { print "bench: a filter answered " $1 > "/dev/stderr"; exit 1 }
        { print $2 * 1000 }' | sort -n | sed -n 11p
}

# load PORT: the first min($spaces, 10,000) coSpaces through the API's bulk path (one
# coSpaceBulkSync: uri bench.N, callId N, N from 10,000,000) and $rules dial plan rules (one
# keep-alive curl). Prints the seconds the sync took.
load() {
    t0=$(date +%s.%N)
    last=$((10000000 + (spaces < 10000 ? spaces : 10000) - 1))
    set_id=$(curl -sS --fail --cacert "$dir/cert.pem" -H "$auth" -D - -o /dev/null \
        --data "startIndex=10000000&endIndex=$last&coSpaceUriMapping=bench.\$index\$" \
        --data "coSpaceNameMapping=Bench+Space+\$index\$&coSpaceCallIdMapping=\$index\$" \
        "https://127.0.0.1:$1/api/v1/coSpaceBulkParameterSets" |
        sed -n 's|^Location: .*/\([^/]*\)\r$|\1|p')
    [ -n "$set_id" ] || { echo "bench: no bulk parameter set" >&2 && exit 1; }
    api "$1" POST coSpaceBulkSyncs "cospaceBulkParameterSet=$set_id" >/dev/null
    t1=$(date +%s.%N)
    api "$1" GET "coSpaces?limit=1" | grep -q "total=\"$((last - 9999999))\"" ||
        { echo "bench: the bulk sync did not make its coSpaces" >&2 && exit 1; }
    i=0
    while [ $i -lt "$rules" ]; do
        echo "inboundDialPlanRules domain=d$i.bench.example.com&priority=$((i % 10))"
        i=$((i + 1))
    done | curl_many "$1" '%{http_code}' >"$dir/rules.out"
    ok=$(grep -c '^200$' "$dir/rules.out" || true)
    [ "$ok" -eq "$rules" ] || { echo "bench: $ok of $rules dial plan rules made" >&2 && exit 1; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }'
}

psql_primary() { # SQL [DATABASE]: as the superuser, over the primary's socket
    "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$pgdir/primary" -p "$(cat "$pgdir/primary/port")" -U postgres -d "${2:-postgres}" \
        -c "$1"
}

# ---- CPU ------------------------------------------------------------------------------------

pg_pids() { # the primary's postmaster and its children (backends, WAL sender, ...)
    [ -n "$pgdir" ] && [ -f "$pgdir/primary/data/postmaster.pid" ] || return 0
    pm=$(head -1 "$pgdir/primary/data/postmaster.pid")
    echo "$pm" $(pgrep -P "$pm" || true)
}

cpu_ticks() { # PID... -> user + system ticks of these processes, all threads
    for p in "$@"; do
        sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null || true
    done | awk '{ s += $12 + $13 } END { print s + 0 }'
}

# ---- wrk ------------------------------------------------------------------------------------

# The request generators. Each wrk thread draws its own random sequence; creates take uris
# no other thread, node or run takes (the prefix is set per run).
cat >"$dir/list.lua" <<'LUA'
local n = 0
function setup(thread) thread:set("start", n * 32); n = n + 1 end
local i = -1
request = function()
    if i < 0 then i = start end
    i = (i + 1) % 64
    return wrk.format(nil, "/api/v1/coSpaces?offset=" .. i)
end
LUA
cat >"$dir/filter.lua" <<LUA
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
function init(args) math.randomseed(1000 + id) end
request = function()
    return wrk.format(nil, "/api/v1/coSpaces?filter=" .. (10000000 + math.random(0, $spaces - 1)))
end
LUA
cat >"$dir/match.lua" <<LUA
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
function init(args) math.randomseed(2000 + id) end
request = function()
    return wrk.format(nil, "/api/v1/callMatching?destination=bench." ..
        (10000000 + math.random(0, $spaces - 1)) .. "@d" .. math.random(0, $rules - 1) ..
        ".bench.example.com")
end
LUA
create_lua() { # PREFIX (digits) -> a create script whose uris and callIds start with it
    cat <<LUA
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded" -- next to -H's Authorization
local k = 0
request = function()
    k = k + 1
    local tag = "$1" .. id .. string.format("%07d", k)
    return wrk.format("POST", "/api/v1/coSpaces", nil,
        "name=Created+" .. tag .. "&uri=created." .. tag .. "&callId=" .. tag)
end
LUA
}
echo 10 >"$dir/runs"

# measure SCRIPT PORT... -> "ok_per_s non2xx node_ms pg_ms": one wrk per port at once for $secs,
# the 2xx answers per second summed over them, the non-2xx and socket errors summed, and the
# CPU milliseconds the nodes (those listening on the ports) and the primary spent per 2xx answer.
# Socket errors (a timeout, a closed connection) count as non-2xx.
measure() {
    script=$1
    shift
    nodes=""
    for p in "$@"; do
        nodes="$nodes $(ss -lntpH "sport = :$p" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1)"
    done
    run_no=$(($(cat "$dir/runs") + 1)) # measure runs in a subshell: the count lives in a file
    echo "$run_no" >"$dir/runs"
    if [ "$script" = create ]; then
        k=0
        for p in "$@"; do
            create_lua "$run_no$k" >"$dir/create-$p.lua"
            k=$((k + 1))
        done
    fi
    n0=$(cpu_ticks $nodes)
    g0=$(cpu_ticks $(pg_pids))
    wrks=""
    for p in "$@"; do
        s=$dir/$script.lua
        [ "$script" = create ] && s=$dir/create-$p.lua
        wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s -H "$auth" -s "$s" "https://127.0.0.1:$p" \
            >"$dir/wrk-$run_no-$p.out" 2>&1 &
        wrks="$wrks $!"
    done
    for w in $wrks; do wait "$w" || { echo "bench: wrk failed" >&2 && exit 1; }; done
    n1=$(cpu_ticks $nodes)
    g1=$(cpu_ticks $(pg_pids))
    for p in "$@"; do cat "$dir/wrk-$run_no-$p.out"; done | awk -v nt=$((n1 - n0)) -v gt=$((g1 - g0)) \
        -v hz="$tck" '
        / requests in / { r = $1; t = $4; sub(/s,?$/, "", t); ok += r; if (t > secs) secs = t }
        /Non-2xx or 3xx responses:/ { non2xx += $NF }
        /Socket errors:/ { for (i = 4; i <= NF; i += 2) errors += $i }
        END {
            ok -= non2xx
            bad = non2xx + errors
            if (ok <= 0) { print 0, bad, 0, 0; exit }
            printf "%.0f %d %.3f %.3f\n", ok / secs, bad, nt * 1000 / hz / ok, gt * 1000 / hz / ok
        }'
}

# ---- 1. one node on each backend ------------------------------------------------------------

ops="list filter match create"
label_list="GET coSpaces, 64 pages"
label_filter="GET coSpaces?filter=<callId>"
label_match="GET callMatching"
label_create="POST coSpaces"

start_node sqlite
cp "$dir/sqlite/cert.pem" "$dir/cert.pem"
sqlite_load=$(load "$node_port")
stop_node "$node_pid"
copy_sqlite "$dir/sqlite/callbridge.db"
sqlite_copy=$copy_s
start_node sqlite
sqlite_pid=$node_pid
fl_sqlite=$(filter_ms "$node_port")
for op in $ops; do
    eval "sqlite_$op=\"\$(measure $op $node_port)\""
done
stop_node "$sqlite_pid"

# Durable as SQLite's synchronous=FULL is: fsync on (scripts/pg-test-server.sh turns it off
# for the tests' speed).
export PG_TEST_DURABLE=1
pgdir=$("$pgctl" start)
"$pgctl" replica "$pgdir"
pg_url=$("$pgctl" url "$pgdir")
start_node pg1 "$pg_url"
cp "$dir/pg1/cert.pem" "$dir/cert.pem"
pg_load=$(load "$node_port")
stop_node "$node_pid"
copy_pg
pg_copy=$copy_s
start_node pg1 "$pg_url"
pg1_port=$node_port
fl_pg=$(filter_ms "$pg1_port")
for op in $ops; do
    eval "pg_$op=\"\$(measure $op $pg1_port)\""
done
# A node holds one database connection per worker thread for a whole request: the same list
# load on the PostgreSQL node with 8 threads instead of one per core.
stop_node "$node_pid"
node_args="--threads 8"
start_node pg1 "$pg_url"
threads8_list=$(measure list "$node_port")
stop_node "$node_pid"
node_args=""
start_node pg1 "$pg_url"
pg1_port=$node_port

awk -v n="$((spaces < 10000 ? spaces : 10000))" -v s="$sqlite_load" -v p="$pg_load" -v all="$spaces" \
    -v sc="$sqlite_copy" -v pc="$pg_copy" -v r="$rules" 'BEGIN {
    printf "cluster: %d coSpaces made by one coSpaceBulkSync: SQLite %.1f s, PostgreSQL %.1f s (ratio %.2f)", n, s, p, p / s
    if (all > n) printf "; %d more copied from them in SQL: SQLite %.1f s, PostgreSQL %.1f s with VACUUM ANALYZE", all - n, sc, pc
    printf "; %d dial plan rules\n", r
}'
printf 'cluster: GET coSpaces?filter=<callId>, median of 21 on one connection: SQLite %s ms, PostgreSQL %s ms\n' \
    "$fl_sqlite" "$fl_pg"
printf 'cluster: one node, the same load on each backend (wrk -t2 -c%s -d%ss per operation; PostgreSQL 15 primary with an asynchronous streaming replica, fsync on as SQLite'"'"'s synchronous=FULL)\n' \
    "$conns" "$secs"
printf '  %-30s %10s %10s %9s  %-14s %s\n' "" "SQLite/s" "PG/s" "PG/SQLite" "non-2xx S/P" \
    "CPU ms per answer: SQLite node | PG node + postgres"
for op in $ops; do
    eval "s=\$sqlite_$op p=\$pg_$op l=\$label_$op"
    set -- $s $p
    awk -v l="$l" -v s="$1" -v sb="$2" -v sn="$3" -v p="$5" -v pb="$6" -v pn="$7" -v pg="$8" \
        'BEGIN { printf "  %-30s %10d %10d %9.2f  %-14s %.3f | %.3f + %.3f\n",
                 l, s, p, (s > 0 ? p / s : 0), sb "/" pb, sn, pn, pg }'
done
set -- $pg_list $threads8_list
awk -v d="$1" -v e="$5" -v t="$(nproc)" -v c="$8" 'BEGIN {
    printf "cluster: the PostgreSQL node with --threads 8 instead of %d: GET coSpaces, 64 pages %d/s against %d/s, ratio %.2f; postgres CPU %.3f ms per answer\n",
        t, e, d, (d > 0 ? e / d : 0), c
}'

# ---- 2. three nodes on one PostgreSQL -------------------------------------------------------

start_node pg2 "$pg_url"
pg2_port=$node_port pg2_pid=$node_pid
start_node pg3 "$pg_url"
pg3_port=$node_port pg3_pid=$node_pid
one_list=$(measure list "$pg1_port")
three_list=$(measure list "$pg1_port" "$pg2_port" "$pg3_port")
one_create=$(measure create "$pg1_port")
three_create=$(measure create "$pg1_port" "$pg2_port" "$pg3_port")
psql_primary "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
psql_primary "SELECT pg_reload_conf()" >/dev/null
i=0
until [ "$(psql_primary "SELECT sync_state FROM pg_stat_replication")" = sync ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "bench: the replica did not become synchronous" >&2 && exit 1; }
    sleep 0.1
done
sync_create=$(measure create "$pg1_port" "$pg2_port" "$pg3_port")

printf 'cluster: three nodes on one PostgreSQL, one wrk -t2 -c%s -d%ss per node at once, against one node alone just before\n' \
    "$conns" "$secs"
printf '  %-44s %10s %10s %7s  %-12s %s\n' "" "one node/s" "three/s" "ratio" "non-2xx 1/3" \
    "CPU ms per answer: nodes + postgres, 1 | 3"
for row in "GET coSpaces, 64 pages|$one_list|$three_list" \
    "POST coSpaces|$one_create|$three_create" \
    "POST coSpaces, synchronous replica (3 vs 3)|$three_create|$sync_create"; do
    echo "$row" | awk -F'|' '{
        split($2, a, " "); split($3, b, " ")
        printf "  %-44s %10d %10d %7.2f  %-12s %.3f + %.3f | %.3f + %.3f\n",
            $1, a[1], b[1], (a[1] > 0 ? b[1] / a[1] : 0), a[2] "/" b[2], a[3], a[4], b[3], b[4]
    }'
done
stop_node "$pg2_pid"
stop_node "$pg3_pid"

# ---- 3. failover ----------------------------------------------------------------------------

stop_node "$(ss -lntpH "sport = :$pg1_port" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1)"
multi="postgresql://callbridge:$(cat "$pgdir/password")@127.0.0.1:$(cat "$pgdir/primary/port"),127.0.0.1:$(cat "$pgdir/replica/port")/callbridge?target_session_attrs=read-write"
start_node failover "$multi"
fo_port=$node_port
cp "$dir/failover/cert.pem" "$dir/cert.pem"

# One write after the other, each on a new connection with a 10 s timeout: "n start end code".
writer() {
    n=0
    while [ ! -e "$dir/writer.stop" ] && [ $n -lt 3000 ]; do
        n=$((n + 1))
        t0=$(date +%s.%N)
        code=$(curl -s --cacert "$dir/cert.pem" -H "$auth" -o /dev/null -w '%{http_code}' \
            --max-time 10 --data "name=Failover+$n&uri=failover.$n" \
            "https://127.0.0.1:$fo_port/api/v1/coSpaces" || true)
        echo "$n $t0 $(date +%s.%N) $code" >>"$dir/writes"
    done
}
: >"$dir/writes"
writer &
writer_pid=$!
pids="$writer_pid $pids"
sleep 2
set -- $(pg_pids)
primary_pids="$*"
t_kill=$(date +%s.%N)
kill -KILL "$1"
"$pgctl" promote "$pgdir"
t_promoted=$(date +%s.%N)
# Wait (at most 30 s after the promotion) for a 200 to a request sent after the kill.
i=0
until awk -v k="$t_kill" '$2 > k && $4 == 200 { f = 1 } END { exit !f }' "$dir/writes"; do
    i=$((i + 1))
    [ $i -lt 300 ] || break
    sleep 0.1
done
touch "$dir/writer.stop"
wait "$writer_pid" || true
# The dead primary's children follow their postmaster; its stale postmaster.pid must not send
# a signal to whatever process gets that PID later (pg-test-server.sh stop signals it).
i=0
while [ $i -lt 100 ]; do
    alive=""
    for p in $primary_pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    i=$((i + 1))
    sleep 0.1
done
[ -z "$alive" ] || echo "bench: the dead primary's processes$alive still run" >&2
rm -f "$pgdir/primary/data/postmaster.pid"
found=$(api "$fo_port" GET "coSpaces?filter=Failover&limit=1" | sed -n 's/.*total="\([0-9]*\)".*/\1/p')

awk -v k="$t_kill" -v pr="$t_promoted" -v found="$found" '
    $4 == 200 { acked++ }
    $3 < k { if ($4 == 200) { before++; lat += $3 - $2 }; next }
    $2 <= k { straddle = straddle " " ($4 == "000" ? "none" : $4); next }
    first { next }
    $4 == 200 { first = $3 - k; next }
    { bad++; codes[$4]++; if ($3 - $2 > slow) slow = $3 - $2 }
    END {
        printf "cluster: failover (synchronous replica; a node on primary,replica with target_session_attrs=read-write; one writer, a new connection per POST)\n"
        printf "  before the kill: %d writes acknowledged, %.1f ms each on average\n", before, before ? lat * 1000 / before : 0
        printf "  the primary'\''s postmaster killed (SIGKILL); the replica promoted %.2f s later (pg_ctl promote -w)\n", pr - k
        if (straddle != "") printf "  in flight at the kill, answered:%s\n", straddle
        if (first)
            printf "  first acknowledged (200) write sent after the kill: %.2f s after the kill\n", first
        else
            printf "  NO acknowledged write within 30 s of the promotion\n"
        printf "  answers other than 200 to writes sent after the kill, before that: %d", bad
        for (c in codes) printf " (%s: %d)", (c == "000" ? "no answer" : c), codes[c]
        if (bad) printf "; the slowest took %.2f s", slow
        printf "\n  acknowledged writes %d in all; the writer'\''s coSpaces on the new primary: %d%s\n",
            acked, found, (found + 0 < acked ? "  (ACKNOWLEDGED WRITES LOST)" : "")
        exit found + 0 < acked
    }' "$dir/writes" || { echo "bench: acknowledged writes were lost across the failover" >&2 && exit 1; }
echo "cluster: done in $(($(date +%s) - started)) s (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
