#!/usr/bin/python3
"""make bench, part 6: callbridged as a WebRTC meeting server next to Janus, with the same browser.

Part 1, forwarding cost. Janus 1.1.2 (echotest plugin, plain HTTP transport) runs in a network
namespace of its own on a veth address (it never offers a 127.0.0.1 candidate); headless Chromium
opens scripts/bench/janus.html, which sends the fake camera (640x480, 30 fps) and microphone through
a coturn relaying from the host end of the veth and gets them echoed back. Janus' CPU (all threads,
/proc/PID/stat) over WINDOW seconds divided by the RTP packets it handled (the page's getStats:
packets it sent plus packets it received) is Janus' cost per packet. Then callbridged, with the same
browser flags, in a 2-party and a 5-party call (tests/webrtc's join flow): the media thread's CPU
(the thread named cb-media) over the same window divided by the packets it handled (every leg's
rx packetsReceived plus tx packetsSent from GET /api/v1/callLegs/<id>). It prints us/packet for each
and ours/Janus, then `perf record` of the media thread in the 5-party call: what dominates ours.
Part 2, join time: a guest joins a space where one guest is, five times; from its page opening to
its first decoded remote frame (join.js's cb.firstFrameMs), median and range.
Part 3, capacity: rooms of 5 guests of the project's own client (build/<variant>/rtcpeer, from
scripts/bench/rtcpeer.c; a TODO is printed while it is absent), 1 room, then 2, 4, ... until the
loss the guests count by sequence number passes 0.1 %: streams forwarded, loss, RSS per leg.
Part 4, forwarding cost without browsers: one room of CAP_ROOM rtcpeer guests (no decoding, so
the figure does not move with the browsers' load): the media thread's CPU over WINDOW seconds
divided by the RTP packets it handled, as in part 1, then `perf record -g` of the media thread.
Nothing is asserted on time; exit 0 when every part ran, 1 when one could not. --parts picks
parts by name (janus, 2-party, 5-party, capacity, peer-cost; the default is all of them), so a
before/after comparison can run only the part it needs.
Usage: scripts/bench/webrtc.py [--parts a,b] path/to/callbridged
"""

import http.server
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "webrtc"))
import cdp  # noqa: E402
import coturn  # noqa: E402
import join_test  # noqa: E402
import harness  # noqa: E402
from harness import Results  # noqa: E402

WINDOW = 20.0  # seconds of CPU and packets per measurement
SETTLE = 5.0  # seconds after media flows before a window starts (bandwidth ramp-up)
JOINS = 5  # join-time samples
PERF_SECONDS = 10
CAP_ROOM = 5  # guests per room in the capacity part
CAP_SECONDS = 15  # each step's guests stay this long (40 joining at once take seconds)
CAP_STEPS = (1, 2, 4, 6, 8, 10, 12)  # rooms per step; a room forwards 40 streams (5 x 4 x 2)
LOSS_LIMIT = 0.1  # %: the step that passes it is the last
# join_test's waits are for 3 guests; 5 guests on this 2-core machine, shared, decode later
join_test.MEDIA_TIMEOUT = 60.0
JANUS = "/usr/bin/janus"
JANUS_LIB = "/usr/lib/x86_64-linux-gnu/janus"
JANUS_PORT = 8088  # free: the namespace is ours and new
CAMERA = ["--use-fake-device-for-media-stream=fps=30"]  # the last of a repeated flag wins
TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def stat_cpu_ns(path):
    """utime + stime of a /proc/.../stat file, in ns (the comm field may hold spaces)."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_NS


def thread_named(pid, name):
    """The id of process pid's thread called 'name', or None."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == name:
                return int(tid)
    return None


def measure(cpu_ns, packets, seconds=WINDOW):
    """(us of CPU per packet, packets per second) over 'seconds'; both callables are sampled
    at the start and at the end."""
    c0, p0, t0 = cpu_ns(), packets(), time.monotonic()
    time.sleep(seconds)
    c1, p1, t1 = cpu_ns(), packets(), time.monotonic()
    n = p1 - p0
    return ((c1 - c0) / 1000.0 / n if n > 0 else float("nan")), n / (t1 - t0), (c1 - c0) / (t1 - t0)


