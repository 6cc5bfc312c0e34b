#!/usr/bin/python3
"""End to end: headless Chromium guests join a space on callbridged through coturn, one at a time,
up to ten in one room, and leave again.

Starts coturn (coturn.py) and callbridged (as scripts/test-clients.sh does: its own data directory,
127.0.0.1, a port the kernel picks), creates through the CMS API a turnServer pointing at that
coturn and a coSpace with a callId and a secret, waits until the TURN server's status is success,
checks that a link with a wrong secret is refused, then opens one browser tab after another at the
space's guest link (/meeting/<callId>?secret=..&name=GuestI, which joins without a click), each
tab connected before the next opens. The tabs use a small camera (camera.py: 320x240, 15 fps) and
carry rtcstats.OBSERVER. For each guest who joins late it prints (info, not asserted: make bench
holds the goal) the time from its join request to the first decoded frame of each other guest.
When the room holds 2, 3, 5 and 10 guests (and N, the last size) it asserts:
  - every page decodes every other guest's video (framesDecoded grows) under that guest's name
    and receives their audio (packetsReceived grows), shows one tile per other guest, and its
    nominated candidate pair is relay on both ends;
  - GET /api/v1/callLegs lists exactly that many legs, with their names, each connected;
  - the statistics the browsers show are true (rtcstats.py says how each bound is made): each
    page's remote-inbound-rtp (from callbridged's receiver reports) has a round-trip time, a
    plausible loss and new measurements; each remote-outbound-rtp (the sender reports callbridged
    forwards under the SSRCs it rewrote) grows and lies between the sender's own counts around
    the report's time and above what the page had received; each leg's rx and tx packet counts
    in GET /api/v1/callLegs/<id> agree with its page's.
Then the first guest's tab is closed and the second guest clicks Leave (its page says so): each
one's tile goes from every other page and its leg from the API (the closed one's after
GUEST_TIMEOUT_S of silence: nothing tells callbridged a tab has gone). Last, a guest types the
meeting ID and passcode into /meeting and joins the others.
Usage: tests/webrtc/join_test.py path/to/callbridged [--participants N] [--keep]
Prints one line per assertion; exit 0 pass, 1 fail, 77 chromium absent (skip).
"""

import base64
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import camera  # noqa: E402
import cdp  # noqa: E402
import coturn  # noqa: E402
import harness  # noqa: E402
import rtcstats  # noqa: E402
from harness import Failed, tail  # noqa: E402

START_TIMEOUT = 30.0  # callbridged's " ready (" line
TURN_STATUS_TIMEOUT = 30.0  # the prober's first verdict on the coturn
CONNECT_TIMEOUT = 90.0  # a tab from its link to connected (at a load of 60: 27 s to load the page)
MEDIA_TIMEOUT = 30.0  # from connected to every other participant's first frames
REPORTS_TIMEOUT = 12.0  # to a sender report of each stream (audio: one in 5 s, the first 2.5 s)
LEAVE_TIMEOUT = 15.0  # from Leave to the tile gone everywhere
GROWTH_WAIT = 2.0  # between the two samples that prove frames keep coming
CHECKED_SIZES = (2, 3, 5, 10)  # sizes of the room at which everything is asserted
# A closed tab tells callbridged nothing (Chromium sends no DTLS close_notify as the page goes,
# and the page sends no leave): its leg ends when the browser has been silent for callbridged's
# --guest-timeout, 30 s by default. The default is kept: it also bounds a new leg's wait for its
# first valid ICE check, and at a load of 60 a page took 22 s to answer its first offer.
GUEST_TIMEOUT_S = 30
TABS_PER_BROWSER = 11  # a room of ten and the guest who types the passcode: one browser (each
# more costs its own GPU, network and audio processes, a tenth of a core each here)
TAB_DOMAIN = "room.test"  # tab i opens its page at gi.room.test, which Chromium maps to 127.0.0.1


