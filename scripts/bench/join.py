#!/usr/bin/python3
"""make bench, join time broken down: where a late joiner's time goes, from the join page's first
script line to the first decoded frame of each other guest.

callbridged (--log-level debug) and coturn on 127.0.0.1, as tests/webrtc/join_test.py sets them up.
For each room size, the guests already there join first and stay; then a joiner opens the guest
link in a browser of its own, RUNS times, leaving after each run. Given several daemons (builds of
different join pages), each has its room and the joiner takes turns among them, run by run, so each
page is measured under the same load. Per run the page gives its
performance.now() marks (web/join.js, cb.marks: getUserMedia, the join POST, the offer's arrival,
the browser's relay candidate, setRemoteDescription and setLocalDescription, the answer POST, the
selected pair, DTLS, the first video frame and its receiveTime, the first frame of each other guest),
a poller this script adds to the page samples getStats every POLL_MS for the first video packet
from each other guest, and callbridged's log gives its side of the same leg (joined, offer sent,
answer, first valid check, DTLS start, connected), its wall-clock timestamps put on the page's
clock through performance.timeOrigin (one machine, one clock). It prints, per step, the median and
the range over the runs, in ms since the page's first script line, then the steps' own durations.
Nothing is asserted on time; exit 0 when every run decoded video, 1 otherwise.
Usage: scripts/bench/join.py path/to/callbridged [other/callbridged...] [--runs N] [--rooms 2,3]
"""

import argparse
import calendar
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "webrtc"))
import cdp  # noqa: E402
import coturn  # noqa: E402
import join_test  # noqa: E402
import mixed_room_test  # noqa: E402
from harness import Results  # noqa: E402

RUNS = 10
FRAME_TIMEOUT = 30.0  # s from the tab's load to every other guest's first frame
POLL_MS = 20  # the first-packet poller's period
LEAVE_TIMEOUT = 10.0
# the guests already there decode each other first; on this shared 2-core machine under load that
# took longer than join_test's 20 s once (a room of 3 at a load average of 60)
join_test.MEDIA_TIMEOUT = 60.0

# The page's marks (cb.marks) and callbridged's log lines, in the order a join passes them; each
# is printed as ms since the page's first script line.
TIMELINE = [
    ("navigation", "page: navigation start (before the HTML loads)"),
    ("gumStart", "page: getUserMedia called"),
    ("gumDone", "page: getUserMedia done"),
    ("joinPost", "page: POST join sent"),
    ("srvJoined", "server: guest joined (leg created)"),
    ("joinAnswered", "page: POST join answered"),
    ("srvOffer", "server: offer made (its relay allocated)"),
    ("pollStart", "page: first events poll started"),
    ("pcCreated", "page: RTCPeerConnection created"),
    ("pollSent", "page: first events poll sent"),
    ("pollAnswered", "page: first events poll answered"),
    ("offer", "page: offer arrived (long poll)"),
    ("remoteSet", "page: setRemoteDescription done"),
    ("localSet", "page: createAnswer + setLocalDescription done"),
    ("relayCandidate", "page: its relay candidate (TURN allocation)"),
    ("srvAnswer", "server: answer received"),
    ("answerPosted", "page: POST answer answered"),
    ("srvCheck", "server: first valid ICE check (pair)"),
    ("srvDtls", "server: DTLS starts"),
    ("pairSelected", "page: ICE pair selected (nomination)"),
    ("srvConnected", "server: DTLS done, key frames asked"),
    ("dtlsConnected", "page: DTLS connected"),
    ("firstRtp", "page: first video packet (getStats, sampled)"),
    ("frameReceived", "page: first frame's last packet in"),
    ("firstFrame", "page: first video frame shown"),
    ("allFirstRtp", "page: first video packet of every other guest"),
    ("allFrames", "page: first frame of every other guest"),
]

