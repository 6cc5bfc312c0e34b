#!/usr/bin/python3
"""A meeting guest built on GStreamer's webrtcbin: a second WebRTC implementation, independent of
the browser page, for the end-to-end tests (tests/webrtc/gst_test.py) and for load.

It speaks the guest signalling of /meeting/api as web/join.js does: join with the meeting ID, the
secret and a display name, long-poll the events, answer every offer (callbridged is always the
offerer), trickle its own candidates and leave at the end. On the m-lines callbridged receives on
(a=recvonly in the offer) it sends a VP8 test pattern and an Opus sine; on the others' m-lines
(a=sendonly, msid stream id = their leg id) it decodes and counts what arrives. It prints JSON lines
of progress and a last JSON summary; exit 0 when every other participant's video was decoded.

--selfcheck-loop needs no callbridged: a second webrtcbin in this process plays the offerer (the
same shape of offer: a peer's audio and video sendonly, two recvonly slots for ours, a second peer
added by a re-offer) and the guest code answers it, both through the TURN server given, relay
only. Run it where libnice has an address (not in a namespace with only lo).
"""

import argparse
import json
import queue
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# what the guest sends, by kind, with the offer's payload type for the codec
SOURCES = {
    "video": ("videotestsrc is-live=true pattern=ball ! "
              "video/x-raw,width=320,height=240,framerate=15/1 ! vp8enc deadline=1 ! "
              "rtpvp8pay pt=%d"),
    "audio": "audiotestsrc is-live=true wave=sine ! opusenc ! rtpopuspay pt=%d",
}
CODECS = {"video": "VP8/90000", "audio": "OPUS/48000"}
RTP_CAPS = {
    "video": "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=%d",
    "audio": "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=%d",
}
DEPAY = {"video": "rtpvp8depay ! vp8dec", "audio": "rtpopusdepay ! opusdec"}
POLL_SECONDS = 25  # the server answers an empty poll after 20 s
MAX_REPLY = 1 << 20  # the biggest signalling answer read
CAPS_WAIT = 5  # seconds a new source gets to reach webrtcbin with its caps before the answer


def emit(what, **fields):
    """One line of progress on stdout, flushed so that a parent reads it as it happens."""
    fields["event"] = what
    fields["t"] = round(time.monotonic(), 3)
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def turn_url(ice_servers):
    """webrtcbin's turn-server URL from the join answer's first UDP turn: entry (RFC 7065 form
    turn:host:port?transport=udp), user and password URL-encoded; None when there is none."""
    for server in ice_servers or []:
        urls = server.get("urls", [])
        for url in [urls] if isinstance(urls, str) else urls:
            if not url.startswith("turn:"):
                continue
            hostport, _, query = url[len("turn:"):].partition("?")
            if query and "transport=udp" not in query:
                continue
            user = urllib.parse.quote(server.get("username", ""), safe="")
            cred = urllib.parse.quote(server.get("credential", ""), safe="")
            return "turn://%s:%s@%s" % (user, cred, hostport)
    return None


def offer_mlines(text):
    """What the guest needs of each m-line of an offer: kind, mid, direction (the offerer's),
    msid stream id (the sender's leg), and whether it is stopped (port 0 without bundle-only)."""
    ret, msg = GstSdp.SDPMessage.new_from_text(text)
    if ret != GstSdp.SDPResult.OK:
        raise ValueError("the offer does not parse as SDP")
    lines = []
    for i in range(msg.medias_len()):
        media = msg.get_media(i)
        line = {"index": i, "kind": media.get_media(), "mid": None, "dir": "sendrecv",
                "stream": None, "stopped": media.get_port() == 0, "pt": None}
        for j in range(media.attributes_len()):
            attr = media.get_attribute(j)
            if attr.key == "mid":
                line["mid"] = attr.value
            elif attr.key in ("sendonly", "recvonly", "sendrecv", "inactive"):
                line["dir"] = attr.key
            elif attr.key == "msid" and attr.value:
                line["stream"] = attr.value.split()[0]
            elif attr.key == "ssrc" and " msid:" in (attr.value or "") and not line["stream"]:
                line["stream"] = attr.value.split(" msid:", 1)[1].split()[0]
            elif attr.key == "rtpmap" and attr.value and line["pt"] is None:
                pt, _, codec = attr.value.partition(" ")
                if line["kind"] in CODECS and codec.upper().startswith(CODECS[line["kind"]]) \
                        and pt.isdigit():
                    line["pt"] = int(pt)
            elif attr.key == "bundle-only":  # port 0 then means "in the bundle", not stopped
                line["stopped"] = False
        lines.append(line)
    return lines