class Browsers:
    """Tabs spread over as many browsers as it takes to keep TABS_PER_BROWSER in each, every tab
    on a host name of its own: Chromium opens at most 6 HTTP/1.1 connections to one host per
    profile, and each guest page holds one in its events long poll; with more pages than that on
    one host, the others' POSTs and polls would queue behind them (with one host, three pages
    per browser was the most that worked). Every browser uses the small
    camera (camera.py, written into 'workdir') and every tab carries rtcstats.OBSERVER."""

    def __init__(self, res, workdir):
        self.res = res
        self.browsers = []
        self.opened = 0
        self.args = camera.write(workdir)[1] + [
            "--host-resolver-rules=MAP *.%s 127.0.0.1" % TAB_DOMAIN]

    def new_tab(self, url):
        """Opens 'url' in a new tab, its host 127.0.0.1 replaced by the tab's own name."""
        self.opened += 1
        parts = urllib.parse.urlsplit(url)
        if parts.hostname == "127.0.0.1":
            url = parts._replace(netloc="g%d.%s:%d" % (self.opened, TAB_DOMAIN,
                                                       parts.port)).geturl()
        for b in self.browsers:
            if len(b._tabs) < TABS_PER_BROWSER:
                return b.new_tab(url, CONNECT_TIMEOUT, rtcstats.OBSERVER)
        b = cdp.Browser(extra_args=self.args)
        self.browsers.append(b)
        self.res.check(True, "%s started (pid %d)" % (b.version, b.proc.pid))
        return b.new_tab(url, CONNECT_TIMEOUT, rtcstats.OBSERVER)

    def stop(self):
        for b in self.browsers:
            b.stop()


class Daemon:
    """callbridged on 127.0.0.1 with a temporary data directory, stopped by its PID."""

    def __init__(self, path, workdir, extra_args=(), secret_key=None):
        self.dir = os.path.join(workdir, "data")
        os.mkdir(self.dir)
        if secret_key:  # another node of a cluster: the first's key opens the sealed secrets
            shutil.copyfile(secret_key, os.path.join(self.dir, "secret.key"))
            os.chmod(os.path.join(self.dir, "secret.key"), 0o600)
        self.log = os.path.join(workdir, "daemon.log")
        self.password = base64.urlsafe_b64encode(os.urandom(18)).decode()
        env = dict(os.environ, CALLBRIDGE_ADMIN_PASSWORD=self.password)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [path, "--data-dir", self.dir, "--bind", "127.0.0.1", "--listen", "0",
                 "--threads", "2", *extra_args], env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self.port = self._wait_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self._tls = ssl.create_default_context()
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE

    def _wait_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = self.log_text()
            if " ready (" in text:
                m = re.search(r"listening on https://127\.0\.0\.1:(\d+)", text)
                if m:
                    return int(m.group(1))
            time.sleep(0.1)
        raise RuntimeError("callbridged did not start:\n" + self.log_tail())

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, lines=40):
        return tail(self.log, lines)

    def api(self, method, path, form=None):
        """One API request (Basic auth, a form body); returns (status, headers, body text)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        auth = base64.b64encode(("admin:" + self.password).encode()).decode()
        req.add_header("Authorization", "Basic " + auth)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._tls) as res:
                return res.status, res.headers, res.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode(errors="replace")

    def create(self, path, form):
        """POSTs a new object; returns its id from the Location header."""
        status, headers, body = self.api("POST", path, form)
        location = headers.get("Location") or ""
        if status != 200 or not location:
            raise RuntimeError("POST %s: %d %s" % (path, status, body.strip()))
        return location.rstrip("/").rsplit("/", 1)[-1]

    def stop(self):
        """SIGTERM by PID; returns its exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        return self.proc.returncode


