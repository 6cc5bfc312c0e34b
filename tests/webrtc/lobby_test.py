#!/usr/bin/python3
"""End to end: call leg profiles govern two headless Chromium guests (CMS's lobby).

A coSpace whose callLegProfile needs activation and forbids self-mute, and an access method of it
(a host's callId and secret) whose callLegProfile is an activator's. Then:
1. A guest opens the coSpace's link: its page says it waits in the lobby (title "callbridge:
   lobby", the lobby notice shown), it has no mute buttons (muteSelfAllowed and
   videoMuteSelfAllowed false), and GET /api/v1/callLegs/<leg> shows deactivated true.
2. The host opens the access method's link: the guest is admitted (its page leaves the lobby,
   deactivated false) and receives the host's audio and video, without names on its tiles
   (participantLabels false) while the host's page names it; the host's page has its mute
   button (its access method's muteSelfAllowed true, over the coSpace's false).
3. The host presses Mute: callbridged withholds its audio (rxAudioMute and rxAudioWithheld true on
   its leg) and the button turns into Unmute.
Usage: tests/webrtc/lobby_test.py path/to/callbridged [--keep]
Prints one line per assertion; exit 0 pass, 1 fail, 77 chromium absent (skip).
"""

import os
import secrets
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import coturn  # noqa: E402
import harness  # noqa: E402
import join_test  # noqa: E402

LOBBY_TIMEOUT = 30.0  # from the link opened (or the host connected) to the page's lobby state


def set_up(res, daemon, turn):
    """The TURN server, the guests' coSpace and the host's access method: (guest, host) links."""
    where = "127.0.0.1:%d" % turn.port
    turn_id = daemon.create("/api/v1/turnServers", {
        "serverAddress": where, "clientAddress": where, "username": coturn.USER,
        "password": coturn.PASSWORD, "type": "standard"})
    guest_p = daemon.create("/api/v1/callLegProfiles", {
        "name": "waits", "needsActivation": "true", "muteSelfAllowed": "false",
        "videoMuteSelfAllowed": "false", "participantLabels": "false"})
    # the access method's level is nearer than the coSpace's: it lifts the coSpace's refusals
    host_p = daemon.create("/api/v1/callLegProfiles", {
        "name": "host", "needsActivation": "false", "muteSelfAllowed": "true",
        "participantLabels": "true"})
    space = {"callId": str(100000000 + secrets.randbelow(900000000)),
             "secret": secrets.token_urlsafe(16)}
    space_id = daemon.create("/api/v1/coSpaces", dict(space, name="Lobby test",
                                                      callLegProfile=guest_p))
    host = {"callId": str(100000000 + secrets.randbelow(900000000)),
            "secret": secrets.token_urlsafe(16)}
    daemon.create("/api/v1/coSpaces/%s/accessMethods" % space_id,
                  dict(host, callLegProfile=host_p, name="host"))
    res.check(True, "coSpace %s (callId %s, guests wait) with a host access method (callId %s)" %
              (space_id, space["callId"], host["callId"]))
    join_test.wait_turn_reachable(res, daemon, turn_id)
    return space, host


def leg_field(daemon, leg, path):
    code, _, body = daemon.api("GET", "/api/v1/callLegs/" + leg)
    if code != 200:
        return "HTTP %d" % code
    return ET.fromstring(body).findtext(path)


def wait_lobby(tab, lobby):
    return tab.wait_until("window.cb && cb.self.lobby === %s && document.title" %
                          ("true" if lobby else "false"), timeout=LOBBY_TIMEOUT)


def check_waiting(res, browsers, daemon, space):
    tab = browsers.new_tab(join_test.guest_url(daemon, space["callId"], space["secret"], "Early"))
    title = wait_lobby(tab, True)
    res.check(title == "callbridge: lobby", "the guest's page says it waits: %r" % title)
    shown = tab.evaluate("!document.getElementById('lobby').hidden")
    res.check(shown, "the lobby notice is shown")
    buttons = tab.evaluate("[document.getElementById('mute-audio').hidden, "
                           "document.getElementById('mute-video').hidden]")
    res.check(buttons == [True, True], "no mute buttons without muteSelfAllowed: hidden %s" %
              buttons)
    leg = tab.evaluate("cb.leg")
    deactivated = leg_field(daemon, leg, "status/deactivated")
    res.check(deactivated == "true", "GET callLegs/%s shows deactivated %s" % (leg, deactivated))
    return "Early", tab, leg


def check_admitted(res, browsers, daemon, host, guest):
    name, tab, leg = guest
    host_joined = join_test.join_one(res, browsers, daemon, host, "Host")
    title = wait_lobby(tab, False)
    res.check(title != "callbridge: lobby", "the host's arrival admits the guest: %r" % title)
    deactivated = leg_field(daemon, leg, "status/deactivated")
    res.check(deactivated == "false", "GET callLegs/%s shows deactivated %s" % (leg, deactivated))
    res.check(join_test.media_of(tab, [host_joined[2]]) is not None,
              "the admitted guest receives the host's audio and video")
    caption = tab.evaluate("(document.querySelector('#tiles li[data-leg=\"%s\"] figcaption') "
                           "|| {}).textContent" % host_joined[2])
    res.check(caption == "", "participantLabels false: no name on its tile of the host (%r)" %
              caption)
    try:
        caption = host_joined[1].wait_until(
            "(document.querySelector('#tiles li[data-leg=\"%s\"] figcaption') || {}).textContent"
            % leg, timeout=LOBBY_TIMEOUT)
    except TimeoutError:
        caption = host_joined[1].evaluate(
            "JSON.stringify([...document.querySelectorAll('#tiles li')].map("
            "(li) => [li.dataset.leg, li.hidden, li.textContent]))")
    res.check(caption == "Early", "the host's tile of the guest has its name (%r)" % caption)
    hidden = host_joined[1].wait_until(
        "window.cb && cb.self.muteSelfAllowed === true && "
        "[document.getElementById('mute-audio').hidden]", timeout=LOBBY_TIMEOUT)
    res.check(hidden == [False], "the host's page has its mute button")
    return host_joined


def check_self_mute(res, daemon, host_joined):
    _, tab, leg = host_joined
    tab.evaluate("document.getElementById('mute-audio').click()")
    text = tab.wait_until("cb.self.audioMuted === true && "
                          "document.getElementById('mute-audio').textContent",
                          timeout=LOBBY_TIMEOUT)
    res.check(text == "Unmute", "the host's button now says %r" % text)
    mute = leg_field(daemon, leg, "configuration/rxAudioMute")
    withheld = leg_field(daemon, leg, "media/rxAudioWithheld")
    res.check(mute == "true" and withheld == "true",
              "its leg shows rxAudioMute %s and the media path withholding %s" % (mute, withheld))


def run(res, args, work):
    turn = daemon = None
    browsers = join_test.Browsers(res, work)
    try:
        turn = coturn.Coturn(verbose=False)
        daemon = join_test.Daemon(args.callbridged, work)
        space, host = set_up(res, daemon, turn)
        guest = check_waiting(res, browsers, daemon, space)
        host_joined = check_admitted(res, browsers, daemon, host, guest)
        check_self_mute(res, daemon, host_joined)
    except join_test.ERRORS as e:
        res.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        join_test.stop_all(res, browsers, daemon)
        if turn is not None:
            turn.stop()


def main():
    return harness.test_main("lobby_test", __doc__, run, "data, daemon.log",
                             skip=None if cdp.chromium_present() else cdp.CHROMIUM + " is absent")


if __name__ == "__main__":
    sys.exit(main())