class Netns:
    """A network namespace with a veth pair: host end .1, namespace end .2 of a /30 that no
    interface here uses. Deleting the namespace deletes the pair."""

    def __init__(self):
        tag = "%d%03d" % (os.getpid() % 100000, random.randrange(1000))
        self.name = "cbbench" + tag
        used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
        for _ in range(50):
            net = "10.%d.%d." % (random.randrange(64, 250), random.randrange(0, 250))
            if net not in used:
                break
        self.host, self.inside = net + "1", net + "2"
        host_if, ns_if = "cbh" + tag, "cbn" + tag
        self.ns_if = ns_if
        ip = lambda *a: subprocess.run(["ip"] + list(a), check=True)  # noqa: E731
        ip("netns", "add", self.name)
        try:
            ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            ip("link", "set", ns_if, "netns", self.name)
            ip("addr", "add", self.host + "/30", "dev", host_if)
            ip("link", "set", host_if, "up")
            for a in (["addr", "add", self.inside + "/30", "dev", ns_if],
                      ["link", "set", ns_if, "up"], ["link", "set", "lo", "up"]):
                ip("netns", "exec", self.name, "ip", *a)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)


class Janus:
    """Janus in the namespace with a configuration of our own: only the echotest plugin and the
    HTTP transport (folders of links to just those), ICE on the veth, no STUN server."""

    def __init__(self, ns):
        self.dir = tempfile.mkdtemp(prefix="cb-janus.")
        self.log = os.path.join(self.dir, "janus.log")
        for kind, lib in (("plugins", "libjanus_echotest.so"), ("transports", "libjanus_http.so")):
            os.mkdir(os.path.join(self.dir, kind))
            os.symlink(os.path.join(JANUS_LIB, kind, lib), os.path.join(self.dir, kind, lib))
        self._write("janus.jcfg", """general: {
    configs_folder = "%(d)s"
    plugins_folder = "%(d)s/plugins"
    transports_folder = "%(d)s/transports"
    events_folder = "%(d)s/none"
    loggers_folder = "%(d)s/none"
    debug_level = 3
    admin_secret = "%(s)s"
}
media: { rtp_port_range = "20000-40000" }
nat: { ice_enforce_list = "%(i)s" }
plugins: { }
transports: { }
""" % {"d": self.dir, "s": os.urandom(12).hex(), "i": ns.ns_if})
        self._write("janus.transport.http.jcfg", """general: {
    base_path = "/janus"
    http = true
    port = %d
    https = false
}
admin: { admin_http = false }
""" % JANUS_PORT)
        self._write("janus.plugin.echotest.jcfg", "general: { }\n")
        self.url = "http://%s:%d/janus" % (ns.inside, JANUS_PORT)
        with open(self.log, "wb") as log:
            # ip netns exec execs janus: the PID is janus'; a core it dumps stays in self.dir
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", ns.name, JANUS, "-C", os.path.join(self.dir, "janus.jcfg"),
                 "-F", self.dir], cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(self.url + "/info", timeout=2) as r:
                    if json.load(r).get("janus") == "server_info":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = join_test.tail(self.log)
                self.stop()
                raise RuntimeError("janus did not start:\n" + why)
            time.sleep(0.2)

    def _write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def cpu_ns(self):
        return stat_cpu_ns("/proc/%d/stat" % self.proc.pid)

    def stop(self):
        harness.stop_process(self.proc, 10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Page:
    """An HTTP server on 127.0.0.1 (a secure context without TLS) serving janus.html."""

    def __init__(self):
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=HERE)  # noqa
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def janus_part(res):
    """Janus' us per RTP packet, or None when it could not be measured."""
    ns = janus = page = turn = browser = None
    try:
        ns = Netns()
        turn = coturn.Coturn(relay_ip=ns.host)
        janus = Janus(ns)
        page = Page()
        browser = cdp.Browser(extra_args=CAMERA)
        url = "http://127.0.0.1:%d/janus.html?%s" % (page.port, urllib.parse.urlencode(
            {"janus": janus.url, "turn": turn.url()}))
        tab = browser.new_tab(url)
        tab.wait_until("bench.error || (bench.pc && bench.pc.connectionState === 'connected'"
                       " && bench.counts().then((c) => c.frames > 0))", timeout=30)
        err = tab.evaluate("bench.error")
        res.require(not err, "janus echotest: %s" % (err or "the echo is decoded"))
        time.sleep(SETTLE)
        count = lambda: sum(tab.evaluate("bench.counts()")[k] for k in ("sent", "received"))  # noqa
        us, pps, cpu = measure(janus.cpu_ns, count)
        print("janus echotest: %.0f RTP packets/s in+out, %.1f ms CPU/s, %.1f us/packet" %
              (pps, cpu / 1e6, us), flush=True)
        return us
    except (join_test.Failed, cdp.CDPError, cdp.JSError, TimeoutError, RuntimeError, OSError,
            subprocess.CalledProcessError) as e:
        res.check(False, "janus: %s: %s" % (type(e).__name__, e))
        if janus is not None:
            print(join_test.tail(janus.log, 15))
        return None
    finally:
        for x in (browser, page, janus, turn, ns):
            if x is not None:
                x.stop()


