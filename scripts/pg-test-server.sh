#!/bin/sh
# A throw-away PostgreSQL 15 for shell tests, the same as tests/pg_server.c starts for the C
# suites: a primary (and optionally a streaming replica) in temporary directories, run as an
# unprivileged user (postgres refuses root), on free loopback ports, sockets inside the directory.
#
#   scripts/pg-test-server.sh start            prints DIR; the primary is DIR/primary (with
#       PG_TEST_OWNER=PID, a guard stops DIR's servers and removes DIR once PID has ended)
#   scripts/pg-test-server.sh replica DIR [sync]   a streaming replica in DIR/replica
#   scripts/pg-test-server.sh url DIR [primary|replica]   the callbridge role's libpq URI
#   scripts/pg-test-server.sh promote DIR      promotes the replica
#   scripts/pg-test-server.sh stop DIR         stops both by PID and removes DIR
#   scripts/pg-test-server.sh run CMD [ARG...] a primary for CMD's run: CMD runs with
#       CB_TEST_PG set to the superuser's URL (tests/helpers.c: each test daemon gets a database
#       of its own there); the server is stopped and removed when CMD ends, and also when this
#       script is killed (SIGTERM, SIGINT, SIGKILL): a guard in a session of its own waits for
#       the end of a pipe that only this script holds, then runs "stop". A SIGTERM, SIGINT or
#       SIGHUP to this script is passed on to all of CMD's processes. Exits with CMD's code.
#       CMD also gets CB_TEST_PG_TEMPLATE: a copy of a fresh initdb cluster, never started, that
#       tests/pg_server.c copies for the servers of its own instead of running initdb again.
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

# node_start DIR/NODE PORT: postgres in the background; its PID from postmaster.pid. The
# postmaster does not keep run's guard pipe (fd 9) open.
node_start() {
    fast="-c fsync=off -c full_page_writes=off"
    [ -z "${PG_TEST_DURABLE:-}" ] || fast=""
    as_user "$BIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t "$WAIT" \
        -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 $fast" start >/dev/null 9>&-
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

# make_primary DIR: initdb, start, the role and database callbridge
make_primary() {
    dir=$1
    mkdir "$dir/primary"
    head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/password"
    [ "$(id -u)" -eq 0 ] && chown -R "$RUN_AS" "$dir"
    as_user "$BIN/initdb" -D "$dir/primary/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/primary/initdb.log" 2>&1
    # a copy of the fresh cluster, for the C tests' own servers (run: CB_TEST_PG_TEMPLATE)
    as_user cp -a "$dir/primary/data" "$dir/template"
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
}

cmd=${1:-}
case "$cmd" in
start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cbpg.XXXXXX")
    if [ -n "${PG_TEST_OWNER:-}" ]; then # the owner's end ends the servers, if stop did not
        setsid sh -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 0.5; done
            [ ! -d "$2" ] || exec "$0" stop "$2"' "$0" "$PG_TEST_OWNER" "$dir" \
            </dev/null >/dev/null 2>&1 &
    fi
    make_primary "$dir"
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
run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARG...]" >&2 && exit 2; }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cbpg.XXXXXX")
    mkfifo -m 600 "$dir/guard"
    # the guard reads the fifo until every writer is gone: this shell, and the subshell that
    # makes the server (a kill during initdb or pg_ctl leaves it to finish, then the guard
    # stops what it started); fd 9 is closed for the postmaster, CMD and all CMD starts. So
    # this script's end, however it comes, ends the server.
    setsid "$0" guard "$dir" <"$dir/guard" >/dev/null 2>&1 &
    guard=$!
    exec 9>"$dir/guard"
    (make_primary "$dir") # set -e: a failure exits, and the guard removes what was made
    # trust for the superuser over TCP: the password is never checked, and is there so that
    # every test daemon's --database URL has one its output must not show
    # CMD in a session of its own, so that a SIGTERM, SIGINT or SIGHUP to this script (make
    # passes its SIGTERM on to it) reaches all of CMD's processes, not only the first: the run
    # stops, instead of going on without its server
    # CB_TEST_PG_TEMPLATE: the cluster initdb made, never started, which tests/pg_server.c
    # copies instead of running initdb for each server of its own (about 1.3 s of CPU each)
    CB_TEST_PG="postgresql://postgres:cbtest-url-pw@127.0.0.1:$(cat "$dir/primary/port")/postgres" \
        CB_TEST_PG_TEMPLATE="$dir/template" setsid "$@" 9>&- &
    cmd=$!
    trap 'kill -TERM "-$cmd" 2>/dev/null' TERM INT HUP # dash's kill takes no --
    rc=0
    wait "$cmd" || rc=$?
    while kill -0 "$cmd" 2>/dev/null; do # a trapped signal ended the wait, not CMD
        rc=0
        wait "$cmd" || rc=$?
    done
    exec 9>&-
    wait "$guard" || true
    exit "$rc"
    ;;
guard) # internal (run): stdin is run's fifo
    cat >/dev/null || true
    exec "$0" stop "$2"
    ;;
*)
    echo "usage: $0 start | replica DIR [sync] | url DIR [NODE] | promote DIR | stop DIR | run CMD..." >&2
    exit 2
    ;;
esac
