"""What a test reads from a guest page's RTCPeerConnection beyond what the page itself exposes
(window.cb.stats(): frames and packets per participant): the RTCP-made statistics, and the time of
each remote participant's first decoded frame.

OBSERVER is JavaScript a test installs in every guest tab before the page's own scripts
(cdp.Browser.new_tab's init_script). It replaces window.RTCPeerConnection by a subclass that only
records: each connection the page makes (and when), and, for each remote video track, the moment
its receiver first reports a decoded frame (polled every 50 ms, for at most a minute). The
connection itself is Chromium's, unchanged. window.__room.stats() returns, for the page's newest
open connection, the four kinds of RTP statistics of getStats() (outbound-rtp, remote-inbound-rtp
made from the receiver reports callbridged sends, inbound-rtp, remote-outbound-rtp made from the
sender reports it forwards), each with the leg id of the participant it is about (its m-line's
msid), and the report's timestamp (Unix ms, the clock the sender reports' NTP times use on this
machine). window.__room.joinMs holds the page's join requests' times (a wrapped fetch, which
only notes them).
"""

OBSERVER = r"""
(() => {
    'use strict';
    const Native = window.RTCPeerConnection;
    if (!Native || window.__room)
        return;
    const FRAME_POLL_MS = 50;
    const FRAME_POLL_LIMIT_MS = 60000;
    const room = {pcs: [], pcMs: [], firstFrames: {}, joinMs: []};
    Object.defineProperty(window, '__room', {value: room});
    const nativeFetch = window.fetch;
    window.fetch = function (input, init) {
        if (String(input).endsWith('/meeting/api/join'))
            room.joinMs.push(Math.round(performance.now()));
        return nativeFetch.call(this, input, init);
    };

    function watchFirstFrame(pc, ev) {
        const stream = ev.streams && ev.streams[0];
        if (ev.track.kind !== 'video' || !stream || room.firstFrames[stream.id] !== undefined)
            return;
        room.firstFrames[stream.id] = null;
        const started = performance.now();
        const poll = async () => {
            if (pc.signalingState === 'closed')
                return;
            let decoded = 0;
            (await ev.receiver.getStats()).forEach((s) => {
                if (s.type === 'inbound-rtp')
                    decoded = s.framesDecoded || 0;
            });
            if (decoded > 0)
                room.firstFrames[stream.id] = Math.round(performance.now());
            else if (performance.now() - started < FRAME_POLL_LIMIT_MS)
                setTimeout(() => poll().catch(() => {}), FRAME_POLL_MS);
        };
        poll().catch(() => {});
    }

    window.RTCPeerConnection = class extends Native {
        constructor(...args) {
            super(...args);
            room.pcs.push(this);
            room.pcMs.push(Math.round(performance.now()));
            this.addEventListener('track', (ev) => watchFirstFrame(this, ev));
        }
    };

    /* mid -> the msid stream id (the participant's leg) of each m-line of an SDP. */
    function midLegs(sdp) {
        const legs = {};
        let mid = null;
        for (const line of (sdp || '').split(/\r?\n/)) {
            if (line.startsWith('m='))
                mid = null;
            else if (line.startsWith('a=mid:'))
                mid = line.slice(6).trim();
            else if (line.startsWith('a=msid:') && mid !== null)
                legs[mid] = line.slice(7).split(' ')[0];
        }
        return legs;
    }

    const FIELDS = {
        'outbound-rtp': ['packetsSent', 'bytesSent', 'retransmittedPacketsSent', 'frameWidth',
            'frameHeight', 'framesPerSecond'],
        'remote-inbound-rtp': ['localId', 'packetsLost', 'fractionLost', 'jitter',
            'roundTripTime', 'totalRoundTripTime', 'roundTripTimeMeasurements'],
        'inbound-rtp': ['packetsReceived', 'packetsLost', 'bytesReceived', 'framesDecoded',
            'remoteId'],
        'remote-outbound-rtp': ['localId', 'packetsSent', 'bytesSent', 'remoteTimestamp',
            'reportsSent'],
    };

    room.stats = async () => {
        const pc = room.pcs.slice().reverse().find((p) => p.signalingState !== 'closed');
        if (!pc)
            return null;
        const local = midLegs(pc.localDescription && pc.localDescription.sdp);
        const remote = midLegs(pc.remoteDescription && pc.remoteDescription.sdp);
        const out = {t: Date.now()};
        const report = await pc.getStats();
        report.forEach((s) => {
            out.t = s.timestamp; /* one time for the whole report */
            if (s.type === 'transport' && report.has(s.selectedCandidatePairId))
                out.iceRtt = report.get(s.selectedCandidatePairId).currentRoundTripTime;
        });
        report.forEach((s) => {
            const fields = FIELDS[s.type];
            if (!fields)
                return;
            const e = {id: s.id, ssrc: s.ssrc, kind: s.kind, mid: s.mid,
                timestamp: s.timestamp};
            for (const f of fields)
                e[f] = s[f] === undefined ? null : s[f];
            e.leg = s.mid === undefined ? null : (remote[s.mid] || local[s.mid] || null);
            (out[s.type] = out[s.type] || []).push(e);
        });
        return out;
    };
})();
"""


