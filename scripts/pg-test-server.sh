#!/bin/sh
# A throw-away PostgreSQL 15 for shell tests, the same as tests/pg_server.c starts for the C
# suites: a primary (and optionally a streaming replica) in temporary directories, run as an
# unprivileged user (postgres refuses root), on free loopback ports, sockets inside the directory.
#
#   scripts/pg-test-server.sh start            prints DIR; the primary is DIR/primary
#   scripts/pg-test-server.sh replica DIR [sync]   a streaming replica in DIR/replica
#   scripts/pg-test-server.sh url DIR [primary|replica]   the callbridge role's libpq URI
#   scripts/pg-test-server.sh promote DIR      promotes the replica
#   scripts/pg-test-server.sh stop DIR         stops both by PID and removes DIR
#
# DIR/<node>/port holds the port; the database "callbridge" belongs to the role "callbridge"
# (password in DIR/password). Every wait is bounded. As root the server programs run as nobody
# (setpriv); otherwise as the caller. The servers run with fsync off unless PG_TEST_DURABLE=1.
set -eu

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_AS=${PG_TEST_USER:-nobody}
WAIT=${PG_TEST_WAIT:-30}

as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$RUN_AS" --regid="$(id -gn "$RUN_AS")" --clear-groups -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# node_start DIR/NODE PORT: postgres in the background; its PID from postmaster.pid.
node_start() {
    fast="-c fsync=off -c full_page_writes=off"
    [ -z "${PG_TEST_DURABLE:-}" ] || fast=""
    as_user "$BIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t "$WAIT" \
        -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 $fast" start >/dev/null
    echo "$2" >"$1/port"
}

node_wait() {
    "$BIN/pg_isready" -q -h "$1" -p "$(cat "$1/port")" -t "$WAIT"
}

psql_su() { # NODE SQL...: as the superuser postgres over the socket
    node=$1
    shift
    "$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$node" -p "$(cat "$node/port")" -U postgres \
        -d postgres "$@"
}

node_stop() {
    [ -f "$1/data/postmaster.pid" ] || return 0
    pid=$(head -1 "$1/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt $((WAIT * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    return 0
}

cmd=${1:-}
case "$cmd" in
start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cbpg.XXXXXX")
    mkdir "$dir/primary"
    head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/password"
    [ "$(id -u)" -eq 0 ] && chown -R "$RUN_AS" "$dir"
    as_user "$BIN/initdb" -D "$dir/primary/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/primary/initdb.log" 2>&1
    cat >"$dir/primary/data/pg_hba.conf" <<EOF
local all         all                  trust
local replication all                  trust
host  replication postgres 127.0.0.1/32 trust
host  all         postgres 127.0.0.1/32 trust
host  all         all      127.0.0.1/32 scram-sha-256
EOF
    node_start "$dir/primary" "$(free_port)"
    node_wait "$dir/primary"
    psql_su "$dir/primary" -c "CREATE ROLE callbridge LOGIN PASSWORD '$(cat "$dir/password")'" \
        -c "CREATE DATABASE callbridge OWNER callbridge"
    echo "$dir"
    ;;
replica)
    dir=$2
    mkdir "$dir/replica"
    [ "$(id -u)" -eq 0 ] && chown "$RUN_AS" "$dir/replica"
    as_user "$BIN/pg_basebackup" -h "$dir/primary" -p "$(cat "$dir/primary/port")" -U postgres \
        -D "$dir/replica/data" -R -X stream -c fast --no-sync >"$dir/replica/basebackup.log" 2>&1
    node_start "$dir/replica" "$(free_port)"
    node_wait "$dir/replica"
    if [ "${3:-}" = sync ]; then
        psql_su "$dir/primary" -c "ALTER SYSTEM SET synchronous_standby_names = '*'" \
            -c "SELECT pg_reload_conf()" >/dev/null
    fi
    ;;
url)
    node=$2/${3:-primary}
    echo "postgresql://callbridge:$(cat "$2/password")@127.0.0.1:$(cat "$node/port")/callbridge"
    ;;
promote)
    as_user "$BIN/pg_ctl" -D "$2/replica/data" -w -t "$WAIT" promote >/dev/null
    ;;
stop)
    dir=$2
    case "$dir" in "${TMPDIR:-/tmp}"/cbpg.*) ;; *) echo "refusing to remove $dir" >&2 && exit 2 ;; esac
    for node in replica primary; do [ -d "$dir/$node" ] && node_stop "$dir/$node"; done
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | replica DIR [sync] | url DIR [NODE] | promote DIR | stop DIR" >&2
    exit 2
    ;;
esac