def wait_turn_reachable(res, daemon, turn_id):
    deadline = time.monotonic() + TURN_STATUS_TIMEOUT
    status = ""
    while time.monotonic() < deadline:
        code, _, body = daemon.api("GET", "/api/v1/turnServers/%s/status" % turn_id)
        if code == 200:
            status = ET.fromstring(body).findtext("status") or ""
            if status == "success":
                break
        time.sleep(0.5)
    res.require(status == "success", "GET turnServers/%s/status says success (%s)" %
                (turn_id, status or "no answer"))


def call_legs(daemon):
    """The remoteParty of each leg GET /api/v1/callLegs lists, and its total attribute."""
    code, _, body = daemon.api("GET", "/api/v1/callLegs?limit=50")
    if code != 200:
        return None, []
    root = ET.fromstring(body)
    return int(root.get("total", "-1")), [leg.findtext("remoteParty") for leg in root]


def leg_status(daemon, leg):
    """GET /api/v1/callLegs/<leg>: {"state": status/state (or "HTTP <code>"), and for each of
    rxAudio, rxVideo, txAudio, txVideo shown: {"packets", "lost"}}."""
    code, _, body = daemon.api("GET", "/api/v1/callLegs/%s" % leg)
    if code != 200:
        return {"state": "HTTP %d" % code}
    root = ET.fromstring(body)
    out = {"state": root.findtext("status/state")}
    for name in ("rxAudio", "rxVideo", "txAudio", "txVideo"):
        e = root.find("status/" + name)
        if e is not None:
            packets = e.findtext("packetsReceived") or e.findtext("packetsSent") or "0"
            out[name] = {"packets": int(packets), "lost": int(e.findtext("packetsLost") or 0)}
    return out


def set_up(res, daemon, turn):
    """A turnServer at the coturn and a coSpace with a callId, a secret and a passcode."""
    where = "127.0.0.1:%d" % turn.port
    turn_id = daemon.create("/api/v1/turnServers", {
        "serverAddress": where, "clientAddress": where, "username": coturn.USER,
        "password": coturn.PASSWORD, "type": "standard"})
    res.check(True, "created turnServer %s at %s" % (turn_id, where))
    space = {"callId": str(100000000 + secrets.randbelow(900000000)),
             "secret": secrets.token_urlsafe(16),
             "passcode": str(100000 + secrets.randbelow(900000))}
    space_id = daemon.create("/api/v1/coSpaces", dict(
        space, name="Browser join test", uri="join.test." + space["callId"]))
    res.check(True, "created coSpace %s with callId %s" % (space_id, space["callId"]))
    wait_turn_reachable(res, daemon, turn_id)
    return space


def guest_url(daemon, call_id, secret, name):
    return "%s/meeting/%s?%s" % (daemon.url, urllib.parse.quote(call_id),
                                 urllib.parse.urlencode({"secret": secret, "name": name}))


def check_wrong_secret(res, browsers, daemon, space):
    """A link with a wrong secret fails with the page's reason, and no leg appears."""
    tab = browsers.new_tab(guest_url(daemon, space["callId"], secrets.token_urlsafe(16),
                                     "Intruder"))
    try:
        state = tab.wait_until("window.cb && !['idle', 'joining'].includes(cb.state) && "
                               "[cb.state, cb.endReason]", timeout=CONNECT_TIMEOUT)
    finally:
        tab.close()
    res.check(state[0] == "failed" and "not valid" in (state[1] or ""),
              "a wrong secret is refused: %s" % state)
    total, _ = call_legs(daemon)
    res.check(total == 0, "no call leg for it (%s)" % total)


def join_one(res, browsers, daemon, space, name):
    """Opens a tab at the join link as 'name'; returns (name, tab, leg) once it connects."""
    tab = browsers.new_tab(guest_url(daemon, space["callId"], space["secret"], name))
    try:
        state = tab.wait_until("window.cb && !['idle', 'joining'].includes(cb.state) && "
                               "[cb.state, cb.endReason, cb.leg]", timeout=CONNECT_TIMEOUT)
    except TimeoutError as e:
        state = ["timeout", str(e), None]
    res.check(state[0] == "connected", "%s reaches state connected (%s%s)" %
              (name, state[0], ", " + str(state[1]) if state[1] else ""))
    if state[0] != "connected" or state[2] is None:
        dump_console(name, tab)
        raise Failed("%s did not connect" % name)
    return name, tab, state[2]