TYPES = ("outbound-rtp", "remote-inbound-rtp", "inbound-rtp", "remote-outbound-rtp")
SAMPLE = "Promise.all([cb.stats(), window.__room ? __room.stats() : null])"

# Two counters of one browser read for one report are taken on different threads a moment apart
# (the packet's send and the report's snapshot), so a bound between two of them may be off by a
# packet or two, and by that many packets' bytes.
SLACK_PACKETS = 2
SLACK_BYTES = 2 * 1200
# A round trip through coturn on loopback is milliseconds, but with other sessions' browsers
# loading this 2-core machine to 40 both ICE's and RTCP's were seen at 5-20 s (the browsers
# stall). The bound catches garbage (an LSR or DLSR in the wrong units is off by hours), not load.
RTT_MAX_S = 30.0


def sample(tab):
    """What a test reads from a page at one moment: {"cb": cb.stats() (frames, packets and names
    per participant, the pair), "t": the report's time (Unix ms), "rtp": {type: [entry, ...]} for
    the four TYPES, remote entries given the leg and mid of the local entry they describe,
    "iceRtt": the selected pair's current round trip (s)}; "rtp" is None when the page has no
    open connection."""
    cb, s = tab.evaluate(SAMPLE)
    out = {"cb": cb, "t": None, "rtp": None, "iceRtt": None}
    if not s:
        return out
    by_id = {e["id"]: e for t in ("outbound-rtp", "inbound-rtp") for e in s.get(t, [])}
    for t in ("remote-inbound-rtp", "remote-outbound-rtp"):
        for e in s.get(t, []):
            own = by_id.get(e.get("localId")) or {}
            e["leg"], e["mid"] = own.get("leg"), own.get("mid")
    out.update(t=s["t"], iceRtt=s.get("iceRtt"), rtp={t: s.get(t, []) for t in TYPES})
    return out


def outbound(smp, kind):
    """The page's outbound-rtp entry of 'kind' (its camera or microphone), or None."""
    return next((e for e in (smp["rtp"] or {}).get("outbound-rtp", []) if e["kind"] == kind),
                None)


def inbound(smp, leg=None):
    """The page's inbound-rtp entries, of one participant's leg or all."""
    return [e for e in (smp["rtp"] or {}).get("inbound-rtp", []) if leg is None or e["leg"] == leg]


def remote_of(smp, kind, local):
    """The remote-inbound-rtp or remote-outbound-rtp entry (kind) about a local entry, or None."""
    if smp is None or local is None:
        return None
    return next((e for e in (smp["rtp"] or {}).get(kind, []) if e["localId"] == local["id"]), None)


def _by_ssrc(smp, kind, ssrc):
    return next((e for e in (smp["rtp"] or {}).get(kind, []) if e["ssrc"] == ssrc), None)


