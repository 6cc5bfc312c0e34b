#!/bin/sh
# make bench, part 4: the media anchor with coturn in the path (scripts/bench/media.c).
# Usage: scripts/bench/media.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

port=""
for try in 1 2 3 4 5; do
    cand=$(shuf -i 30000-39999 -n 1)
    ss -lnuH | grep -q ":$cand " || ss -lntH | grep -q ":$cand " || { port=$cand; break; }
done
[ -n "$port" ] || { echo "bench: no free port" >&2; exit 1; }
/usr/bin/turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port "$port" \
    --min-port=59000 --max-port=60999 --realm=test.local --no-tls --no-dtls --no-cli \
    --allow-loopback-peers --lt-cred-mech --user=alice:secret --log-file "$dir/turn.log" \
    --simple-log --pidfile=/dev/null --no-stdout-log >/dev/null 2>&1 &
coturn=$!
pids="$coturn"
[ "$(listen_port "$coturn" u)" = "$port" ] || { echo "bench: coturn did not start" >&2; exit 1; }
"$bin/bench-media" "$port" "$coturn"
# The same rates with coturn and the bench on one core: no wake-up crosses cores, so the CPU
# figures are the work per datagram itself, without the cross-core wake-ups that make the
# figures above vary from run to run.
taskset -a -p -c 0 "$coturn" >/dev/null
taskset -c 0 "$bin/bench-media" "$port" "$coturn" one-core