def promise_sdp(promise, field):
    """The SDP text of the description in a settled promise's reply, or why there is none: an
    error, a reply without the field (seen once in many runs), or an empty description. The text
    is taken here, while the promise still owns the reply. Returns (text, None) or (None, why)."""
    if promise.wait() != Gst.PromiseResult.REPLIED:
        return None, "the promise was not replied"
    reply = promise.get_reply()
    if reply is not None and reply.has_field("error"):
        return None, reply.get_value("error").message
    if reply is None or not reply.has_field(field):
        return None, "the reply has no %s" % field
    desc = reply.get_value(field)
    if desc is None or desc.sdp is None:
        return None, "the %s is empty" % field
    return desc.sdp.as_text(), None


def description(kind, text):
    """A webrtcbin session description of kind (OFFER, ANSWER) from SDP text, or None."""
    ret, msg = GstSdp.SDPMessage.new_from_text(text)
    if ret != GstSdp.SDPResult.OK:
        return None
    return GstWebRTC.WebRTCSessionDescription.new(kind, msg)


def pad_kind(pad):
    """audio or video: the media of the pad's caps (what really arrives), else the kind of its
    transceiver."""
    caps = pad.get_current_caps()
    if caps is not None and caps.get_size() and caps.get_structure(0).has_field("media"):
        return caps.get_structure(0).get_string("media")
    trans = pad.get_property("transceiver")
    kind = trans.get_property("kind") if trans is not None else None
    return {GstWebRTC.WebRTCKind.AUDIO: "audio", GstWebRTC.WebRTCKind.VIDEO: "video"}.get(kind)


class Receiver:
    """Decodes what a webrtcbin receives and counts it per sender: decoded video frames and
    decoded audio buffers. key(pad) names the sender of a src pad."""

    def __init__(self, pipeline, key):
        self.pipeline = pipeline
        self.key = key
        self.frames = {}
        self.audio = {}
        self.lock = threading.Lock()

    def on_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        kind = pad_kind(pad)
        if kind not in DEPAY:
            return
        key = self.key(pad)
        chain = Gst.parse_bin_from_description(
            "queue ! %s ! fakesink name=count sync=false async=false" % DEPAY[kind], True)
        self.pipeline.add(chain)
        chain.sync_state_with_parent()
        counts = self.frames if kind == "video" else self.audio
        with self.lock:
            counts.setdefault(key, 0)

        def count(_pad, _info):
            with self.lock:
                counts[key] = counts.get(key, 0) + 1
            return Gst.PadProbeReturn.OK
        chain.get_by_name("count").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, count)
        pad.link(chain.get_static_pad("sink"))
        emit("receiving", kind=kind, sender=key)

    def counts(self):
        with self.lock:
            return dict(self.frames), dict(self.audio)


