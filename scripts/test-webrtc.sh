#!/bin/sh
# Real WebRTC clients, which nobody in this project wrote, join callbridged's meetings:
#   - headless Chromium (tests/webrtc/join_test.py, over the DevTools protocol), two and three
#     participants in one coSpace through coturn
#   - headless Chromium when things go wrong (tests/webrtc/failover_test.py): a wrong passcode,
#     the chosen TURN server stopped mid-call (the pages reconnect through the other one), hostile
#     signalling, the administrator dropping a guest
#   - headless Chromium on callbridged's host candidates (tests/webrtc/host_test.py): without any
#     TURN server, and beside one that stops mid-call
#   - GStreamer webrtcbin (tests/webrtc/gst_test.py), two clients in a network namespace
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
    "$@" || status=$?
    case $status in
    0)
        passed=$((passed + 1))
        echo "webrtc $name: ok"
        ;;
    77)
        skipped=$((skipped + 1))
        reasons="$reasons
  $name (see its output above)"
        echo "webrtc $name: SKIPPED"
        ;;
    *)
        failed=$((failed + 1))
        echo "webrtc $name: FAILED ($status)" >&2
        ;;
    esac
}

run chromium-2 /usr/bin/python3 "$top/tests/webrtc/join_test.py" "$daemon" --participants 2
run chromium-3 /usr/bin/python3 "$top/tests/webrtc/join_test.py" "$daemon" --participants 3
run chromium-failover /usr/bin/python3 "$top/tests/webrtc/failover_test.py" "$daemon"
run chromium-host /usr/bin/python3 "$top/tests/webrtc/host_test.py" "$daemon"
run gstreamer /usr/bin/python3 "$top/tests/webrtc/gst_test.py" "$daemon"
echo "webrtc: $passed passed, $failed failed, $skipped skipped$reasons"
[ "$failed" -eq 0 ]
