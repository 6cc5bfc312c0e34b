#!/bin/sh
# make bench, part 4: the media anchor with coturn in the path (scripts/bench/media.c).
# Usage: scripts/bench/media.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

start_coturn 59000 60999 || exit 1
"$bin/bench-media" "$port" "$coturn"
# The same rates with coturn and the bench on one core: no wake-up crosses cores, so the CPU
# figures are the work per datagram itself, without the cross-core wake-ups that make the
# figures above vary from run to run.
taskset -a -p -c 0 "$coturn" >/dev/null
taskset -c 0 "$bin/bench-media" "$port" "$coturn" one-core