def join_all(res, browsers, daemon, space, n):
    """Guest1 to GuestN join one after another; returns [(name, tab, leg)]."""
    return [join_one(res, browsers, daemon, space, "Guest%d" % i) for i in range(1, n + 1)]


def dump_console(name, tab):
    print("  %s console:\n    %s" % (name, "\n    ".join(tab.console) or "(empty)"))


def media_of(tab, others):
    """cb.stats() once every leg in 'others' has decoded video and received audio, or None."""
    expr = ("cb.stats().then((s) => { const others = %s;"
            " const v = (l) => s.video.find((x) => x.leg === l && x.framesDecoded > 0);"
            " const a = (l) => s.audio.find((x) => x.leg === l && x.packetsReceived > 0);"
            " return others.every((l) => v(l) && a(l)) && s; })" % json.dumps(others))
    try:
        return tab.wait_until(expr, timeout=MEDIA_TIMEOUT)
    except TimeoutError:
        return None


def frames(stats, leg, kind="video", field="framesDecoded"):
    return max([x[field] for x in stats[kind] if x["leg"] == leg] or [0])


def wait_room(res, daemon, joined):
    """Waits until every page decodes video and receives audio from every other guest, and has a
    sender report of each of their streams, and the API lists the room's legs, each connected.
    Asserts each; True when all hold."""
    ok = True
    legs = [leg for _, _, leg in joined]
    for name, tab, leg in joined:
        others = [o for o in legs if o != leg]
        if not res.check(media_of(tab, others) is not None,
                         "%s decodes video and receives audio from all %d others" %
                         (name, len(others))):
            print("  its stats: %s" % json.dumps(tab.evaluate("cb.stats()")))
            ok = False
        elif not res.check(sender_reports_of(tab, others),
                           "%s has a sender report of each of their %d streams" %
                           (name, 2 * len(others))):
            ok = False
    return check_api_legs(res, daemon, joined, len(joined)) and ok


def sender_reports_of(tab, others):
    """True once the page has a remote-outbound-rtp for an audio and a video stream of each leg
    in 'others'; False after REPORTS_TIMEOUT."""
    expr = ("__room.stats().then((s) => { const others = %s;"
            " const ro = s['remote-outbound-rtp'] || [], inb = s['inbound-rtp'] || [];"
            " const has = (l, k) => inb.some((e) => e.leg === l && e.kind === k &&"
            " ro.some((r) => r.localId === e.id));"
            " return others.every((l) => has(l, 'audio') && has(l, 'video')); })"
            % json.dumps(others))
    try:
        return tab.wait_until(expr, timeout=REPORTS_TIMEOUT)
    except TimeoutError:
        return False


def check_room(res, daemon, joined):
    """At one size of the room: everything wait_room waits for, then two samples of every page
    (rtcstats.sample) with the API's view of each leg read between them, after
    rtcstats.LATE_AFTER_S each way; asserted on them: check_pages and check_statistics."""
    print("# a room of %d guests" % len(joined))
    if not wait_room(res, daemon, joined):
        raise Failed("the room of %d is not complete" % len(joined))
    before = {leg: rtcstats.sample(tab) for _, tab, leg in joined}
    time.sleep(rtcstats.LATE_AFTER_S)
    api = {leg: leg_status(daemon, leg) for _, _, leg in joined}
    time.sleep(rtcstats.LATE_AFTER_S)
    after = {leg: rtcstats.sample(tab) for _, tab, leg in joined}
    check_pages(res, joined, before, after)
    check_statistics(res, joined, before, after, api)