# (label, from, to): the steps a join is made of.
STEPS = [
    ("getUserMedia", "gumStart", "gumDone"),
    ("POST join (round trip)", "joinPost", "joinAnswered"),
    ("offer after join answer (server's relay, long poll)", "joinAnswered", "offer"),
    ("  server: leg created to offer made (its relay)", "srvJoined", "srvOffer"),
    ("  offer made at server to offer at page (poll)", "srvOffer", "offer"),
    ("setRemoteDescription+createAnswer+setLocal", "offer", "localSet"),
    ("browser's relay candidate after setLocal", "localSet", "relayCandidate"),
    ("answer POST (round trip)", "localSet", "answerPosted"),
    ("first valid check at server after setLocal", "localSet", "srvCheck"),
    ("DTLS at server (start to done)", "srvDtls", "srvConnected"),
    ("first video packet after server's DTLS done", "srvConnected", "firstRtp"),
    ("first frame's last packet after server's DTLS done", "srvConnected", "frameReceived"),
    ("first frame shown after its last packet", "frameReceived", "firstFrame"),
    ("every guest's frame after the first", "firstFrame", "allFrames"),
    ("new connections' set-up, summed (signalling)", "zero", "connectMs"),
    ("total: script to first frame", "script", "firstFrame"),
    ("total: script to every guest's frame", "script", "allFrames"),
]

# Started in the joiner's page once it loads: the first time getStats shows a video packet from
# each other guest (cb.stats() lists only the legs that have a tile).
POLLER = """(() => {
    window.benchRtp = {};
    const poll = () => cb.stats().then((s) => {
        for (const v of s.video)
            if (v.packetsReceived > 0 && !(v.leg in benchRtp))
                benchRtp[v.leg] = Math.round(performance.now());
        if (!['left', 'failed', 'lost'].includes(cb.state))
            setTimeout(poll, %d);
    }, () => setTimeout(poll, %d));
    poll();
    return true;
})()""" % (POLL_MS, POLL_MS)

# The page's requests to the signalling (Resource Timing): when each was started, sent and answered,
# and whether it needed a new connection.
HTTP = """performance.getEntriesByType('resource').filter((e) => e.name.includes('/meeting/api/'))
    .map((e) => ({path: new URL(e.name).pathname, start: e.startTime, sent: e.requestStart,
                  answered: e.responseStart, connect: e.connectEnd - e.connectStart}))"""

LOG_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z ")


def log_ms(line):
    """The epoch ms of a callbridged log line (UTC, ms), or None."""
    m = LOG_TIME.match(line)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000 + ms


def server_marks(log_text, leg):
    """callbridged's steps for 'leg', epoch ms of each line's first occurrence."""
    pats = {"srvJoined": " as callLeg %s of call " % leg,
            "srvOffer": "callLeg %s: offer " % leg,
            "srvAnswer": "callLeg %s: answer to offer " % leg,
            "srvCheck": "callLeg %s: the pair is now " % leg,
            "srvDtls": "callLeg %s: DTLS starts" % leg,
            "srvConnected": re.compile(r"callLeg %s \(.*\): connected (through|on) " % re.escape(leg))}
    out = {}
    for line in log_text.splitlines():
        for key, pat in pats.items():
            found = pat.search(line) if hasattr(pat, "search") else pat in line
            if key not in out and found:
                ms = log_ms(line)
                if ms is not None:
                    out[key] = ms
    return out


def http_marks(entries):
    """The first events poll's start, sending and answer, and the new connections the join's
    requests opened (ms)."""
    out = {}
    polls = [e for e in entries if e["path"].endswith("/events")]
    if polls:
        out["pollStart"], out["pollSent"] = polls[0]["start"], polls[0]["sent"]
        out["pollAnswered"] = polls[0]["answered"]
    out["connectMs"] = sum(e["connect"] for e in entries)
    return out


