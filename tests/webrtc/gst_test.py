#!/usr/bin/python3
"""The end-to-end test with GStreamer: two gst_client.py guests join one space of a callbridged and
each must decode the other's video and receive its audio, through coturn, relay only.

libnice gathers nothing in a namespace whose only interface is lo, so the guests run in a network
namespace of their own (cbgst-<pid>) joined to the host by a veth pair: host end 10.77.<n>.1/24,
namespace end 10.77.<n>.2/24. coturn and callbridged listen on the host end, which both sides
reach. The admin API makes the turnServer (serverAddress and clientAddress the coturn) and the
coSpace; GET /api/v1/callLegs must show the two legs while they talk.

Usage: gst_test.py path/to/callbridged      the end-to-end test
       gst_test.py --selfcheck              no callbridged: two webrtcbins through the same coturn
Exit 0 pass, 1 fail, 77 skip (not root, or a GStreamer element missing). Every process started
here is stopped by its PID, and the namespace and the veth pair are deleted, also on failure.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "gst_client.py")
PYTHON = "/usr/bin/python3"  # Debian's, which sees the gi bindings
TURNSERVER = "/usr/bin/turnserver"
ELEMENTS = ("webrtcbin", "nicesrc", "nicesink", "dtlssrtpenc", "srtpenc", "videotestsrc", "vp8enc",
            "vp8dec", "rtpvp8pay", "rtpvp8depay", "audiotestsrc", "opusenc", "opusdec",
            "rtpopuspay", "rtpopusdepay")
SKIP = 77


def log(msg):
    sys.stderr.write("gst_test: %s\n" % msg)
    sys.stderr.flush()


def missing_elements():
    """The GStreamer elements (or the Python bindings) this test needs that are not installed."""
    probe = ("import gi, sys\ngi.require_version('Gst', '1.0')\ngi.require_version('GstWebRTC', "
             "'1.0')\ngi.require_version('GstSdp', '1.0')\nfrom gi.repository import Gst\n"
             "Gst.init(None)\nprint(' '.join(e for e in sys.argv[1:] "
             "if Gst.ElementFactory.find(e) is None))\n")
    try:
        out = subprocess.run([PYTHON, "-c", probe] + list(ELEMENTS), capture_output=True,
                             text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return "python3-gst-1.0 (%s)" % err
    if out.returncode != 0:
        return "the GStreamer Python bindings (%s)" % out.stderr.strip().splitlines()[-1:]
    return out.stdout.strip()


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Net:
    """The namespace and the veth pair, with n picked from the pid and not already routed."""

    def __init__(self):
        self.ns = "cbgst-%d" % os.getpid()
        self.host_if = "cbgh%d" % os.getpid()
        self.ns_if = "cbgn%d" % os.getpid()
        self.made_ns = self.made_link = False
        routes = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True,
                                check=True).stdout
        used = {int(m) for m in re.findall(r"^10\.77\.(\d+)\.", routes, re.M)}
        self.n = next(((os.getpid() + k) % 250 + 1 for k in range(250)
                       if (os.getpid() + k) % 250 + 1 not in used), None)
        if self.n is None:
            raise RuntimeError("every 10.77.n.0/24 is routed already")
        self.host = "10.77.%d.1" % self.n
        self.guest = "10.77.%d.2" % self.n

    def up(self):
        sh("ip", "netns", "add", self.ns)
        self.made_ns = True
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        self.made_link = True
        sh("ip", "link", "set", self.ns_if, "netns", self.ns)
        sh("ip", "addr", "add", self.host + "/24", "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        sh("ip", "-n", self.ns, "addr", "add", self.guest + "/24", "dev", self.ns_if)
        sh("ip", "-n", self.ns, "link", "set", self.ns_if, "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")

    def down(self):
        if self.made_link:  # deleting one end deletes the pair, wherever the other end is
            subprocess.run(["ip", "link", "del", self.host_if], check=False,
                           stderr=subprocess.DEVNULL)
        if self.made_ns:
            subprocess.run(["ip", "netns", "del", self.ns], check=False, stderr=subprocess.DEVNULL)

    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.ns] + argv


def free_port(addr):
    """A port free on addr for both UDP and TCP (the kernel's pick for UDP, checked for TCP)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((addr, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((addr, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on %s" % addr)


def stun_answers(addr, port):
    """True when a STUN Binding request to addr:port is answered with a Binding success."""
    txid = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, (addr, port))
            reply = sock.recv(2048)
        except OSError:
            return False
    return len(reply) >= 20 and reply[:2] == b"\x01\x01" and reply[8:20] == txid