def check_pages(res, joined, before, after):
    """Per page: frames and audio packets from every other guest grew between the samples, under
    their names; one tile per other guest; the nominated pair relay on both ends."""
    names = {leg: name for name, _, leg in joined}
    for name, tab, leg in joined:
        a, c = before[leg]["cb"], after[leg]["cb"]
        bad, least = [], None
        for other in (o for o in names if o != leg):
            f0, f1 = frames(a, other), frames(c, other)
            p0, p1 = frames(a, other, "audio", "packetsReceived"), frames(
                c, other, "audio", "packetsReceived")
            shown = [x["name"] for x in c["video"] if x["leg"] == other]
            if not f1 > f0 > 0 or not p1 > p0 > 0 or shown != [names[other]]:
                bad.append("%s (shown as %s): framesDecoded %d then %d, audio packets %d then %d"
                           % (names[other], shown, f0, f1, p0, p1))
            least = f1 - f0 if least is None else min(least, f1 - f0)
        res.check(not bad, "%s: video and audio of all %d others keep coming, under their names "
                  "(%s)" % (name, len(names) - 1, "; ".join(bad) or
                            "at least %s frames more in %.1f s" % (
                                least, (after[leg]["t"] - before[leg]["t"]) / 1000.0)))
        pair = c.get("pair") or {}
        res.check(pair.get("local") == "relay" and pair.get("remote") == "relay",
                  "%s: the nominated pair is relay on both ends (%s/%s)" %
                  (name, pair.get("local"), pair.get("remote")))
        captions = tab.evaluate("[...document.querySelectorAll('#tiles figcaption')]"
                                ".map((c) => c.textContent).sort()")
        want = sorted(names[o] for o in names if o != leg)
        res.check(captions == want, "%s shows %d tiles%s" % (
            name, len(captions), "" if captions == want else ": %s, want %s" % (captions, want)))


def check_statistics(res, joined, before, after, api):
    """Per page, the rtcstats checks: callbridged's receiver reports, the sender reports it
    forwards, and its callLeg's counts against the page's."""
    for name, _, leg in joined:
        a, c = before[leg], after[leg]
        problems, shown = rtcstats.receiver_report_problems(a, c)
        ice = c["iceRtt"]
        res.check(not problems, "%s: remote-inbound-rtp from callbridged's receiver reports: %s"
                  " (ICE pair rtt %s ms)" % (name, "; ".join(problems or shown),
                                             None if ice is None else round(ice * 1000)))
        senders = {o: (before[o], after[o]) for _, _, o in joined if o != leg}
        problems, n = rtcstats.sender_report_problems(a, c, senders)
        res.check(not problems and n == 2 * len(senders),
                  "%s: remote-outbound-rtp from the sender reports forwarded to it, %d streams: "
                  "%s" % (name, n, "; ".join(problems) or "growing, between the senders' own "
                          "counts and at least what it received"))
        problems, shown = rtcstats.api_problems(api[leg], a, c)
        res.check(not problems, "%s: its callLeg's packet counts agree with its page: %s" %
                  (name, "; ".join(problems or shown)))


def check_api_legs(res, daemon, joined, expect):
    """GET /api/v1/callLegs lists 'expect' legs named as 'joined', each connected (waits up to
    10 s for it). True when it does."""
    names = sorted(name for name, _, _ in joined)
    deadline = time.monotonic() + 10
    while True:
        total, parties = call_legs(daemon)
        states = sorted(set(leg_status(daemon, leg)["state"] for _, _, leg in joined if leg))
        if total == expect and sorted(parties) == names and states in ([], ["connected"]) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return all([
        res.check(total == expect, "GET /api/v1/callLegs lists %s legs (want %d)" %
                  (total, expect)),
        res.check(sorted(parties) == names, "their remoteParty: %s" % sorted(parties)),
        res.check(states in ([], ["connected"]), "their state: %s" % states)])


