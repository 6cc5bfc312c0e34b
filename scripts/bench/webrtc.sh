#!/bin/sh
# make bench, part 6: callbridged as a WebRTC meeting server (issue 14's benchmark), next to Janus
# with the same headless Chromium media in the same run: CPU per RTP packet (Janus' echotest, our
# 2-party and 5-party calls, the ratio, perf of our media thread), join time (median of 5), and
# capacity with build/rel/rtcpeer (a TODO while it is absent). scripts/bench/webrtc.py does the
# work; it needs root for its network namespace (Janus offers no 127.0.0.1 candidate) and prints,
# never asserts on, the figures.
# Usage: scripts/bench/webrtc.sh build/rel [--parts a,b] (webrtc.py names the parts)
set -eu

bin=${1:?usage: $0 build/VARIANT [--parts a,b]}
shift
if [ "$(id -u)" -ne 0 ]; then
    echo "bench webrtc: skipped (needs root for ip netns)"
    exit 0
fi
exec /usr/bin/python3 "$(dirname "$0")/webrtc.py" "$@" "$bin/callbridged"