class Procs:
    """Processes started here, stopped by PID (SIGTERM, then SIGKILL after 5 s)."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        proc = subprocess.Popen(argv, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)


def start_coturn(procs, net, tmp):
    port = free_port(net.host)
    low = 50000 + (os.getpid() * 7) % 14800
    argv = [TURNSERVER, "-n", "--listening-ip=" + net.host, "--relay-ip=" + net.host,
            "--listening-port", str(port), "--min-port=%d" % low, "--max-port=%d" % (low + 199),
            "--realm=test.local", "--no-tls", "--no-dtls", "--no-cli", "--lt-cred-mech",
            "--user=alice:secret", "--log-file", os.path.join(tmp, "turn.log"), "--simple-log",
            "--pidfile=/dev/null", "--no-stdout-log", "--verbose"]
    proc = procs.start(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):  # at most 20 s: ready when a Binding request is answered
        if proc.poll() is not None:
            raise RuntimeError("turnserver exited at start (%s)" % proc.returncode)
        if stun_answers(net.host, port):
            return port
    raise RuntimeError("turnserver did not answer STUN on %s:%d" % (net.host, port))


def read_lines(proc, out, path):
    """The client's JSON lines into out, and as they came into path (kept with CB_KEEP_LOGS=1),
    until it closes its stdout."""
    with open(path, "w") as copy:
        for line in proc.stdout:
            copy.write(line)
            try:
                out.append(json.loads(line))
            except ValueError:
                continue


def run_clients(procs, net, tmp, argvs, gap):
    """Starts each client argv in the namespace, gap seconds apart; wait_clients collects them.
    Client i's output and errors are also kept in tmp/client-i.jsonl and tmp/client-i.err."""
    runs = []
    for i, argv in enumerate(argvs):
        if i:
            time.sleep(gap)
        with open(os.path.join(tmp, "client-%d.err" % i), "w") as err:
            proc = procs.start(net.exec_argv([PYTHON, CLIENT] + argv), stdout=subprocess.PIPE,
                               stderr=err, text=True)
        lines = []
        reader = threading.Thread(target=read_lines, daemon=True,
                                  args=(proc, lines, os.path.join(tmp, "client-%d.jsonl" % i)))
        reader.start()
        runs.append((proc, lines, reader))
    return runs


def wait_clients(procs, runs, timeout):
    """Each client's exit status and parsed JSON lines, once all are done (a client still running
    after timeout seconds is stopped)."""
    deadline = time.monotonic() + timeout
    results = []
    for proc, lines, reader in runs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log("a client overran its time; stopping it")
        status = procs.stop(proc)
        reader.join(5)
        results.append((status, lines))
    return results


def summary_of(lines):
    return next((line for line in reversed(lines) if line.get("event") == "summary"), None)


def selfcheck(procs, net, tmp):
    port = start_coturn(procs, net, tmp)
    turn = "turn://alice:secret@%s:%d" % (net.host, port)
    runs = run_clients(procs, net, tmp, [["--selfcheck-loop", "--turn=" + turn, "--seconds=10"]], 0)
    (status, lines), = wait_clients(procs, runs, 60)
    out = summary_of(lines)
    log("loop summary: %s" % json.dumps(out, sort_keys=True))
    with open(os.path.join(tmp, "turn.log"), errors="replace") as f:
        allocs = sum("ALLOCATE processed, success" in line for line in f)
    ok = status == 0 and out is not None and out["selected_pair_types"] == ["relay", "relay"]
    log("coturn allocations: %d" % allocs)
    return ok and allocs >= 2


