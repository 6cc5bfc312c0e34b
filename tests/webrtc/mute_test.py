#!/usr/bin/python3
"""End to end: call control through the API acts on two headless Chromium guests.

Two guests join a coSpace through coturn and receive each other's audio and video. Then:
1. PUT /api/v1/callLegs/<Guest1> rxAudioMute=true: Guest2's page stops receiving Guest1's audio
   (its inbound audio packetsReceived stops growing) while Guest1's video keeps being decoded;
   Guest2's tile of Guest1 says "muted" and Guest1's own page says the others cannot hear it.
2. rxAudioMute=false: the audio comes back (packetsReceived grows again). rxVideoMute the same
   for video: Guest2 decodes no frames of Guest1 and its tile says video off; unmuted, frames
   come back within the settle time (callbridged asks for a key frame).
3. nameLabelOverride: Guest2's tile of Guest1 shows the new name.
4. PUT /api/v1/calls/<id> messageText (permanent): both pages show it.
5. locked=true: a third guest waits in the lobby (its page says so, the API lists its leg);
   locked=false admits it.
Usage: tests/webrtc/mute_test.py path/to/callbridged [--keep]
Prints one line per assertion; exit 0 pass, 1 fail, 77 chromium absent (skip).
"""

import os
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import coturn  # noqa: E402
import harness  # noqa: E402
import join_test  # noqa: E402

SETTLE_S = 1.5  # from the PUT's answer to packets in flight drained (the media thread applies it
# at once; what was already on its way through coturn and the browser's jitter buffer is not)
WATCH_S = 3.0  # how long the muted stream is watched: 150 Opus packets if it were flowing
STRAY_MAX = 5  # packets counted after SETTLE_S that were still in flight (loaded machine)


def audio_from(tab, leg):
    """Guest's page: inbound audio packetsReceived from leg's participant."""
    s = tab.evaluate("cb.stats()")
    return max([a["packetsReceived"] for a in s["audio"] if a["leg"] == leg] or [0])


def caption_of(tab, leg):
    return tab.evaluate("(document.querySelector('#tiles li[data-leg=\"%s\"] figcaption') || "
                        "{}).textContent || ''" % leg)


def put(res, daemon, path, form, what):
    code, _, body = daemon.api("PUT", path, form)
    res.require(code == 200, "%s: PUT %s %s -> %d %s" % (what, path, form, code, body.strip()))


def the_call(daemon):
    code, _, body = daemon.api("GET", "/api/v1/calls")
    calls = ET.fromstring(body).findall("call")
    return calls[0].get("id") if code == 200 and len(calls) == 1 else None


def check_mute(res, daemon, joined):
    (n1, t1, leg1), (n2, t2, leg2) = joined
    put(res, daemon, "/api/v1/callLegs/" + leg1, {"rxAudioMute": "true"}, "mute " + n1)
    time.sleep(SETTLE_S)
    a0, v0 = audio_from(t2, leg1), join_test.frames(t2.evaluate("cb.stats()"), leg1)
    time.sleep(WATCH_S)
    a1, v1 = audio_from(t2, leg1), join_test.frames(t2.evaluate("cb.stats()"), leg1)
    res.check(a1 - a0 <= STRAY_MAX, "%s hears nothing of muted %s: audio packetsReceived %d "
              "then %d over %.0f s" % (n2, n1, a0, a1, WATCH_S))
    res.check(v1 > v0, "%s still decodes %s's video: framesDecoded %d then %d" % (n2, n1, v0, v1))
    cap = caption_of(t2, leg1)
    res.check("muted" in cap, "%s's tile of %s says muted: %r" % (n2, n1, cap))
    own = t1.evaluate("document.getElementById('self-name').textContent")
    res.check("cannot hear you" in own, "%s's page says the others cannot hear it: %r" % (n1, own))
    code, _, body = daemon.api("GET", "/api/v1/callLegs/" + leg1)
    res.check("<rxAudioMute>true</rxAudioMute>" in body and
              "<rxAudioWithheld>true</rxAudioWithheld>" in body,
              "GET callLegs/%s shows rxAudioMute and the media path withholding" % leg1)

    put(res, daemon, "/api/v1/callLegs/" + leg1, {"rxAudioMute": "false"}, "unmute " + n1)
    time.sleep(SETTLE_S)
    a2 = audio_from(t2, leg1)
    time.sleep(join_test.GROWTH_WAIT)
    a3 = audio_from(t2, leg1)
    res.check(a3 - a2 > 20, "%s hears %s again: audio packetsReceived %d then %d" %
              (n2, n1, a2, a3))