def leg_packets(daemon):
    """Every leg's RTP packets in (rx packetsReceived) and out (tx packetsSent), and the sum of
    their packetsLost."""
    code, _, body = daemon.api("GET", "/api/v1/callLegs?limit=50")
    total = lost = 0
    for leg in ET.fromstring(body) if code == 200 else []:
        _, _, one = daemon.api("GET", "/api/v1/callLegs/" + leg.get("id"))
        for s in ET.fromstring(one).iter():
            if s.tag in ("rxAudio", "rxVideo", "txAudio", "txVideo"):
                total += int(s.findtext("packetsReceived") or s.findtext("packetsSent") or 0)
                lost += int(s.findtext("packetsLost") or 0)
    return total, lost


def open_guests(res, browsers, daemon, space, n):
    """n guests joined and decoding every other one's video: [(name, tab, leg)]."""
    joined = join_test.join_all(res, browsers, daemon, space, n)
    for name, tab, leg in joined:
        res.require(join_test.media_of(tab, [o for _, _, o in joined if o != leg]) is not None,
                    "%s decodes every other guest" % name)
    return joined


def ours_part(res, path, work, parties, perf=False):
    """callbridged's media thread us per RTP packet in a call of 'parties' browsers."""
    turn = daemon = None
    os.makedirs(work)
    browsers = join_test.Browsers(res, work)
    browsers.new_tab = _camera_tab(browsers)
    try:
        turn = coturn.Coturn()
        daemon = join_test.Daemon(path, work)
        space = join_test.set_up(res, daemon, turn)
        joined = open_guests(res, browsers, daemon, space, parties)
        tid = thread_named(daemon.proc.pid, "cb-media")
        res.require(tid is not None, "callbridged's media thread cb-media is %s" % tid)
        time.sleep(SETTLE)
        cpu = lambda: stat_cpu_ns("/proc/%d/task/%d/stat" % (daemon.proc.pid, tid))  # noqa
        lost0 = leg_packets(daemon)[1]
        us, pps, ns = measure(cpu, lambda: leg_packets(daemon)[0])
        lost = leg_packets(daemon)[1] - lost0
        print("callbridged %d-party: %.0f RTP packets/s in+out, %.1f ms CPU/s, %.1f us/packet, "
              "%d packets lost in the window (%.2f %% of those counted; the streams' packetsLost)" %
              (parties, pps, ns / 1e6, us, lost, 100.0 * lost / max(1.0, pps * WINDOW)),
              flush=True)
        if perf:
            perf_media(daemon.proc.pid, tid, work)
        if len(joined) == 2:
            join_times(res, browsers, daemon, space)
        return us
    except (join_test.Failed, cdp.CDPError, cdp.JSError, TimeoutError, RuntimeError, OSError,
            ET.ParseError) as e:
        res.check(False, "callbridged %d-party: %s: %s" % (parties, type(e).__name__, e))
        return None
    finally:
        browsers.stop()
        if daemon is not None:
            daemon.stop()
        if turn is not None:
            turn.stop()