def receiver_report_problems(a, c):
    """What is wrong with callbridged's receiver reports as the page sees them in sample c, a
    later sample than a: each outbound stream needs a remote-inbound-rtp with a round-trip time
    (from the report's LSR and DLSR) in [0, RTT_MAX_S], a cumulative loss between 0 and what the
    page sent, a fraction lost in [0, 1], and a new round-trip measurement since a (an RR goes
    every second). Returns (problems, a summary of the figures)."""
    problems, shown = [], []
    for kind in ("audio", "video"):
        out = outbound(c, kind)
        ri = remote_of(c, "remote-inbound-rtp", out)
        if ri is None:
            problems.append("%s: no remote-inbound-rtp" % kind if out else "no outbound " + kind)
            continue
        rtt, lost, frac = ri["roundTripTime"], ri["packetsLost"], ri["fractionLost"]
        before = remote_of(a, "remote-inbound-rtp", outbound(a, kind)) or {}
        n0, n1 = before.get("roundTripTimeMeasurements") or 0, ri["roundTripTimeMeasurements"] or 0
        if rtt is None or not 0 <= rtt <= RTT_MAX_S:
            problems.append("%s roundTripTime %s" % (kind, rtt))
        if lost is None or not -SLACK_PACKETS <= lost <= out["packetsSent"]:
            problems.append("%s packetsLost %s of %d sent" % (kind, lost, out["packetsSent"]))
        if frac is None or not 0 <= frac <= 1:
            problems.append("%s fractionLost %s" % (kind, frac))
        if n1 <= n0:
            problems.append("%s roundTripTimeMeasurements %d then %d" % (kind, n0, n1))
        shown.append("%s%s rtt %s ms (%d measured), lost %s (fraction %s)" % (
            kind, " %sx%s" % (out["frameWidth"], out["frameHeight"]) if kind == "video" else "",
            None if rtt is None else round(rtt * 1000), n1, lost, frac))
    return problems, shown


def _bounds(problems, what, value, low, high):
    if not low <= value <= high:
        problems.append("%s %d not in [%d, %d]" % (what, value, low, high))


def sender_report_problems(a, c, senders):
    """What is wrong with the sender reports callbridged forwards, as the page sees them in
    sample c (a is earlier): for each inbound stream of a participant in 'senders' ({leg: (its
    page's sample before a, its page's sample after c)}), a remote-outbound-rtp whose
    packetsSent and bytesSent
      - grew since a (video: a new report since a; audio reports come every 5 s, so only when
        one came),
      - are at least what this page had received before the report was sent,
      - lie between the sender's own outbound-rtp counts just before and just after the
        report's time (remoteTimestamp and the samples' times are one clock on this machine).
    Returns (problems, the number of streams checked)."""
    problems, n = [], 0
    for inb in inbound(c):
        if inb["leg"] not in senders:
            continue
        n += 1
        what = "%s %s" % (inb["leg"][:8], inb["kind"])
        ro = remote_of(c, "remote-outbound-rtp", inb)
        if ro is None:
            problems.append(what + ": no remote-outbound-rtp")
            continue
        _growth(problems, what, _by_ssrc(a, "remote-outbound-rtp", inb["ssrc"]), ro, inb["kind"])
        got = _by_ssrc(a, "inbound-rtp", inb["ssrc"])
        if got and ro["remoteTimestamp"] > a["t"]:
            _bounds(problems, what + " SR packetsSent vs received", ro["packetsSent"],
                    got["packetsReceived"] - SLACK_PACKETS, 1 << 62)
            _bounds(problems, what + " SR bytesSent vs received", ro["bytesSent"],
                    got["bytesReceived"] - SLACK_BYTES, 1 << 62)
        _sender_bounds(problems, what, ro, senders[inb["leg"]], inb["kind"])
    return problems, n


def _growth(problems, what, ro_a, ro, kind):
    if ro_a is None or ro["reportsSent"] == ro_a["reportsSent"]:
        if kind == "video":  # Chromium sends a video SR about every second
            problems.append("%s: no new sender report in %.1f s" % (what, 0 if ro_a is None else
                                                                     (ro["timestamp"] -
                                                                      ro_a["timestamp"]) / 1000))
        return
    if ro["packetsSent"] <= ro_a["packetsSent"] or ro["bytesSent"] <= ro_a["bytesSent"]:
        problems.append("%s: SR packetsSent %d then %d, bytesSent %d then %d" % (
            what, ro_a["packetsSent"], ro["packetsSent"], ro_a["bytesSent"], ro["bytesSent"]))


def _sender_bounds(problems, what, ro, pages, kind):
    before, after = pages
    t = ro["remoteTimestamp"]
    low, high = outbound(before, kind), outbound(after, kind)
    if low and before["t"] < t:
        _bounds(problems, what + " SR packetsSent vs the sender's", ro["packetsSent"],
                low["packetsSent"] - SLACK_PACKETS, 1 << 62)
        _bounds(problems, what + " SR bytesSent vs the sender's", ro["bytesSent"],
                low["bytesSent"] - SLACK_BYTES, 1 << 62)
    if high and t < after["t"]:
        _bounds(problems, what + " SR packetsSent vs the sender's", ro["packetsSent"], 0,
                high["packetsSent"] + SLACK_PACKETS)
        _bounds(problems, what + " SR bytesSent vs the sender's", ro["bytesSent"], 0,
                high["bytesSent"] + SLACK_BYTES)