def check_video_mute(res, daemon, joined):
    """rxVideoMute: no frames of Guest1 reach Guest2, whose tile says video off; unmuted, the
    frames come back at once (callbridged asks Guest1's browser for a key frame)."""
    (n1, t1, leg1), (n2, t2, leg2) = joined
    put(res, daemon, "/api/v1/callLegs/" + leg1, {"rxVideoMute": "true"}, "video mute " + n1)
    time.sleep(SETTLE_S)
    f0 = join_test.frames(t2.evaluate("cb.stats()"), leg1)
    time.sleep(WATCH_S)
    f1 = join_test.frames(t2.evaluate("cb.stats()"), leg1)
    res.check(f1 - f0 <= STRAY_MAX, "%s decodes no video of %s: framesDecoded %d then %d" %
              (n2, n1, f0, f1))
    cap = caption_of(t2, leg1)
    res.check("video off" in cap, "%s's tile of %s says video off: %r" % (n2, n1, cap))
    put(res, daemon, "/api/v1/callLegs/" + leg1, {"rxVideoMute": "false"}, "video unmute " + n1)
    time.sleep(SETTLE_S)
    f2 = join_test.frames(t2.evaluate("cb.stats()"), leg1)
    time.sleep(join_test.GROWTH_WAIT)
    f3 = join_test.frames(t2.evaluate("cb.stats()"), leg1)
    res.check(f3 > f2 > f1, "%s decodes %s's video again: framesDecoded %d, %d then %d" %
              (n2, n1, f1, f2, f3))


def check_label_and_message(res, daemon, joined, call):
    (n1, t1, leg1), (n2, t2, leg2) = joined
    put(res, daemon, "/api/v1/callLegs/" + leg1, {"nameLabelOverride": "Chair"}, "rename " + n1)
    try:
        cap = t2.wait_until("(document.querySelector('#tiles li[data-leg=\"%s\"] figcaption') "
                            "|| {}).textContent === 'Chair' && 'Chair'" % leg1, timeout=10)
    except TimeoutError:
        cap = caption_of(t2, leg1)
    res.check(cap == "Chair", "%s's tile of %s shows nameLabelOverride: %r" % (n2, n1, cap))
    put(res, daemon, "/api/v1/calls/" + call,
        {"messageText": "Break until ten", "messageDuration": "permanent"}, "message")
    for name, tab, _ in joined:
        try:
            text = tab.wait_until("(m => m && !m.hidden && m.textContent)"
                                  "(document.getElementById('message'))", timeout=10)
        except TimeoutError:
            text = None
        res.check(text == "Break until ten", "%s's page shows the message: %r" % (name, text))


def check_locked(res, browsers, daemon, space, call):
    """A locked call (lockMode all, the default) keeps a new guest in the lobby: its page says
    it waits and its leg is deactivated; unlocking admits it."""
    put(res, daemon, "/api/v1/calls/" + call, {"locked": "true"}, "lock")
    tab = browsers.new_tab(join_test.guest_url(daemon, space["callId"], space["secret"], "Late"))
    try:
        title = tab.wait_until("window.cb && cb.self.lobby === true && document.title",
                               timeout=join_test.CONNECT_TIMEOUT)
        res.check(title == "callbridge: lobby", "a guest joining the locked call waits in the "
                  "lobby: %r" % title)
        total, _ = join_test.call_legs(daemon)
        res.check(total == 3, "the API lists three legs (%s)" % total)
        put(res, daemon, "/api/v1/calls/" + call, {"locked": "false"}, "unlock")
        title = tab.wait_until("window.cb && cb.self.lobby === false && document.title",
                               timeout=join_test.CONNECT_TIMEOUT)
        res.check(title != "callbridge: lobby", "unlocking admits it: %r" % title)
    finally:
        tab.close()


def run(res, args, work):
    turn = daemon = None
    browsers = join_test.Browsers(res, work)
    try:
        turn = coturn.Coturn(verbose=False)
        daemon = join_test.Daemon(args.callbridged, work)
        space = join_test.set_up(res, daemon, turn)
        joined = join_test.join_all(res, browsers, daemon, space, 2)
        for name, tab, leg in joined:
            others = [o for _, _, o in joined if o != leg]
            res.require(join_test.media_of(tab, others) is not None,
                        "%s receives the other's audio and video" % name)
        call = the_call(daemon)
        res.require(call is not None, "GET /api/v1/calls lists the one call %s" % call)
        check_mute(res, daemon, joined)
        check_video_mute(res, daemon, joined)
        check_label_and_message(res, daemon, joined, call)
        check_locked(res, browsers, daemon, space, call)
    except join_test.ERRORS as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        join_test.stop_all(res, browsers, daemon)
        if turn is not None:
            turn.stop()


def main():
    return harness.test_main("mute_test", __doc__, run, "data, daemon.log",
                             skip=None if cdp.chromium_present() else cdp.CHROMIUM + " is absent")


if __name__ == "__main__":
    sys.exit(main())