def one_join(res, browser, daemon, space, others, i):
    """One late joiner: its timeline (ms since its script start) or None."""
    url = join_test.guest_url(daemon, space["callId"], space["secret"], "Joiner%d" % i)
    tab = browser.new_tab(url)
    try:
        tab.evaluate(POLLER)
        want = "(() => { const f = cb.legFrames; const o = %s; return o.every((l) => l in f) && " \
               "o.every((l) => l in benchRtp) && {marks: cb.marks, frames: f, rtp: benchRtp, " \
               "origin: performance.timeOrigin, leg: cb.leg, http: %s}; })()" % (repr(others), HTTP)
        try:
            got = tab.wait_until(want, timeout=FRAME_TIMEOUT, interval=0.1)
        except TimeoutError:
            res.check(False, "join %d: not every guest's frame within %.0f s (%s; the API "
                      "lists %s)" % (i, FRAME_TIMEOUT, tab.evaluate(
                          "[cb.state, cb.endReason, cb.marks, Object.keys(cb.legFrames)]"),
                                     join_test.call_legs(daemon)))
            got = None
    finally:
        try:  # leaving frees the leg at once (a closed tab's leg would wait for the timeout)
            tab.evaluate("document.getElementById('leave').click()")
            tab.wait_until("!['joining', 'connected'].includes(cb.state)", timeout=LEAVE_TIMEOUT)
        finally:
            tab.close()
    if got is None:
        return None
    t = dict(got["marks"], navigation=0, zero=got["marks"]["script"])
    t["allFrames"] = max(got["frames"].values())
    t["firstRtp"] = min(got["rtp"].values())
    t["allFirstRtp"] = max(got["rtp"].values())
    t.update(http_marks(got["http"]))
    for key, ms in server_marks(daemon.log_text(), got["leg"]).items():
        t[key] = round(ms - got["origin"])
    connect = t.pop("connectMs")
    t = {k: v - t["script"] for k, v in t.items()}
    t["connectMs"] = connect
    return t


def wait_legs(daemon, n):
    """Until the API lists n legs (the last joiner's is gone), at most LEAVE_TIMEOUT s."""
    deadline = time.monotonic() + LEAVE_TIMEOUT
    while time.monotonic() < deadline:
        if join_test.call_legs(daemon)[0] == n:
            return True
        time.sleep(0.1)
    return False


def spread(values):
    """median, 10th and 90th percentile (the range when fewer than 10)."""
    v = sorted(values)
    if len(v) < 10:
        return statistics.median(v), v[0], v[-1]
    q = statistics.quantiles(v, n=10, method="inclusive")
    return statistics.median(v), q[0], q[-1]


def report(room, runs, path):
    print("join breakdown, %s, room of %d (%d there + the joiner), %d joins; ms since the page's"
          " first script line: median [p10-p90], min-max" % (path, room, room - 1, len(runs)))
    for key, label in TIMELINE:
        v = [r[key] for r in runs if key in r]
        if v:
            med, lo, hi = spread(v)
            print("  %-50s %6.0f [%5.0f-%5.0f] %5.0f-%5.0f%s" % (
                label, med, lo, hi, min(v), max(v), "" if len(v) == len(runs) else
                " (in %d runs)" % len(v)))
    print("  steps (each run's difference; median [p10-p90]):")
    for label, a, b in STEPS:
        v = [r[b] - r[a] for r in runs if a in r and b in r]
        if v:
            med, lo, hi = spread(v)
            print("  %-50s %6.0f [%5.0f-%5.0f]" % (label, med, lo, hi))
    sys.stdout.flush()


