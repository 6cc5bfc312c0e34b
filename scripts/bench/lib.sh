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