class Api:
    """callbridged's admin API: Basic auth, form-encoded bodies, a self-signed certificate."""

    def __init__(self, base, password):
        self.base = base
        self.auth = "Basic " + base64.b64encode(("admin:" + password).encode()).decode()
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def call(self, method, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method,
                                     headers={"Authorization": self.auth})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=15) as resp:
                return resp.status, resp.headers, resp.read(1 << 20).decode(errors="replace")
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read(1 << 20).decode(errors="replace")

    def create(self, path, form):
        status, headers, body = self.call("POST", path, form)
        if status != 200 or not headers.get("Location"):
            raise RuntimeError("POST %s: %d %s" % (path, status, body[:300]))
        return headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def start_callbridged(procs, daemon, net, tmp, password):
    env = dict(os.environ, CALLBRIDGE_ADMIN_PASSWORD=password)
    logf = os.path.join(tmp, "daemon.log")
    with open(logf, "w") as out:
        proc = procs.start([daemon, "--data-dir", os.path.join(tmp, "data"), "--bind", net.host,
                            "--listen", "0", "--threads", "2"], env=env, stdout=out,
                           stderr=subprocess.STDOUT)
    pattern = re.compile(r"listening on https://%s:(\d+)" % re.escape(net.host))
    for _ in range(300):  # at most 30 s
        with open(logf, errors="replace") as f:
            text = f.read()
        port = pattern.search(text) if " ready (" in text else None
        if port:
            return proc, int(port.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError("callbridged did not start:\n" + text[-2000:])


def turn_success(api, turn_id):
    """True once the turnServer's status says success, within 30 s (a GET may wait 8 s itself
    for the first probe)."""
    deadline = time.monotonic() + 30
    body = ""
    while time.monotonic() < deadline:
        status, _, body = api.call("GET", "/turnServers/%s/status" % turn_id)
        if status == 200 and "<status>success</status>" in body:
            return True
        time.sleep(1)
    log("turnServer status never said success: %s" % body[:500])
    return False


def leg_count(api):
    status, _, body = api.call("GET", "/callLegs")
    if status != 200:
        return -1
    root = ET.fromstring(body)
    return int(root.get("total", len(root.findall("callLeg"))))


def end_to_end(procs, net, tmp, daemon):
    port = start_coturn(procs, net, tmp)
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    os.mkdir(os.path.join(tmp, "data"))
    daemon_proc, https = start_callbridged(procs, daemon, net, tmp, password)
    base = "https://%s:%d" % (net.host, https)
    api = Api(base, password)
    turn = "%s:%d" % (net.host, port)
    turn_id = api.create("/turnServers", {"serverAddress": turn, "clientAddress": turn,
                                          "username": "alice", "password": "secret",
                                          "type": "standard"})
    call_id = str(int.from_bytes(os.urandom(4), "big") % 900000000 + 100000000)
    secret = base64.urlsafe_b64encode(os.urandom(12)).decode()
    api.create("/coSpaces", {"name": "gst %d" % os.getpid(), "uri": "gst%d" % os.getpid(),
                             "callId": call_id, "secret": secret})
    if not turn_success(api, turn_id):
        return False
    seconds = 20
    common = ["--url=" + base, "--call-id=" + call_id, "--secret=" + secret,  # may start with -
              "--seconds=%d" % seconds]
    runs = run_clients(procs, net, tmp, [common + ["--name", "Alice"], common + ["--name", "Bob"]], 3)
    time.sleep(seconds / 2)
    legs = leg_count(api)
    log("callLegs while both talk: %d" % legs)
    results = wait_clients(procs, runs, seconds + 30)
    ok = legs == 2
    sums = [summary_of(lines) for _, lines in results]
    joined = [next((line.get("leg") for line in lines if line.get("event") == "joined"), None)
              for _, lines in results]
    for i, (status, lines) in enumerate(results):
        peer = joined[1 - i]
        out = sums[i] or {}
        log("client %d (leg %s) exit %s: %s" % (i, joined[i], status,
                                                 json.dumps(out, sort_keys=True)))
        got_video = (out.get("frames_decoded") or {}).get(peer, 0) > 0
        got_audio = (out.get("audio_buffers") or {}).get(peer, 0) > 0
        for line in lines:
            if line.get("event") in ("join-refused", "offer", "refused", "error", "end"):
                log("client %d: %s" % (i, json.dumps(line, sort_keys=True)))
        relayed = out.get("selected_pair_types") == ["relay", "relay"]
        if status != 0 or not got_video or not got_audio or peer is None or not relayed:
            log("client %d: decoded video from the other: %s, audio: %s, relay pair: %s"
                % (i, got_video, got_audio, relayed))
            ok = False
    if procs.stop(daemon_proc) != 0:
        log("callbridged exited with %s after SIGTERM" % daemon_proc.returncode)
        ok = False
    with open(os.path.join(tmp, "daemon.log"), errors="replace") as f:
        text = f.read()
    if password in text or secret in text:
        log("a password or the space's secret appears in callbridged's log")
        ok = False
    return ok


def main():
    args = sys.argv[1:]
    if args not in (["--selfcheck"],) and (len(args) != 1 or args[0].startswith("-")):
        sys.stderr.write(__doc__.split("\n\n")[2] + "\n")
        return 2
    if os.geteuid() != 0:
        log("skip: network namespaces need root")
        return SKIP
    missing = missing_elements()
    if missing:
        log("skip: missing GStreamer elements: %s" % missing)
        return SKIP
    if not os.access(TURNSERVER, os.X_OK):
        log("fail: %s (Debian package coturn) is not installed" % TURNSERVER)
        return 1
    if args[0] != "--selfcheck" and not os.access(args[0], os.X_OK):
        log("fail: %s is not an executable" % args[0])
        return 1
    # SIGTERM (a harness's timeout) unwinds through the finally below like an error does
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="cbgst.")
    procs = Procs()
    net = Net()
    ok = False
    keep = False
    try:
        net.up()
        if args[0] == "--selfcheck":
            ok = selfcheck(procs, net, tmp)
        else:
            ok = end_to_end(procs, net, tmp, os.path.abspath(args[0]))
    except (RuntimeError, OSError, subprocess.CalledProcessError, ET.ParseError) as err:
        detail = getattr(err, "stderr", b"") or b""
        log("error: %s %s" % (err, detail.decode(errors="replace").strip()))
    finally:
        procs.stop_all()
        net.down()
        keep = os.environ.get("CB_KEEP_LOGS") == "1"
        if keep:
            log("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    log("pass" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