class Room:
    """One daemon's room: coturn, callbridged at --log-level debug, a coSpace, and room - 1
    browser guests in it decoding each other, with 'peers' rtcpeer guests (real VP8 and Opus,
    tests/webrtc/mixed_room_test.py) joined first."""

    def __init__(self, res, path, work, room, peers=0):
        self.turn = self.daemon = self.peers = None
        os.makedirs(work)
        self.browsers = join_test.Browsers(res, work)
        self.path = path
        try:
            self.turn = coturn.Coturn()
            self.daemon = join_test.Daemon(path, work, extra_args=("--log-level", "debug"))
            self.space = join_test.set_up(res, self.daemon, self.turn)
            peer_legs = []
            if peers:
                self.peers = mixed_room_test.start_rtcpeers(
                    mixed_room_test.rtcpeer_of(path), self.daemon, self.space, peers, work)
                peer_legs = mixed_room_test.wait_rtcpeers(res, self.daemon, peers)
            there = join_test.join_all(res, self.browsers, self.daemon, self.space, room - 1)
            self.others = [leg for _, _, leg in there] + peer_legs
            for name, tab, leg in there if room > 2 else ():
                others = [o for o in self.others if o != leg]
                res.require(join_test.media_of(tab, others) is not None,
                            "%s decodes the others" % name)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.peers is not None:
            join_test.harness.stop_process(self.peers)
        self.browsers.stop()
        if self.daemon is not None:
            self.daemon.stop()
        if self.turn is not None:
            self.turn.stop()


def room_part(res, paths, work, room, n_runs, peers=0):
    """n_runs joins into a room of 'room' browsers (and 'peers' rtcpeer guests) on each daemon
    in 'paths', taking turns run by run (the same load for each), one joiner browser for all."""
    rooms = []
    joiner = None
    try:
        for k, path in enumerate(paths):
            rooms.append(Room(res, path, os.path.join(work, "%d-%d" % (room, k)), room, peers))
        joiner = cdp.Browser()
        runs = [[] for _ in rooms]
        for i in range(1, n_runs + 1):
            for r, out in zip(rooms, runs):
                t = one_join(res, joiner, r.daemon, r.space, r.others, i)
                if t is not None:
                    out.append(t)
                # not required: under heavy load the guests there answer the leave's offer late
                res.check(wait_legs(r.daemon, room - 1 + peers),
                          "join %d: the joiner's leg is gone" % i)
        for r, out in zip(rooms, runs):
            if out:
                report(room + peers, out, r.path)
            res.check(len(out) == n_runs, "room of %d, %s: %d of %d joins decoded every guest" %
                      (room + peers, r.path, len(out), n_runs))
    except join_test.ERRORS as e:
        res.check(False, "room of %d: %s: %s" % (room, type(e).__name__, e))
        for r in rooms:
            print(r.daemon.log_tail(15))
    finally:
        if joiner is not None:
            joiner.stop()
        for r in rooms:
            r.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("callbridged", nargs="+", help="one daemon, or several to compare (their "
                    "join pages): each gets its own room and they take turns run by run")
    ap.add_argument("--runs", type=int, default=RUNS, choices=range(1, 51), metavar="N")
    ap.add_argument("--rooms", default="2,3", help="room sizes, joiner included (2-6)")
    ap.add_argument("--rtcpeers", type=int, default=0, choices=range(0, 31), metavar="N",
                    help="rtcpeer guests (real VP8 and Opus, from beside callbridged) in each "
                    "room besides its browsers, so that a large room fits on a small machine")
    args = ap.parse_args()
    rooms = [int(x) for x in args.rooms.split(",")]
    if any(r < 2 or r > 6 for r in rooms):
        ap.error("room sizes are 2 to 6")
    if not cdp.chromium_present():
        print("join bench: skipped (needs %s)" % cdp.CHROMIUM)
        return 0
    res = Results("join bench")
    work = tempfile.mkdtemp(prefix="cb-bench-join.")
    try:
        print("load before: %s" % open("/proc/loadavg").read().strip(), flush=True)
        for room in rooms:
            room_part(res, args.callbridged, work, room, args.runs, args.rtcpeers)
        print("load after: %s" % open("/proc/loadavg").read().strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res.exit_status()


if __name__ == "__main__":
    sys.exit(main())
