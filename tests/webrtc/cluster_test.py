#!/usr/bin/python3
"""End to end: two call bridges on one PostgreSQL database, a headless Chromium guest at each.

A PostgreSQL primary of the test's own (scripts/pg-test-server.sh, stopped by PID), two callbridged
nodes on it (cb-a and cb-b, each --node-address its own https://127.0.0.1:PORT, cb-b with cb-a's
secret.key), one coturn, a TURN server and a coSpace created through cb-a. Then:
1. Guest Ann opens the coSpace's link on cb-a and connects: the call lives on cb-a.
2. Guest Bob opens the same link on cb-b: cb-b's join answer redirects the page to cb-a (the
   node hosting the call) with a one-use ticket in the URL's fragment; the page follows it, takes
   the fragment off its address and connects on cb-a.
3. Each page receives the other's audio and video; cb-a's GET /api/v1/callLegs shows both legs
   (with Bob's name) and cb-b's shows none (a call bridge lists its own calls, as CMS's).
4. cb-a is killed (SIGKILL, by PID). Neither page shows the form: each takes its rejoin
   credential (the join's answer; Bob's came from his ticket's join) to cb-b, the other call
   bridge its join answer named, in the URL's fragment, which the page takes off its address;
   cb-b answers 503 callBridgeUnavailable until it has ended cb-a's call, then hosts a new one.
   Both pages connect on cb-b by rejoining (cb.rejoins), without the secret (the address has no
   query), and receive each other's audio and video there; cb-b lists both legs, by name.
Usage: tests/webrtc/cluster_test.py path/to/callbridged [--keep]
Prints one line per assertion; exit 0 pass, 1 fail, 77 chromium or PostgreSQL absent (skip).
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import coturn  # noqa: E402
import harness  # noqa: E402
import join_test  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_SCRIPT = os.path.join(TOP, "scripts", "pg-test-server.sh")
PG_BIN = "/usr/lib/postgresql/15/bin/pg_ctl"
# from cb-a's kill to a page connected on cb-b: its polls fail (about 5 s), cb-b sees cb-a down
# after 3 missed 1 s heartbeats and ends its call, the page's rejoin then connects
REJOIN_TIMEOUT = 60.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(args, work, name, url, key=None):
    """callbridged 'name' on the database 'url', in work/name, reachable at its own port."""
    port = free_port()
    os.mkdir(os.path.join(work, name))
    return join_test.Daemon(args.callbridged, os.path.join(work, name), extra_args=[
        "--listen", str(port), "--database", url, "--node-name", name,
        "--node-address", "https://127.0.0.1:%d" % port, "--heartbeat-interval", "1"],
        secret_key=key)


def legs_of(daemon):
    code, _, body = daemon.api("GET", "/api/v1/callLegs")
    if code != 200:
        return None
    return [(leg.get("id"), leg.findtext("name") or leg.findtext("remoteParty"))
            for leg in ET.fromstring(body).findall("callLeg")]


def run(res, args, work):
    turn = a = b = None
    pg = None
    browsers = join_test.Browsers(res, work)
    try:
        pg = subprocess.run([PG_SCRIPT, "start"], check=True, capture_output=True,
                            text=True, timeout=120).stdout.strip()
        url = subprocess.run([PG_SCRIPT, "url", pg], check=True, capture_output=True,
                             text=True, timeout=30).stdout.strip()
        res.check(True, "PostgreSQL primary in %s" % pg)
        turn = coturn.Coturn(verbose=False)
        a = node(args, work, "cb-a", url)
        b = node(args, work, "cb-b", url, key=os.path.join(a.dir, "secret.key"))
        b.password = a.password  # API users live in the database: cb-a made admin's
        res.check(True, "cb-a at %s, cb-b at %s, one database" % (a.url, b.url))
        where = "127.0.0.1:%d" % turn.port
        turn_id = a.create("/api/v1/turnServers", {
            "serverAddress": where, "clientAddress": where, "username": coturn.USER,
            "password": coturn.PASSWORD, "type": "standard"})
        join_test.wait_turn_reachable(res, a, turn_id)
        join_test.wait_turn_reachable(res, b, turn_id)  # cb-b probes it from its own side
        space = {"callId": str(100000000 + secrets.randbelow(900000000)),
                 "secret": secrets.token_urlsafe(16)}
        a.create("/api/v1/coSpaces", dict(space, name="Cluster test"))

        ann = join_test.join_one(res, browsers, a, space, "Ann")
        tab = browsers.new_tab(join_test.guest_url(b, space["callId"], space["secret"], "Bob"))
        try:
            state = tab.wait_until("window.cb && !['idle', 'joining'].includes(cb.state) && "
                                   "[cb.state, cb.endReason, cb.leg, location.port, "
                                   "location.hash]", timeout=join_test.CONNECT_TIMEOUT)
        except TimeoutError as e:
            state = ["timeout", str(e), None, None, None]
        res.check(state[0] == "connected", "Bob, sent to cb-b, reaches state connected (%s%s)" %
                  (state[0], ", " + str(state[1]) if state[1] else ""))
        res.require(state[0] == "connected", "Bob connected")
        res.check(state[3] == str(a.port), "Bob's page was redirected to cb-a (port %s, cb-a %d)"
                  % (state[3], a.port))
        res.check(state[4] == "", "the ticket is taken off the page's address (%r)" % state[4])
        bob_leg = state[2]
        res.check(join_test.media_of(ann[1], [bob_leg]) is not None,
                  "Ann receives Bob's audio and video through cb-a")
        res.check(join_test.media_of(tab, [ann[2]]) is not None,
                  "Bob receives Ann's audio and video through cb-a")
        on_a, on_b = legs_of(a), legs_of(b)
        res.check(on_a is not None and sorted(l for l, _ in on_a) == sorted([ann[2], bob_leg]),
                  "cb-a lists both legs: %s" % on_a)
        res.check(on_b == [], "cb-b lists no legs of cb-a's call: %s" % on_b)
        tabs = [("Ann", ann[1]), ("Bob", tab)]
        killed = a
        a = None
        killed.proc.kill()
        killed.proc.wait(10)
        res.check(True, "cb-a (pid %d) killed with SIGKILL" % killed.proc.pid)
        killed_at = time.monotonic()
        moved = {}
        for name, t in tabs:
            try:
                got = t.wait_until("window.cb && cb.state === 'connected' && location.port === %s "
                                   "&& [cb.leg, cb.rejoins || 0, location.hash, location.search]"
                                   % json.dumps(str(b.port)), timeout=REJOIN_TIMEOUT)
            except TimeoutError as e:
                got = [None, 0, str(e), ""]
                join_test.dump_console(name, t)
            res.check(got[0] is not None and got[1] == 1 and got[2] == "" and got[3] == "",
                      "%s's page rejoined on cb-b by its credential, with no form, secret or "
                      "fragment (leg %s, rejoins %s, %r %r)" % (name, got[0], got[1], got[2],
                                                                got[3]))
            moved[name] = (t, got[0])
            if got[0] is not None:
                print("info - %s: connected on cb-b %.1f s after cb-a's kill" %
                      (name, time.monotonic() - killed_at))
        res.require(all(leg for _, leg in moved.values()), "both pages on cb-b")
        res.check(join_test.media_of(moved["Ann"][0], [moved["Bob"][1]]) is not None,
                  "Ann receives Bob's audio and video through cb-b")
        res.check(join_test.media_of(moved["Bob"][0], [moved["Ann"][1]]) is not None,
                  "Bob receives Ann's audio and video through cb-b")
        on_b = legs_of(b)
        res.check(on_b is not None and sorted(l for l, _ in on_b) == sorted(
            leg for _, leg in moved.values()), "cb-b lists both legs: %s" % on_b)
    except join_test.ERRORS + (subprocess.SubprocessError,) as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        join_test.stop_all(res, browsers, a)
        if b is not None:
            rc = b.stop()
            res.check(rc == 0, "cb-b stopped by SIGTERM, exit status %s" % rc)
        if turn is not None:
            turn.stop()
        if pg:
            subprocess.run([PG_SCRIPT, "stop", pg], timeout=120)


def main():
    skip = None
    if not cdp.chromium_present():
        skip = cdp.CHROMIUM + " is absent"
    elif not os.path.exists(PG_BIN):
        skip = "PostgreSQL 15 is absent (%s)" % PG_BIN
    return harness.test_main("cluster_test", __doc__, run, "cb-a, cb-b: data, daemon.log",
                             skip=skip)


if __name__ == "__main__":
    sys.exit(main())