class Guest:
    """One webrtcbin answering offers. signal(kind, payload) carries the answer and the candidates
    to the offerer (HTTP POSTs, or the loop's offerer)."""

    def __init__(self, pipeline, name, turn, signal, on_fatal):
        self.pipeline = pipeline
        self.signal = signal
        self.on_fatal = on_fatal
        self.lines = []
        self.linked = {}  # kind -> the m-line index our source feeds
        self.made = set()  # the m-lines given a transceiver
        self.seen = set()  # the senders of video in any offer so far
        self.rx = Receiver(pipeline, self._sender)
        self.offers = []
        self.busy = False
        self.answered = 0
        self.webrtc = Gst.ElementFactory.make("webrtcbin", name)
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.webrtc.set_property("ice-transport-policy", GstWebRTC.WebRTCICETransportPolicy.RELAY)
        if turn:
            self.webrtc.set_property("turn-server", turn)
        pipeline.add(self.webrtc)
        self.webrtc.connect("on-ice-candidate", self._on_candidate)
        self.webrtc.connect("pad-added", self.rx.on_pad)
        self.webrtc.connect("notify::ice-gathering-state", self._on_gathering)
        self.webrtc.connect("notify::ice-connection-state", self._on_ice_state)
        self.webrtc.sync_state_with_parent()

    # offers, one at a time in the main loop
    def offer(self, sdp):
        self.offers.append(sdp)
        self._next()
        return False

    def _next(self):
        if self.busy or not self.offers:
            return
        self.busy = True
        text = self.offers.pop(0)
        try:
            lines = offer_mlines(text)
        except ValueError as err:
            self.on_fatal(str(err))
            return
        self.lines = lines
        self.seen.update(m["stream"] or "mid:%s" % m["mid"] for m in lines
                         if m["kind"] == "video" and m["dir"] == "sendonly" and not m["stopped"])
        emit("offer", mlines=[(m["kind"], m["dir"], m["stream"], m["stopped"]) for m in lines])
        desc = description(GstWebRTC.WebRTCSDPType.OFFER, text)
        promise = Gst.Promise.new_with_change_func(self._remote_set, None)
        self.webrtc.emit("set-remote-description", desc, promise)

    def _remote_set(self, promise, _data):
        reply = promise.get_reply() if promise.wait() == Gst.PromiseResult.REPLIED else None
        if reply is not None and reply.has_field("error"):
            err = reply.get_value("error")
            GLib.idle_add(self.on_fatal, "set-remote-description: %s" % err.message)
            return
        GLib.idle_add(self._prepare)

    def _prepare(self):
        """A transceiver for each new m-line, made in m-line order: webrtcbin 1.22 gives a new
        offered m-line the first unused transceiver whose codecs fit, whatever its direction, so
        the order is what binds them. The slots callbridged receives on get our sources; the
        others' m-lines a recvonly transceiver. A renegotiation finds the old ones by mid."""
        fresh = []
        for line in self.lines:
            if line["index"] in self.made or line["stopped"] or line["pt"] is None:
                continue
            self.made.add(line["index"])
            if line["dir"] == "recvonly" and line["kind"] not in self.linked:
                sink = self._link_source(line)
                if sink is None:
                    return False
                fresh.append(sink)
            elif line["dir"] == "sendonly":
                self.webrtc.emit("add-transceiver",
                                 GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                                 Gst.Caps.from_string(RTP_CAPS[line["kind"]] % line["pt"]))
        self._when_caps(fresh, time.monotonic() + CAPS_WAIT)
        return False

    def _when_caps(self, sinks, deadline):
        """create-answer once the sources just linked have caps on webrtcbin's pads: the answer
        declares each sending m-line's SSRC (a=ssrc) from those caps, and without them it left
        the video m-line without one, so the offerer could not tell our streams apart."""
        if any(sink.get_current_caps() is None for sink in sinks) and time.monotonic() < deadline:
            GLib.timeout_add(20, self._when_caps, sinks, deadline)
            return False
        self._answer(3)
        return False

    def _link_source(self, line):
        kind, pt = line["kind"], line["pt"]
        src = Gst.parse_bin_from_description(SOURCES[kind] % pt, True)
        self.pipeline.add(src)
        caps = Gst.Caps.from_string(RTP_CAPS[kind] % pt)
        sink = self.webrtc.request_pad(self.webrtc.get_pad_template("sink_%u"),
                                       "sink_%u" % line["index"], caps)
        if sink is None or src.get_static_pad("src").link(sink) != Gst.PadLinkReturn.OK:
            self.on_fatal("could not feed m-line %d (%s)" % (line["index"], kind))
            return None
        sink.get_property("transceiver").set_property(
            "direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        src.sync_state_with_parent()
        self.linked[kind] = line["index"]
        emit("sending", kind=kind, mline=line["index"])
        return sink

    def _answer(self, tries):
        def done(promise, _data):
            answer, why = promise_sdp(promise, "answer")
            if answer is None:  # seen once in many runs: the reply without the answer
                if tries > 1:
                    GLib.idle_add(self._answer, tries - 1)
                else:
                    GLib.idle_add(self.on_fatal, "create-answer: " + why)
                return
            GLib.idle_add(self._set_local, answer)
        self.webrtc.emit("create-answer", None, Gst.Promise.new_with_change_func(done, None))
        return False

    def _set_local(self, answer):
        desc = description(GstWebRTC.WebRTCSDPType.ANSWER, answer)
        self.webrtc.emit("set-local-description", desc, Gst.Promise.new())
        self.signal("answer", answer)
        self.answered += 1
        emit("answered", count=self.answered)
        self.busy = False
        self._next()
        return False

    # ICE
    def _on_candidate(self, _webrtc, mline, candidate):
        mid = next((m["mid"] for m in self.lines if m["index"] == mline), None)
        self.signal("candidate", {"candidate": candidate, "sdpMid": mid or str(mline)})

    def _on_gathering(self, webrtc, _pspec):
        state = webrtc.get_property("ice-gathering-state")
        if state == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            mid = self.lines[0]["mid"] if self.lines else "0"
            self.signal("candidate", {"candidate": "", "sdpMid": mid})

    def _on_ice_state(self, webrtc, _pspec):
        emit("ice", state=webrtc.get_property("ice-connection-state").value_nick)

    # what arrives
    def _sender(self, pad):
        """The key a received stream is counted under: the sender's msid stream id (its leg),
        else its mid."""
        trans = pad.get_property("transceiver")
        mid = trans.get_property("mid") if trans is not None else None
        for line in self.lines:
            if mid is not None and line["mid"] == mid:
                return line["stream"] or "mid:" + mid
        return "mid:%s" % mid

    def senders(self):
        """Every leg an offer of this run sent us video from (m-lines neither stopped nor ours),
        including those who left since."""
        return sorted(self.seen)

    def stats(self):
        """The ICE state and the selected pair's [local, remote] candidate types (webrtcbin 1.22
        reports the selected pair only; [] before there is one)."""
        promise = Gst.Promise.new()
        self.webrtc.emit("get-stats", None, promise)
        types = []
        reply = promise.get_reply() if promise.wait() == Gst.PromiseResult.REPLIED else None
        if reply is not None:
            cands = {}
            pairs = []

            def each(field, value):
                if isinstance(value, Gst.Structure):
                    cands[GLib.quark_to_string(field) if isinstance(field, int) else field] = value
                    if value.get_name().endswith("candidate-pair"):
                        pairs.append(value)
                return True
            reply.foreach(each)
            for pair in pairs[:1]:
                for end in ("local-candidate-id", "remote-candidate-id"):
                    cand = cands.get(pair.get_string(end) or "")
                    if cand is not None and cand.has_field("candidate-type"):
                        types.append(candidate_type(cand.get_value("candidate-type")))
        return self.webrtc.get_property("ice-connection-state").value_nick, types


def candidate_type(value):
    """A candidate type from the stats: an enum (an integer in 1.22) or a string."""
    if isinstance(value, str):
        return value
    names = {0: "host", 1: "srflx", 2: "prflx", 3: "relay"}
    nick = getattr(value, "value_nick", None)
    return nick or names.get(int(value), str(value))


class Signalling:
    """The guest side of /meeting/api over HTTPS (the certificate is self-signed)."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.session = None

    def call(self, method, path, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read(MAX_REPLY) or b"{}")
        except urllib.error.HTTPError as err:
            try:
                return err.code, json.loads(err.read(MAX_REPLY) or b"{}")
            except ValueError:
                return err.code, {}

    def join(self, call_id, secret, name):
        status, body = self.call("POST", "/meeting/api/join",
                                 {"callId": call_id, "secret": secret, "name": name})
        if status == 200:
            self.session = body.get("session")
        return status, body

    def post(self, what, payload):
        body = {"session": self.session}
        if what == "answer":
            body["sdp"] = payload
        else:
            body.update(payload)
        return self.call("POST", "/meeting/api/" + what, body)

    def events(self, after):
        query = urllib.parse.urlencode({"session": self.session, "after": after})
        return self.call("GET", "/meeting/api/events?" + query, timeout=POLL_SECONDS)


class Run:
    """The main loop, the pipeline, and the end of the run."""

    def __init__(self, seconds):
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.Pipeline.new("guest")
        self.error = None
        self.ended = None
        GLib.timeout_add(int(seconds * 1000), self.stop)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self._on_error)

    def _on_error(self, _bus, msg):
        err, debug = msg.parse_error()
        self.fatal("%s: %s (%s)" % (msg.src.get_path_string(), err.message, debug))

    def fatal(self, why):
        if self.error is None:
            self.error = why
            emit("error", message=why)
        self.loop.quit()
        return False

    def stop(self):
        self.loop.quit()
        return False

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self.loop.run()

    def close(self):
        self.pipeline.set_state(Gst.State.NULL)


def poster(sig, outbox):
    """POSTs answers and candidates in order, off the streaming threads."""
    while True:
        item = outbox.get()
        if item is None:
            return
        what, payload = item
        status, body = sig.post(what, payload)
        if status != 200:
            emit("refused", what=what, status=status, error=body.get("error"),
                 message=body.get("message"))


def poller(sig, guest, run, stop):
    """Long-polls the events and hands offers, rosters and the end to the main loop."""
    after = 0
    while not stop.is_set():
        try:
            status, body = sig.events(after)
        except (OSError, ValueError) as err:
            GLib.idle_add(run.fatal, "events: %s" % err)
            return
        if status == 410:
            GLib.idle_add(run.fatal, "events: the session is gone")
            return
        if status != 200:
            GLib.idle_add(run.fatal, "events: HTTP %d %s" % (status, body.get("error")))
            return
        for ev in body.get("events", []):
            after = max(after, int(ev.get("seq", 0)))
            if ev.get("type") == "offer":
                GLib.idle_add(guest.offer, ev.get("sdp", ""))
            elif ev.get("type") == "roster":
                emit("roster", participants=ev.get("participants", []))
            elif ev.get("type") == "end":
                emit("end", reason=ev.get("reason"), detail=ev.get("detail"))
                run.ended = ev.get("reason")
                GLib.idle_add(run.stop)
                return


def summary(guest, run, extra):
    frames, audio = guest.rx.counts()
    state, types = guest.stats()
    out = {"frames_decoded": frames, "audio_buffers": audio, "ice_state": state,
           "selected_pair_types": types, "answers": guest.answered, "error": run.error,
           "ended": run.ended}
    out.update(extra)
    emit("summary", **out)
    return out


def join_main(args):
    sig = Signalling(args.url)
    status, body = sig.join(args.call_id, args.secret, args.name)
    if status != 200 or not sig.session:
        emit("join-refused", status=status, error=body.get("error"), message=body.get("message"))
        return 1
    turn = turn_url(body.get("iceServers"))
    emit("joined", leg=body.get("leg"), name=body.get("name"), turn=turn is not None,
         policy=body.get("iceTransportPolicy"))
    run = Run(args.seconds)
    outbox = queue.Queue()
    guest = Guest(run.pipeline, "webrtc", turn, lambda what, p: outbox.put((what, p)), run.fatal)
    stop = threading.Event()
    threads = [threading.Thread(target=poster, args=(sig, outbox), daemon=True),
               threading.Thread(target=poller, args=(sig, guest, run, stop), daemon=True)]
    for thread in threads:
        thread.start()
    run.run()
    stop.set()
    out = summary(guest, run, {"leg": body.get("leg"), "senders": guest.senders()})
    outbox.put(None)
    threads[0].join(5)
    sig.call("POST", "/meeting/api/leave", {"session": sig.session})
    run.close()
    return verdict(out, guest.senders(), args.peers)


def verdict(out, senders, peers):
    """0 when every sender offered in the run (at least `peers` of them) had video decoded."""
    decoded = [s for s in senders if out["frames_decoded"].get(s, 0) > 0]
    if out["error"] is None and len(senders) >= peers and len(decoded) == len(senders):
        return 0
    return 1


class Offerer:
    """The loop's stand-in for callbridged: a webrtcbin offering what callbridged offers a guest
    (its own audio and video slots recvonly, each other participant's audio and video sendonly with
    that participant as the msid stream id), and counting what the guest sends back. add_peer()
    plays a second participant joining (two more sendonly m-lines and a new offer), drop_peer()
    the first one leaving (its m-lines stopped in a new offer)."""

    def __init__(self, run, turn):
        self.run = run
        self.guest = None
        self.peers = {}  # m-line index -> the stream id the guest is told
        self.received = Receiver(run.pipeline, lambda _pad: "guest")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "offerer")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.webrtc.set_property("ice-transport-policy", GstWebRTC.WebRTCICETransportPolicy.RELAY)
        self.webrtc.set_property("turn-server", turn)
        run.pipeline.add(self.webrtc)
        self.webrtc.connect("on-ice-candidate", self._on_candidate)
        self.webrtc.connect("pad-added", self.received.on_pad)
        for kind, pt in (("audio", 111), ("video", 96)):  # the guest's slots first
            self.webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                             Gst.Caps.from_string(RTP_CAPS[kind] % pt))
        self._send_pair(2, "ball")
        self.gone = set()  # m-lines of a peer who left: stopped in what the guest is told

    def _send_pair(self, first, pattern):
        """Audio at m-line first and video at first + 1, sendonly, as one peer."""
        for i, (kind, pt) in enumerate((("audio", 111), ("video", 96))):
            desc = SOURCES[kind] % pt
            src = Gst.parse_bin_from_description(desc.replace("pattern=ball", "pattern=" + pattern),
                                                 True)
            self.run.pipeline.add(src)
            sink = self.webrtc.request_pad(self.webrtc.get_pad_template("sink_%u"),
                                           "sink_%u" % (first + i), None)
            src.get_static_pad("src").link(sink)
            sink.get_property("transceiver").set_property(
                "direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
            src.sync_state_with_parent()
            self.peers[first + i] = "loop-peer-%d" % first

    def add_peer(self):
        self._send_pair(4, "smpte")
        emit("loop-peer-joins", mlines=[4, 5])
        self.start()
        return False

    def drop_peer(self):
        """The first peer leaves: a re-offer with its m-lines stopped (port 0, out of the
        BUNDLE group), as callbridged's offers say so."""
        self.gone.update((2, 3))
        emit("loop-peer-leaves", mlines=[2, 3])
        self.start()
        return False

    def start(self, tries=3):
        def done(promise, _data):
            offer, why = promise_sdp(promise, "offer")
            if offer is None:
                if tries > 1:
                    GLib.idle_add(self.start, tries - 1)
                else:
                    GLib.idle_add(self.run.fatal, "create-offer: " + why)
                return
            GLib.idle_add(self._send, offer)
        self.webrtc.emit("create-offer", None, Gst.Promise.new_with_change_func(done, None))
        return False

    def _send(self, offer):
        desc = description(GstWebRTC.WebRTCSDPType.OFFER, offer)
        self.webrtc.emit("set-local-description", desc, Gst.Promise.new())
        self.guest.offer(self._name_peers(offer))
        return False

    def _name_peers(self, offer):
        """The offer as the guest sees it: each peer's m-lines carry the peer's own msid stream
        id, as callbridged writes the participant's leg id (webrtcbin uses one for all), and the
        m-lines of a peer who left are stopped."""
        parts = offer.split("\r\nm=")
        gone_mids = []
        for i in range(1, len(parts)):
            if i - 1 in self.peers:
                parts[i] = re.sub(r"msid:\S+ ", "msid:%s " % self.peers[i - 1], parts[i])
            if i - 1 in self.gone:
                gone_mids += re.findall(r"\r\na=mid:(\S+)", parts[i])
                parts[i] = re.sub(r"^(\S+) \d+ ", r"\1 0 ", parts[i])
                parts[i] = parts[i].replace("\r\na=bundle-only", "")
        for mid in gone_mids:
            parts[0] = re.sub(r"(a=group:BUNDLE[^\r]*) %s\b" % re.escape(mid), r"\1", parts[0])
        return "\r\nm=".join(parts)

    def _on_candidate(self, _webrtc, mline, candidate):
        def deliver():
            self.guest.webrtc.emit("add-ice-candidate", mline, candidate)
            return False
        GLib.idle_add(deliver)

    def signal(self, what, payload):
        """The guest's answer and candidates, as callbridged would take them."""
        def deliver():
            if what == "answer":
                desc = description(GstWebRTC.WebRTCSDPType.ANSWER, payload)
                self.webrtc.emit("set-remote-description", desc, Gst.Promise.new())
            elif payload["candidate"]:
                self.webrtc.emit("add-ice-candidate", 0, payload["candidate"])
            return False
        GLib.idle_add(deliver)


def loop_main(args):
    """Pass when the guest decoded both loop peers' video (the second joined by renegotiation)
    and got their audio, answered the re-offer where the first left, and the offerer decoded the
    guest's video and audio."""
    run = Run(args.seconds)
    offerer = Offerer(run, args.turn)
    guest = Guest(run.pipeline, "webrtc", args.turn, offerer.signal, run.fatal)
    offerer.guest = guest
    run.pipeline.set_state(Gst.State.PLAYING)
    GLib.idle_add(offerer.start)
    GLib.timeout_add(int(args.seconds * 1000 / 4), offerer.add_peer)
    GLib.timeout_add(int(args.seconds * 1000 / 2), offerer.drop_peer)
    run.loop.run()
    back_frames, back_audio = offerer.received.counts()
    out = summary(guest, run, {"offerer_frames_decoded": back_frames,
                               "offerer_audio_buffers": back_audio, "senders": guest.senders()})
    run.close()
    ok = verdict(out, guest.senders(), 2) == 0 and out["answers"] == 3 and \
        sum(back_frames.values()) > 0 and sum(back_audio.values()) > 0 and \
        all(out["audio_buffers"].get(peer, 0) > 0 for peer in guest.senders())
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="callbridged's base URL, https://HOST:PORT")
    parser.add_argument("--call-id", help="the coSpace's callId")
    parser.add_argument("--secret", help="the coSpace's secret")
    parser.add_argument("--name", default="GStreamer guest")
    parser.add_argument("--seconds", type=float, default=15, help="how long to stay")
    parser.add_argument("--peers", type=int, default=1,
                        help="how many other participants' video must be decoded")
    parser.add_argument("--selfcheck-loop", action="store_true",
                        help="no callbridged: answer a local webrtcbin through --turn")
    parser.add_argument("--turn", help="turn://user:pass@host:port for --selfcheck-loop")
    args = parser.parse_args()
    Gst.init(None)
    if args.selfcheck_loop:
        if not args.turn:
            parser.error("--selfcheck-loop needs --turn")
        return loop_main(args)
    if not (args.url and args.call_id and args.secret):
        parser.error("--url, --call-id and --secret are needed")
    return join_main(args)


if __name__ == "__main__":
    sys.exit(main())
