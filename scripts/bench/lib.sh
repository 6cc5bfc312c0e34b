# scripts/bench/lib.sh: shared by the benchmark scripts (sourced, not run).
# Sets $dir (a temporary directory) and $pids (processes to stop), and stops every process in
# $pids by PID, then removes $dir, when the script ends (BENCH_KEEP=1 keeps $dir).

dir=$(mktemp -d "${TMPDIR:-/tmp}/cbbench.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: kept $dir" >&2
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT INT TERM

# Prints the first port process $1 listens on at 127.0.0.1 (ss flag $2: t for TCP, default, or
# u for UDP), waiting up to 10 s for it.
listen_port() {
    i=0
    while [ $i -lt 100 ]; do
        p=$(ss -ln"${2:-t}"pH 2>/dev/null | grep "pid=$1," | sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' | head -1)
        [ -n "$p" ] && echo "$p" && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Starts coturn on a free port of 127.0.0.1 (UDP and TCP) with relay ports $1 to $2 and the
# long-term credentials alice:secret, logging to $dir/turn.log; sets $port and $coturn and adds
# it to $pids.
start_coturn() {
    port=""
    for _ in 1 2 3 4 5; do
        cand=$(shuf -i 30000-39999 -n 1)
        ss -lnuH | grep -q ":$cand " || ss -lntH | grep -q ":$cand " || { port=$cand; break; }
    done
    [ -n "$port" ] || { echo "bench: no free port" >&2; return 1; }
    /usr/bin/turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port "$port" \
        --min-port="$1" --max-port="$2" --realm=test.local --no-tls --no-dtls --no-cli \
        --allow-loopback-peers --lt-cred-mech --user=alice:secret --log-file "$dir/turn.log" \
        --simple-log --pidfile=/dev/null --no-stdout-log >/dev/null 2>&1 &
    coturn=$!
    pids="$pids $coturn"
    [ "$(listen_port "$coturn" u)" = "$port" ] || { echo "bench: coturn did not start" >&2; return 1; }
}
