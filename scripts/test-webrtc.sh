#!/bin/sh
# Real WebRTC clients, which nobody in this project wrote, join callbridged's meetings:
#   - headless Chromium (tests/webrtc/join_test.py, over the DevTools protocol): one room in a
#     coSpace through coturn that guests join one by one up to five, checked at 2, 3 and 5
#     (media, names, the API's legs, the browsers' RTCP statistics), then left two ways; ten
#     (--participants 10) is too much for make test on 2 cores (tests/webrtc/ROOM.md)
#   - a meeting of ten (tests/webrtc/mixed_room_test.py): three headless Chromium guests and seven
#     of the project's own rtcpeer guests sending real VP8 and Opus; every page decodes all nine
#     others, every rtcpeer guest receives all nine
#   - headless Chromium when things go wrong (tests/webrtc/failover_test.py): a wrong passcode,
#     the chosen TURN server stopped mid-call (the pages reconnect through the other one), hostile
#     signalling, the administrator dropping a guest
#   - headless Chromium on callbridged's host candidates (tests/webrtc/host_test.py): without any
#     TURN server, and beside one that stops mid-call
#   - GStreamer webrtcbin (tests/webrtc/gst_test.py), two clients in a network namespace
#   - call control on two headless Chromium guests (tests/webrtc/mute_test.py): a guest muted
#     through PUT /callLegs is silent for the other, heard again when unmuted; name label,
#     message and lock (the lobby) reach the pages
#   - the lobby on two headless Chromium guests (tests/webrtc/lobby_test.py): a guest whose call
#     leg profile needs activation waits until a host (an activator) joins; mute buttons only
#     where muteSelfAllowed, muting in the media path
#   - two call bridges on one PostgreSQL database (tests/webrtc/cluster_test.py): a headless
#     Chromium guest who opens the link on the node not hosting the call is redirected to the
#     one that does, and the two guests see and hear each other there
# Each test starts its own coturn and callbridged on free ports and stops them by PID.
# Usage: scripts/test-webrtc.sh path/to/callbridged
# Exit status 77 from a test is a skip; its reason is printed and counted, never silent.
set -eu

daemon=${1:?usage: $0 path/to/callbridged}
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
skipped=0
reasons=""

run() { # name, command...
    name=$1
    shift
    status=0
    started=$(date +%s)
    "$@" || status=$?
    took=$(($(date +%s) - started))
    case $status in
    0)
        passed=$((passed + 1))
        echo "webrtc $name: ok (${took} s)"
        ;;
    77)
        skipped=$((skipped + 1))
        reasons="$reasons
  $name (see its output above)"
        echo "webrtc $name: SKIPPED"
        ;;
    *)
        failed=$((failed + 1))
        echo "webrtc $name: FAILED ($status, ${took} s)" >&2
        ;;
    esac
}

run chromium-room /usr/bin/python3 "$top/tests/webrtc/join_test.py" "$daemon" --participants 5
run chromium-room-of-ten /usr/bin/python3 "$top/tests/webrtc/mixed_room_test.py" "$daemon" --browsers 3 --total 10
run chromium-failover /usr/bin/python3 "$top/tests/webrtc/failover_test.py" "$daemon"
run chromium-host /usr/bin/python3 "$top/tests/webrtc/host_test.py" "$daemon"
run gstreamer /usr/bin/python3 "$top/tests/webrtc/gst_test.py" "$daemon"
run chromium-mute /usr/bin/python3 "$top/tests/webrtc/mute_test.py" "$daemon"
run chromium-lobby /usr/bin/python3 "$top/tests/webrtc/lobby_test.py" "$daemon"
run chromium-cluster /usr/bin/python3 "$top/tests/webrtc/cluster_test.py" "$daemon"
echo "webrtc: $passed passed, $failed failed, $skipped skipped$reasons"
[ "$failed" -eq 0 ]
