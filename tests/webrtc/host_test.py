#!/usr/bin/python3
"""End to end: headless Chromium guests reach callbridged's host candidates (--host-candidate).

1. No TURN server at all: callbridged runs with --host-candidate 127.0.0.1 and no turnServer. Two
   guests join from the space's link; each decodes the other's video and receives its audio; the
   nominated pair is host on both ends (the browser's view); GET /api/v1/callLegs/<id> shows the
   leg connected, localCandidate "host 127.0.0.1:<port>", no turnServer.
2. TURN and host candidates: a coturn is configured too, so each leg also allocates a relay and
   the page gets the TURN server. The browsers pick the host pair (it has the higher priority);
   the coturn is then stopped: callbridged drops the relays, but the legs, which do not use them,
   stay connected and the video keeps coming, with no end event on the pages.
Usage: tests/webrtc/host_test.py path/to/callbridged [--keep]
Prints one line per assertion; exit 0 pass, 1 fail, 77 chromium absent (skip).
"""

import os
import secrets
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import coturn  # noqa: E402
import harness  # noqa: E402
import join_test  # noqa: E402

RELAY_DROP_TIMEOUT = 20.0  # from coturn stopped to callbridged dropping the legs' relays


def new_space(daemon, what):
    space = {"callId": str(100000000 + secrets.randbelow(900000000)),
             "secret": secrets.token_urlsafe(16)}
    daemon.create("/api/v1/coSpaces", dict(space, name=what, uri="host.test." + space["callId"]))
    return space


def leg_view(daemon, leg):
    """(state, localCandidate, turnServer) of GET /api/v1/callLegs/<leg>; None when not 200."""
    code, _, body = daemon.api("GET", "/api/v1/callLegs/%s" % leg)
    if code != 200:
        return None
    root = ET.fromstring(body)
    return (root.findtext("status/state"), root.findtext("media/localCandidate") or "",
            root.findtext("media/turnServer") or "")


def join_pair(res, browsers, daemon, space):
    joined = join_test.join_all(res, browsers, daemon, space, 2)
    return joined, [(name, tab, leg, next(o for _, _, o in joined if o != leg))
                    for name, tab, leg in joined]


def decoding(res, pairs, what):
    """Each (name, tab, leg, other): video from other decoded and growing; returns the last
    stats of each tab."""
    first = {name: join_test.media_of(tab, [other]) for name, tab, _, other in pairs}
    time.sleep(join_test.GROWTH_WAIT)
    later = {}
    for name, tab, _, other in pairs:
        later[name] = tab.evaluate("cb.stats()")
        f0 = join_test.frames(first[name], other) if first[name] else 0
        f1 = join_test.frames(later[name], other)
        res.check(f1 > f0 > 0, "%s %s: framesDecoded %d then %d" % (name, what, f0, f1))
    return later


def check_host_pair(res, daemon, pairs, stats):
    for name, _, leg, _ in pairs:
        pair = stats[name].get("pair") or {}
        res.check(pair.get("local") == "host" and pair.get("remote") == "host",
                  "%s: the nominated pair is host on both ends (%s/%s)" %
                  (name, pair.get("local"), pair.get("remote")))
        view = leg_view(daemon, leg)
        res.check(view is not None and view[0] == "connected" and
                  view[1].startswith("host 127.0.0.1:"),
                  "%s's callLeg is connected on localCandidate %s" %
                  (name, view and view[1]))


def without_turn(res, args, work, browsers):
    """Part 1: no turnServer; the page gets no iceServers; host pairs carry the meeting."""
    daemon = join_test.Daemon(args.callbridged, os.path.join(work, "1"),
                              ("--host-candidate", "127.0.0.1"))
    try:
        res.check(True, "callbridged %d with --host-candidate 127.0.0.1 and no turnServer" %
                  daemon.proc.pid)
        space = new_space(daemon, "Host candidates, no TURN")
        joined, pairs = join_pair(res, browsers, daemon, space)
        stats = decoding(res, pairs, "decodes the other without TURN")
        check_host_pair(res, daemon, pairs, stats)
        for name, _, leg, _ in pairs:
            view = leg_view(daemon, leg)
            res.check(view is not None and view[2] == "",
                      "%s's callLeg names no turnServer (%r)" % (name, view and view[2]))
        for _, tab, _ in joined:
            tab.close()
    finally:
        stop_daemon(res, daemon)