def tile_gone(res, leaver, joined):
    """The leaver's tile goes from every page in 'joined' (each waited for up to LEAVE_TIMEOUT
    from now)."""
    name, _, leg = leaver
    gone = "!document.querySelector('#tiles li[data-leg=\"%s\"]')" % leg
    slow = []
    deadline = time.monotonic() + LEAVE_TIMEOUT
    for other, otab, _ in joined:
        try:
            otab.wait_until(gone, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            slow.append(other)
    res.check(not slow, "%s's tile is gone from the %d other pages%s" % (
        name, len(joined), ": still on " + ", ".join(slow) if slow else ""))


def check_leave(res, daemon, leaver, others):
    """The leaver clicks Leave; its page says so; its tile goes from the others' pages and its
    leg from the API."""
    name, tab, leg = leaver
    tab.evaluate("document.getElementById('leave').click()")
    state = tab.wait_until("cb.state !== 'connected' && [cb.state, document.title]", timeout=5)
    res.check(state == ["left", "callbridge: left"], "%s left: %s" % (name, state))
    tile_gone(res, leaver, others)
    code = leg_status(daemon, leg)["state"]
    res.check(code == "HTTP 404", "GET /api/v1/callLegs/%s: %s (want HTTP 404)" % (leg, code))


def check_closed(res, daemon, closed, closed_at, others):
    """A guest whose tab was closed at closed_at (time.monotonic()), with no Leave: the page's
    pagehide beacon tells the server it left (Chromium sends no DTLS close_notify, so without it
    the leg would stay GUEST_TIMEOUT_S), its tile goes from the others' pages and the API lists
    only the others, connected."""
    name, _, leg = closed
    left = "guest left: callLeg %s" % leg
    ended = "callLeg %s (%s): ended: " % (leg, name)
    deadline = closed_at + GUEST_TIMEOUT_S + LEAVE_TIMEOUT
    while left not in daemon.log_text() and ended not in daemon.log_text() and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    text = daemon.log_text()
    how = ("its page's leave" if left in text else
           text[text.find(ended) + len(ended):].split("\n", 1)[0] if ended in text else None)
    res.check(left in text, "%s's tab closed: its page told the server it left (%s, %.1f s "
              "later)" % (name, how, time.monotonic() - closed_at))
    tile_gone(res, closed, others)
    check_api_legs(res, daemon, others, len(others))


def leave_both_ways(res, daemon, joined):
    """The first guest's tab is closed, then the second guest clicks Leave (checked while the
    first's leg waits out its silence), then the closed one is checked. Returns the guests left."""
    closed_at = time.monotonic()
    joined[0][1].close()
    check_leave(res, daemon, joined[1], joined[2:])
    check_closed(res, daemon, joined[0], closed_at, joined[2:])
    return joined[2:]


def check_form_join(res, browsers, daemon, space, present):
    """A guest types the meeting ID and passcode into /meeting: it connects, and it and the guests
    already there see each other's tiles."""
    tab = browsers.new_tab(daemon.url + "/meeting")
    tab.evaluate("(() => { const f = (id, v) => { document.getElementById(id).value = v; };"
                 " f('callid', %s); f('passcode', %s); f('name', 'Typed');"
                 " document.querySelector('#join-form button[type=submit]').click(); })()" %
                 (json.dumps(space["callId"]), json.dumps(space["passcode"])))
    state = tab.wait_until("!['idle', 'joining'].includes(cb.state) && [cb.state, cb.endReason]",
                           timeout=CONNECT_TIMEOUT)
    res.require(state[0] == "connected", "a guest joining through the form with the passcode "
                "connects (%s)" % state)
    captions = "[...document.querySelectorAll('#tiles figcaption')].map((c) => c.textContent)"
    for name, otab, _ in present:
        try:
            otab.wait_until("%s.includes('Typed')" % captions, timeout=MEDIA_TIMEOUT)
            ok = True
        except TimeoutError:
            ok = False
        res.check(ok, "%s shows the new guest's tile" % name)
    want = sorted(name for name, _, _ in present)
    try:
        seen = tab.wait_until("(() => { const c = %s.sort(); return c.length === %d && c; })()" %
                              (captions, len(want)), timeout=MEDIA_TIMEOUT)
    except TimeoutError as e:
        seen = str(e)
    res.check(seen == want, "the new guest shows tiles %s" % seen)
    check_api_legs(res, daemon, present + [("Typed", tab, None)], len(present) + 1)


def report_first_frames(joined, more=()):
    """Not an assertion (make bench holds the issue's goal): the time from the last guest's join
    request to its first decoded frame of each other guest (those of 'joined' and the (name, leg)
    of 'more'), a late joiner's view."""
    name, tab, _ = joined[-1]
    others = [(o, leg) for o, _, leg in joined[:-1]] + list(more)
    legs = [leg for _, leg in others]
    expr = ("(() => { const f = __room.firstFrames, want = %s;"
            " return want.every((l) => f[l]) && [__room.joinMs[0], want.map((l) => f[l])]; })()"
            % json.dumps(legs))
    try:
        join_ms, firsts = tab.wait_until(expr, timeout=MEDIA_TIMEOUT)
    except TimeoutError as e:
        print("info - %s: not every first frame within %.0f s: %s" % (name, MEDIA_TIMEOUT, e))
        return
    times = [f - join_ms for f in firsts]
    print("info - %s joins late: its first decoded frame of each other guest %d-%d ms after its "
          "join request (%s)" % (name, min(times), max(times), ", ".join(
              "%s %d" % (o, t) for (o, _), t in zip(others, times))))


# What ends a test script's run early as one failed assertion, not a traceback.
ERRORS = (Failed, cdp.CDPError, cdp.JSError, TimeoutError, RuntimeError, OSError, ET.ParseError)


def stop_all(res, browsers, daemon):
    """Stops the browsers and the daemon (its last log lines printed when something failed),
    asserting that the daemon exits 0 on SIGTERM."""
    browsers.stop()
    if daemon is not None:
        if res.failed:
            ends = [line for line in daemon.log_text().splitlines() if "): ended: " in line]
            print("callbridged's ends of legs:\n" + "\n".join(ends or ["(none)"]))
            print("callbridged log (last lines):\n" + daemon.log_tail())
        rc = daemon.stop()
        res.check(rc == 0, "callbridged stopped by SIGTERM, exit status %s" % rc)


def sizes(last):
    """The sizes of the room at which check_room runs: CHECKED_SIZES up to 'last', and 'last'."""
    return sorted(set(n for n in CHECKED_SIZES if n <= last) | {last})


def run(res, args, work):
    turn = daemon = None
    browsers = Browsers(res, work)
    try:
        turn = coturn.Coturn(verbose=True)
        res.check(True, "coturn answers STUN on 127.0.0.1:%d" % turn.port)
        daemon = Daemon(args.callbridged, work)
        res.check(True, "callbridged %d listening on %s" % (daemon.proc.pid, daemon.url))
        space = set_up(res, daemon, turn)
        check_wrong_secret(res, browsers, daemon, space)
        joined = []
        for i in range(1, args.participants + 1):
            joined.append(join_one(res, browsers, daemon, space, "Guest%d" % i))
            if i > 1:
                report_first_frames(joined)
            if i in sizes(args.participants):
                check_room(res, daemon, joined)
        joined = leave_both_ways(res, daemon, joined)
        check_form_join(res, browsers, daemon, space, joined)
    except ERRORS as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_all(res, browsers, daemon)
        if turn is not None:
            if args.keep:
                shutil.copy(turn.log, os.path.join(work, "turn.log"))
            turn.stop()


def participants(ap):
    ap.add_argument("--participants", type=int, default=10, choices=range(3, 11),
                    metavar="N", help="guests joining the space one by one (3-10, default 10)")


def main():
    return harness.test_main("join_test", __doc__, run, "data/, daemon.log, turn.log",
                             skip=None if cdp.chromium_present() else cdp.CHROMIUM + " is absent",
                             more_args=participants)


if __name__ == "__main__":
    sys.exit(main())