# The media thread publishes a leg's counters to the API once a second: a test reads them at
# least LATE_AFTER_S after its first sample, so the figures shown were taken after that sample,
# unless the tick came late, which on this loaded machine it does by up to LATE_S. Packets still
# on their way (in coturn's and the kernel's queues) are at most a round trip's worth: the ICE
# pair's current round-trip time, which under load grows with those queues.
LATE_AFTER_S = 1.2
LATE_S = 0.5
# Forwarding of a stream to a page starts with the offer that announces it; what arrives before
# the browser has applied that offer it cannot count. Per stream, at most this long's packets.
UNANNOUNCED_S = 1.0


def _rate(a, c, pick):
    """Packets per second of a counter between two samples."""
    dt = (c["t"] - a["t"]) / 1000.0
    return max(pick(c) - pick(a), 0) / dt if dt > 0 else 0.0


def _in_flight_s(a, c):
    """How long a packet may still be on its way: LATE_S and the larger ICE round trip."""
    return LATE_S + max(a["iceRtt"] or 0, c["iceRtt"] or 0)


def api_problems(api, a, c):
    """What is wrong with GET /api/v1/callLegs/<leg>'s rx and tx packet counts ({"rxAudio":
    {"packets", "lost"}, ...}, read after sample a of the leg's page and before sample c):
      - rx<Kind> packetsReceived (what callbridged got from this page) lies between what the page
        had sent at a, less what callbridged's receiver reports count lost and what may still be
        on its way (_in_flight_s), and what it had sent at c; its packetsLost at most what the
        page had sent at c and callbridged had not received (the cumulative loss is no
        counter: a NACKed packet arriving late takes it down, and 4, 0, 2 was seen in the
        receiver reports at a, the API and c);
      - tx<Kind> packetsSent (what callbridged forwarded to the page) lies between what the page
        had received at a, less a late tick's worth, and what it had received or lost at c,
        plus UNANNOUNCED_S of each stream and what may still be on its way.
    Returns (problems, a summary)."""
    problems, shown = [], []
    for kind in ("audio", "video"):
        name = kind.capitalize()
        rx, tx = api.get("rx" + name), api.get("tx" + name)
        if rx is None or tx is None:
            problems.append("no rx%s or tx%s" % (name, name))
            continue
        _api_rx(problems, "rx" + name, rx, a, c, kind)
        _api_tx(problems, "tx" + name, tx, a, c, kind)
        shown.append("rx%s %d, tx%s %d" % (name, rx["packets"], name, tx["packets"]))
    return problems, shown


def _api_rx(problems, what, rx, a, c, kind):
    oa, oc = outbound(a, kind), outbound(c, kind)
    if oa is None or oc is None:
        problems.append(what + ": the page sends no " + kind)
        return
    ria = remote_of(a, "remote-inbound-rtp", oa) or {}
    ric = remote_of(c, "remote-inbound-rtp", oc) or {}
    lost = max(ria.get("packetsLost") or 0, ric.get("packetsLost") or 0, 0)
    late = _rate(a, c, lambda s: outbound(s, kind)["packetsSent"]) * _in_flight_s(a, c)
    _bounds(problems, what + " packetsReceived", rx["packets"],
            int(oa["packetsSent"] - lost - late), oc["packetsSent"])
    _bounds(problems, what + " packetsLost", rx["lost"], 0,
            max(oc["packetsSent"] - rx["packets"], 0) + SLACK_PACKETS)


def _api_tx(problems, what, tx, a, c, kind):
    def received(s):
        return sum(e["packetsReceived"] for e in inbound(s) if e["kind"] == kind)

    streams = [e for e in inbound(c) if e["kind"] == kind]
    lost_c = sum(max(e["packetsLost"] or 0, 0) for e in streams)
    rate = _rate(a, c, received)
    more = rate * (UNANNOUNCED_S + _in_flight_s(a, c))
    _bounds(problems, what + " packetsSent", tx["packets"], int(received(a) - rate * LATE_S),
            int(received(c) + lost_c + more) + SLACK_PACKETS * len(streams))