def stop_daemon(res, daemon):
    """Stops one part's daemon (the browsers outlive it), its log's end printed on a failure."""
    if daemon is None:
        return
    if res.failed:
        print("callbridged log (last lines):\n" + daemon.log_tail())
    rc = daemon.stop()
    res.check(rc == 0, "callbridged stopped by SIGTERM, exit status %s" % rc)


def with_turn_lost(res, args, work, browsers):
    """Part 2: a coturn as well; it stops mid-call; legs on their host pairs go on."""
    turn = coturn.Coturn(verbose=False)
    daemon = None
    try:
        daemon = join_test.Daemon(args.callbridged, os.path.join(work, "2"),
                                  ("--host-candidate", "127.0.0.1", "--probe-interval", "1"))
        space = new_space(daemon, "Host candidates beside TURN")
        where = "127.0.0.1:%d" % turn.port
        turn_id = daemon.create("/api/v1/turnServers", {
            "serverAddress": where, "clientAddress": where, "username": coturn.USER,
            "password": coturn.PASSWORD, "type": "standard"})
        join_test.wait_turn_reachable(res, daemon, turn_id)
        joined, pairs = join_pair(res, browsers, daemon, space)
        for name, _, leg, _ in pairs:
            view = leg_view(daemon, leg)
            res.check(view is not None and view[2] == turn_id,
                      "%s's callLeg also holds a relay on turnServer %s (%r)" %
                      (name, turn_id, view and view[2]))
        stats = decoding(res, pairs, "decodes the other")
        check_host_pair(res, daemon, pairs, stats)
        turn.stop()
        res.check(turn.proc.poll() is not None, "coturn (pid %d) stopped" % turn.proc.pid)
        deadline = time.monotonic() + RELAY_DROP_TIMEOUT
        views = {}
        while time.monotonic() < deadline:
            views = {name: leg_view(daemon, leg) for name, _, leg, _ in pairs}
            if all(v is not None and v[2] == "" for v in views.values()):
                break
            time.sleep(0.5)
        for name, _, leg, _ in pairs:
            v = views.get(name)
            res.check(v is not None and v[2] == "" and v[0] == "connected",
                      "%s's callLeg lost its relay and stays connected (%s)" % (name, v))
            res.check("callLeg %s: turnServerFailed: turnServer %s: " % (leg, turn_id) in
                      daemon.log_text() and "goes on with its host candidate" in
                      daemon.log_text(), "the daemon logs that %s goes on without TURN" % name)
        decoding(res, pairs, "still decodes the other after the TURN server stopped")
        for name, tab, _, _ in pairs:
            ends = tab.evaluate("cb.ends.length")
            res.check(ends == 0 and tab.evaluate("cb.state") == "connected",
                      "%s's page got no end event (%d) and is still connected" % (name, ends))
        for _, tab, _ in joined:
            tab.close()
    finally:
        stop_daemon(res, daemon)
        turn.stop()


def run(res, args, work):
    browsers = join_test.Browsers(res, work)
    try:
        for part in (without_turn, with_turn_lost):
            os.mkdir(os.path.join(work, "1" if part is without_turn else "2"))
            part(res, args, work, browsers)
    except join_test.ERRORS as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        browsers.stop()


def main():
    return harness.test_main("host_test", __doc__, run, "1/ and 2/ (data, daemon.log)",
                             skip=None if cdp.chromium_present() else cdp.CHROMIUM + " is absent")


if __name__ == "__main__":
    sys.exit(main())
