#!/usr/bin/python3
"""Proves the DevTools driver (cdp.py) and the coturn set-up (coturn.py) against real peers, with
no callbridged: a static page served over http://127.0.0.1 (a secure context, so getUserMedia
works) runs two RTCPeerConnections that call each other with the fake camera and microphone, relay
only, through a coturn started here. Passes when both ends decode a growing number of video frames,
receive audio packets, and the nominated pair is relay on both its ends.
Usage: tests/webrtc/selfcheck.py [--keep]   exit 0 pass, 1 fail, 77 chromium absent (skip).
"""

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import coturn  # noqa: E402
from harness import Results  # noqa: E402

# Two peers in one page; ICE candidates are exchanged in the SDP once gathering completes, which
# through a TURN server on loopback takes well under a second.
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>selfcheck</title></head>
<body><script>
'use strict';
window.check = {ready: false, error: null};
function gathered(pc) {
    if (pc.iceGatheringState === 'complete')
        return Promise.resolve();
    return new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete')
            resolve();
    }));
}
async function summary(pc) {
    const r = await pc.getStats();
    const out = {connection: pc.connectionState, framesDecoded: 0, packetsReceived: 0, pair: null};
    let pair = null;
    r.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId)
            pair = r.get(s.selectedCandidatePairId);
    });
    r.forEach((s) => {
        if (!pair && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded')
            pair = s;
        if (s.type === 'inbound-rtp' && s.kind === 'video')
            out.framesDecoded += s.framesDecoded || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio')
            out.packetsReceived += s.packetsReceived || 0;
    });
    if (pair)
        out.pair = {local: r.get(pair.localCandidateId).candidateType,
                    remote: r.get(pair.remoteCandidateId).candidateType};
    return out;
}
window.summaries = async () => ({a: await summary(window.pcs.a), b: await summary(window.pcs.b)});
(async () => {
    const q = new URLSearchParams(location.search);
    const config = {
        iceServers: [{urls: [q.get('turn')], username: q.get('user'), credential: q.get('pass')}],
        iceTransportPolicy: 'relay', bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require'};
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    window.pcs = {a, b};
    for (const pc of [a, b]) {
        const media = await navigator.mediaDevices.getUserMedia(
            {audio: true, video: {width: 640, height: 480}});
        for (const t of media.getTracks())
            pc.addTrack(t, media);
    }
    await a.setLocalDescription(await a.createOffer());
    await gathered(a);
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await gathered(b);
    await a.setRemoteDescription(b.localDescription);
    window.check.ready = true;
})().catch((e) => { window.check.error = String(e); });
</script></body></html>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(res, turn, tab):
    state = tab.wait_until("window.check && (window.check.ready || window.check.error) && "
                           "window.check", timeout=20)
    if not res.check(not state.get("error"), "the page set up both peers (%s)" %
                     (state.get("error") or "offer and answer applied")):
        return
    tab.wait_until("pcs.a.connectionState === 'connected' && pcs.b.connectionState === "
                   "'connected'", timeout=20)
    res.check(True, "both peers connected")
    # the first frames decode within about a second of the connection
    first = tab.wait_until("summaries().then((s) => s.a.framesDecoded > 0 && "
                           "s.b.framesDecoded > 0 && s)", timeout=15)
    time.sleep(1.5)
    later = tab.evaluate("summaries()")
    for end in ("a", "b"):
        f0, f1 = first[end]["framesDecoded"], later[end]["framesDecoded"]
        res.check(f1 > f0 > 0, "peer %s decodes video: framesDecoded %d then %d" % (end, f0, f1))
        res.check(later[end]["packetsReceived"] > 0,
                  "peer %s receives audio: %d packets" % (end, later[end]["packetsReceived"]))
        pair = later[end]["pair"] or {}
        res.check(pair.get("local") == "relay" and pair.get("remote") == "relay",
                  "peer %s: the nominated pair is relay on both ends (%s/%s)" %
                  (end, pair.get("local"), pair.get("remote")))
    allocations = coturn_allocations(turn)
    res.check(allocations >= 2, "coturn logged %d allocations" % allocations)


def coturn_allocations(turn):
    try:
        with open(turn.log, "rb") as f:
            return f.read().count(b"ALLOCATE processed, success")
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="print the temp dirs and keep the page's")
    args = ap.parse_args()
    if not cdp.chromium_present():
        print("skip - %s is absent" % cdp.CHROMIUM)
        return 77
    res = Results("selfcheck")
    site = tempfile.mkdtemp(prefix="cb-selfcheck.")
    turn = server = browser = tab = None
    try:
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write(PAGE)
        turn = coturn.Coturn(verbose=True)
        res.check(True, "coturn %d answers STUN on 127.0.0.1:%d" % (turn.proc.pid, turn.port))
        server = serve(site)
        url = "http://127.0.0.1:%d/index.html?turn=%s&user=%s&pass=%s" % (
            server.server_address[1], turn.url(), coturn.USER, coturn.PASSWORD)
        browser = cdp.Browser()
        res.check(True, "%s started (pid %d)" % (browser.version, browser.proc.pid))
        tab = browser.new_tab(url)
        run(res, turn, tab)
    except (cdp.CDPError, cdp.JSError, TimeoutError, RuntimeError, OSError) as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
        if tab is not None:
            print("page console:\n  " + "\n  ".join(tab.console))
        if turn is not None:
            print("coturn log:\n" + turn.log_tail())
    finally:
        if browser is not None:
            browser.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
        if turn is not None:
            turn.stop()
        if args.keep:
            print("page kept in %s" % site)
        else:
            shutil.rmtree(site, ignore_errors=True)
    return res.exit_status()


if __name__ == "__main__":
    sys.exit(main())
