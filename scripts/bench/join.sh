#!/bin/sh
# make bench, part 7: a late joiner's time broken down, step by step (issue 14: video within two
# seconds), in rooms of 2 and 3 through coturn on loopback, then in a room of 10, 10 joins each:
# medians and spreads from the join page's marks, a getStats poller and callbridged's debug log.
# scripts/bench/join.py does the work and prints, never asserts on, the figures.
# Usage: scripts/bench/join.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
/usr/bin/python3 "$(dirname "$0")/join.py" "$bin/callbridged"
# a room of ten: two browsers and seven rtcpeer guests (real VP8 and Opus) there, and the joiner;
# ten browsers do not fit on two cores (tests/webrtc/ROOM.md)
exec /usr/bin/python3 "$(dirname "$0")/join.py" "$bin/callbridged" --rooms 3 --rtcpeers 7