def _camera_tab(browsers):
    """Browsers.new_tab with the 30 fps camera: its browsers are started with CAMERA."""
    def new_tab(url):
        for b in browsers.browsers:
            if len(b._tabs) < join_test.TABS_PER_BROWSER:
                return b.new_tab(url)
        b = cdp.Browser(extra_args=CAMERA)
        browsers.browsers.append(b)
        return b.new_tab(url)
    return new_tab


def perf_media(pid, tid, work, graph=False):
    """The media thread's top symbols over PERF_SECONDS, or why perf could not say; with graph,
    the call graphs are recorded (DWARF: Debian's libraries have no frame pointers) and kept in work/perf.data for perf report."""
    data = os.path.join(work, "perf.data")
    rec = subprocess.run(["perf", "record", "-q", "-F", "5000"] + (["--call-graph", "dwarf"] if graph else []) +
                         ["-t", str(tid), "-o", data, "--", "sleep", str(PERF_SECONDS)],
                         capture_output=True, text=True)
    if rec.returncode != 0:
        print("perf record does not work here: %s" % rec.stderr.strip()[:300])
        return
    print("perf: callbridged's media thread (pid %d tid %d) over %d s:" % (pid, tid, PERF_SECONDS))
    if graph and os.environ.get("CB_BENCH_PERF_DATA"):  # kept for a closer look by hand
        shutil.copy(data, os.environ["CB_BENCH_PERF_DATA"])
    for sort, top in (("dso", 6), ("dso,symbol", 15)):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g",
                              "none", "--sort", sort, "--percent-limit", "0.5"],
                             capture_output=True, text=True)
        lines = [x for x in rep.stdout.splitlines() if x.strip() and not x.startswith("#")]
        print("  by %s:" % sort)
        for line in lines[:top]:
            print("    " + " ".join(line.split()).removesuffix(" - -"))


def join_times(res, browsers, daemon, space):
    """A second guest joins the first JOINS times; its page open to first remote frame."""
    ms = []
    for i in range(JOINS):
        tab = browsers.new_tab(join_test.guest_url(daemon, space["callId"], space["secret"],
                                                   "Joiner%d" % i))
        try:
            ms.append(tab.wait_until("cb.firstFrameMs", timeout=20))
            tab.evaluate("document.getElementById('leave').click()")
            tab.wait_until("cb.state !== 'connected'", timeout=5)
        except TimeoutError:
            res.check(False, "join %d: no remote frame within 20 s (%s)" % (
                i + 1, tab.evaluate("[cb.state, cb.endReason]")))
        finally:
            tab.close()
    if ms:
        print("join time (page open to first decoded remote frame), %d joins: median %.0f ms, "
              "range %.0f-%.0f ms (goal < 1500 ms)" % (len(ms), statistics.median(ms), min(ms),
                                                       max(ms)), flush=True)


def new_space(daemon):
    """A coSpace with a callId and a secret (a room of the capacity part)."""
    space = {"callId": str(100000000 + random.randrange(900000000)),
             "secret": os.urandom(12).hex()}
    daemon.create("/api/v1/coSpaces", dict(space, name="Capacity room",
                                           uri="cap." + space["callId"]))
    return space


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))


def run_rooms(peer, daemon, rooms):
    """rooms rooms of CAP_ROOM rtcpeer guests for CAP_SECONDS: their JSON summaries and the
    daemon's RSS growth while they were in."""
    spaces = [new_space(daemon) for _ in range(rooms)]
    rss0 = rss_kb(daemon.proc.pid)
    procs = [subprocess.Popen([peer, "--url", daemon.url, "--call-id", sp["callId"], "--secret",
                               sp["secret"], "--guests", str(CAP_ROOM), "--seconds",
                               str(CAP_SECONDS), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for sp in spaces]
    time.sleep(CAP_SECONDS * 0.7)
    grown = rss_kb(daemon.proc.pid) - rss0
    guests = []
    for p in procs:
        try:
            out = p.communicate(timeout=CAP_SECONDS + 60)[0]
        except subprocess.TimeoutExpired:
            harness.stop_process(p)
            out = ""
        guests += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    return guests, grown


def capacity_part(res, path, work):
    """Rooms of CAP_ROOM rtcpeer guests, more each step, until loss passes LOSS_LIMIT % (or
    fewer than half the guests connect)."""
    peer = os.path.join(os.path.dirname(path), "rtcpeer")
    if not os.access(peer, os.X_OK):
        print("capacity: TODO, needs %s (scripts/bench/rtcpeer.c; rooms of 5 until loss > "
              "0.1 %%)" % peer)
        return
    # a relay each side per guest, and a step's relays may outlive it by their lifetime
    coturn.RELAY_PORTS = 2 * CAP_ROOM * sum(CAP_STEPS) + 16
    turn = daemon = None
    try:
        os.makedirs(work)
        turn = coturn.Coturn()
        daemon = join_test.Daemon(path, work)
        join_test.set_up(res, daemon, turn)
        for rooms in CAP_STEPS:
            guests, grown = run_rooms(peer, daemon, rooms)
            up = sum(1 for g in guests if g["connected"])
            rx = [s for g in guests for s in g["received"]]
            got, lost = sum(s["packets"] for s in rx), sum(s["lost"] for s in rx)
            loss = 100.0 * lost / max(1, got + lost)
            print("capacity: %d rooms of %d, %d guests connected, %d streams forwarded (received"
                  " with packets), loss %.3f %%, RSS +%d kB while in (%.0f kB per leg)" % (
                      rooms, CAP_ROOM, up, sum(1 for s in rx if s["packets"]), loss, grown,
                      grown / max(1, rooms * CAP_ROOM)), flush=True)
            ends = sorted({g["end"] for g in guests if not g["connected"]})
            if up < rooms * CAP_ROOM:
                print("capacity: %d guests did not connect: %s" % (rooms * CAP_ROOM - up, ends))
            # a guest that does not connect is reported, not the limit: the limit is loss
            if loss > LOSS_LIMIT or up < rooms * CAP_ROOM // 2:
                break
    except (join_test.Failed, RuntimeError, OSError, ValueError, KeyError) as e:
        res.check(False, "capacity: %s: %s" % (type(e).__name__, e))
    finally:
        if daemon is not None:
            daemon.stop()
        if turn is not None:
            turn.stop()


def peer_cost_part(res, path, work):
    """callbridged's media thread us per RTP packet in one room of CAP_ROOM rtcpeer guests, and
    perf's call graphs of the thread (kept in work/perf.data while the run lasts)."""
    peer = os.path.join(os.path.dirname(path), "rtcpeer")
    if not os.access(peer, os.X_OK):
        print("peer-cost: skipped, needs %s" % peer)
        return None
    turn = daemon = proc = err = None
    try:
        os.makedirs(work)
        err = open(os.path.join(work, "rtcpeer.err"), "w")
        turn = coturn.Coturn()
        daemon = join_test.Daemon(path, work)
        join_test.set_up(res, daemon, turn)
        sp = new_space(daemon)
        seconds = int(SETTLE + WINDOW + PERF_SECONDS + 20)
        proc = subprocess.Popen([peer, "--url", daemon.url, "--call-id", sp["callId"], "--secret",
                                 sp["secret"], "--guests", str(CAP_ROOM), "--seconds",
                                 str(seconds), "--json"], stdout=subprocess.PIPE,
                                stderr=err, text=True)
        tid = thread_named(daemon.proc.pid, "cb-media")
        res.require(tid is not None, "callbridged's media thread cb-media is %s" % tid)
        time.sleep(SETTLE + 5)  # joins, ICE and DTLS of five guests take a few seconds
        cpu = lambda: stat_cpu_ns("/proc/%d/task/%d/stat" % (daemon.proc.pid, tid))  # noqa
        us, pps, ns = measure(cpu, lambda: leg_packets(daemon)[0])
        print("peer-cost: %d rtcpeer guests: %.0f RTP packets/s in+out, %.1f ms CPU/s, "
              "%.2f us/packet" % (CAP_ROOM, pps, ns / 1e6, us), flush=True)
        perf_media(daemon.proc.pid, tid, work, graph=True)
        out = proc.communicate(timeout=seconds + 60)[0]
        guests = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        rx = [s for g in guests for s in g["received"]]
        got, lost = sum(s["packets"] for s in rx), sum(s["lost"] for s in rx)
        if not res.check(sum(1 for g in guests if g["connected"]) == CAP_ROOM,
                         "peer-cost: every guest connected"):
            print(join_test.tail(os.path.join(work, "rtcpeer.err"), 10))
        print("peer-cost: the guests received %d packets, lost %d (%.3f %%)" % (
            got, lost, 100.0 * lost / max(1, got + lost)), flush=True)
        return us
    except (join_test.Failed, RuntimeError, OSError, ValueError, KeyError, ET.ParseError,
            subprocess.TimeoutExpired) as e:
        res.check(False, "peer-cost: %s: %s" % (type(e).__name__, e))
        return None
    finally:
        if proc is not None and proc.poll() is None:
            harness.stop_process(proc)
        if err is not None:
            err.close()
        if daemon is not None:
            daemon.stop()
        if turn is not None:
            turn.stop()


PARTS = ("janus", "2-party", "5-party", "capacity", "peer-cost")


def parse_args(argv):
    """(the daemon's path, the parts to run), or None when the arguments are wrong."""
    parts = PARTS
    if len(argv) == 3 and argv[0] == "--parts":
        parts = tuple(argv[1].split(","))
        argv = argv[2:]
    if len(argv) != 1 or any(p not in PARTS for p in parts):
        return None
    return argv[0], parts


def main():
    args = parse_args(sys.argv[1:])
    if args is None:
        print(__doc__.split("\n")[-2])
        return 2
    path, wanted = args
    browsers = {"janus", "2-party", "5-party"} & set(wanted)
    if browsers and (not cdp.chromium_present() or not os.access(JANUS, os.X_OK)):
        print("webrtc bench: skipped (needs %s and %s)" % (cdp.CHROMIUM, JANUS))
        return 0
    parts = {p: Results("webrtc bench, %s" % p) for p in wanted}
    work = tempfile.mkdtemp(prefix="cb-bench-webrtc.")
    try:
        print("load before: %s" % open("/proc/loadavg").read().strip())
        # one Results per part: join_all gives up on any failure already counted in its own
        janus = janus_part(parts["janus"]) if "janus" in parts else None
        two = five = None
        if "2-party" in parts:
            two = ours_part(parts["2-party"], path, os.path.join(work, "2"), 2)
        if "5-party" in parts:
            five = ours_part(parts["5-party"], path, os.path.join(work, "5"), 5, perf=True)
        for name, us in (("2-party", two), ("5-party", five)):
            if janus and us:
                print("ours/Janus, %s: %.2f (goal <= 1)" % (name, us / janus))
        if "capacity" in parts:
            capacity_part(parts["capacity"], path, os.path.join(work, "cap"))
        if "peer-cost" in parts:
            peer_cost_part(parts["peer-cost"], path, os.path.join(work, "peer"))
        print("load after: %s" % open("/proc/loadavg").read().strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return max(r.exit_status() for r in parts.values())


if __name__ == "__main__":
    sys.exit(main())
