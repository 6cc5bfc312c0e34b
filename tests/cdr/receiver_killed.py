#!/usr/bin/python3
"""A CDR receiver killed for a minute in the middle of calls (issue 15's Done-when), run by
scripts/test-clients.sh.

Usage: tests/cdr/receiver_killed.py path/to/callbridged [--down SECONDS]

callbridged starts on a free loopback port with a fresh data directory and a receiver process
(tests/cdr/receiver.py) as its /system/cdrReceivers. Calls with legs are made and ended through
the API (POST /calls, incoming legs through POST /callLegs, DELETE) before, during and after the outage; a
long call spans it. The receiver is killed with SIGKILL (by its PID) and started again on the same
port SECONDS later (60) while calls go on. At the end every record of every call must have been
received exactly once and in order: recordIndex one more each time from the first record to the
last (no gap, nothing twice), each call's correlatorIndex 0, 1, 2, ... from callStart to callEnd,
each leg's callLegStart, callLegUpdate, callLegEnd; and the API must have shown the receiver's
failure (its <delivery> alarm and reason, and cdrConnectionFailure in /system/alarms) while it
was down, and cleared both after. Every wait is bounded. Printed: what was checked, and how long
after the receiver's return its first POST and the last of the held records came (measured, not
asserted: the sender's backoff cap bounds it). Exit status 0 when every check held.
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "bench"))
from cms_collection import Api, start_daemon, stop_daemon  # noqa: E402

failures = []


def check(ok, what):
    print("cdr-receiver-killed: %s: %s" % ("ok" if ok else "FAILED", what))
    if not ok:
        failures.append(what)
    return ok


class Receiver:
    def __init__(self, out):
        self.out, self.port, self.proc = out, 0, None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "receiver.py"),
                                      str(self.port), self.out], stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)  # bounded: 10 s
        line = self.proc.stdout.readline() if ready else ""  # the port, once listening
        if not line.strip().isdigit():
            self.stop()
            sys.exit("cdr-receiver-killed: the receiver did not start")
        self.port = int(line)

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def posts(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]


def parse(posts):
    """Every record received, in the order received."""
    recs = []
    for p in posts:
        root = ET.fromstring(p["body"])
        for r in root.findall("record"):
            obj = r[0]
            recs.append({"type": r.get("type"), "index": int(r.get("recordIndex")),
                         "correlator": int(r.get("correlatorIndex")), "id": obj.get("id"),
                         "call": obj.findtext("call"), "reason": obj.findtext("reason"),
                         "session": root.get("session"), "t": p["t"]})
    return recs


class Scenario:
    def __init__(self, api):
        self.api = api
        self.calls = {}  # call id -> its legs' ids
        self.rooms = {}  # call id -> the address its incoming legs dial
        self.ended = set()  # legs and calls that ended
        self.n = 0
        self.made = 0  # records of what was done so far

    def must(self, method, path, form=None):
        status, location, body = self.api.call(method, path, form)
        if status != 200:
            sys.exit("cdr-receiver-killed: %s %s: %d %s" % (method, path, status, body))
        return location[-36:]

    def start_call(self, legs):
        self.n += 1
        if self.n == 1:  # the rule that places incoming legs in the spaces below
            self.must("POST", "inboundDialPlanRules", {"domain": "cdrkill.example"})
        space = self.must("POST", "coSpaces", {"name": "cdr %d" % self.n,
                                               "uri": "room%d" % self.n})
        call = self.must("POST", "calls", {"coSpace": space})
        self.calls[call] = []
        self.rooms[call] = "room%d@cdrkill.example" % self.n
        self.made += 1  # callStart
        for _ in range(legs):
            self.add_leg(call)
        return call

    def add_leg(self, call):
        # an incoming leg, placed in the call by the call matching: it connects (a leg dialled
        # out through /calls/<id>/callLegs cannot be placed here and never does)
        leg = self.must("POST", "callLegs",
                        {"destination": self.rooms[call],
                         "remoteParty": "party%d@example.com" % len(self.calls[call])})
        self.calls[call].append(leg)
        self.made += 2  # callLegStart, callLegUpdate (no media: connected at once)

    def end_leg(self, leg):
        self.must("DELETE", "callLegs/%s" % leg)
        self.ended.add(leg)
        self.made += 1

    def end_call(self, call):
        self.must("DELETE", "calls/%s" % call)
        self.made += 1 + sum(leg not in self.ended for leg in self.calls[call])
        self.ended.update(self.calls[call])
        self.ended.add(call)

    def short_call(self):
        """Two legs, one leaves, then the call is deleted: 8 records."""
        call = self.start_call(2)
        self.end_leg(self.calls[call][0])
        self.end_call(call)


def delivery(api, rid):
    status, _, body = api.call("GET", "system/cdrReceivers/%s" % rid)
    return body if status == 200 else ""


def wait(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def verify(recs, sc):
    check(len(recs) == sc.made, "%d records received, %d made" % (len(recs), sc.made))
    gaps = [(a["index"], b["index"]) for a, b in zip(recs, recs[1:])
            if b["index"] != a["index"] + 1]
    check(not gaps, "recordIndex one more each time, first %s last %s%s" % (
        recs[0]["index"] if recs else "-", recs[-1]["index"] if recs else "-",
        " (breaks: %s)" % gaps[:5] if gaps else ""))
    check(len({r["session"] for r in recs}) == 1, "one session")
    by_call, by_leg = {}, {}
    for r in recs:
        call = r["id"] if r["type"] in ("callStart", "callEnd") else r["call"]
        if r["type"] == "callLegEnd":  # its call is the one its start named
            call = next((c for c, legs in sc.calls.items() if r["id"] in legs), None)
        by_call.setdefault(call, []).append(r)
        if r["type"].startswith("callLeg"):
            by_leg.setdefault(r["id"], []).append(r["type"])
    check(set(by_call) == set(sc.calls), "records of exactly the %d calls made" % len(sc.calls))
    bad = [c for c, rs in by_call.items()
           if [r["correlator"] for r in rs] != list(range(len(rs)))
           or rs[0]["type"] != "callStart" or rs[-1]["type"] != "callEnd"]
    check(not bad, "each call: correlatorIndex 0..n-1 from callStart to callEnd")
    legs = [leg for ls in sc.calls.values() for leg in ls]
    bad = [leg for leg in legs
           if by_leg.get(leg) != ["callLegStart", "callLegUpdate", "callLegEnd"]]
    check(not bad, "each of the %d legs: callLegStart, callLegUpdate, callLegEnd, once" % len(legs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("daemon")
    ap.add_argument("--down", type=float, default=60.0, help="seconds the receiver is down")
    args = ap.parse_args()
    # stopped from outside (test-clients.sh's cleanup): unwind, so the daemon and the receiver
    # are stopped by the blocks below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with tempfile.TemporaryDirectory(prefix="cbcdrkill.") as work:
        rx = Receiver(os.path.join(work, "received.jsonl"))
        rx.start()
        proc, port, password = start_daemon(args.daemon, work)
        try:
            run(args, Api("https://127.0.0.1:%d" % port, password, os.path.join(work, "cert.pem")),
                rx)
        finally:
            rx.stop()
            stop_daemon(proc)
            check(proc.returncode == 0,
                  "callbridged exited with %s after SIGTERM" % proc.returncode)
            with open(os.path.join(work, "daemon.log")) as f:
                log = f.read()
            check(":%d/" % rx.port not in log, "the receiver's uri is not in the daemon's log")
    print("cdr-receiver-killed: %s" % ("passed" if not failures else
                                       "%d checks FAILED" % len(failures)))
    sys.exit(1 if failures else 0)


def run(args, api, rx):
    uri = "http://127.0.0.1:%d/cdr" % rx.port
    status, location, _ = api.call("POST", "system/cdrReceivers", {"uri": uri})
    if status != 200:
        sys.exit("cdr-receiver-killed: POST system/cdrReceivers: %d" % status)
    rid = location[-36:]
    sc = Scenario(api)

    # before: two calls made and ended, and a long call that spans the outage
    sc.short_call()
    sc.short_call()
    long_call = sc.start_call(1)
    check(wait(lambda: len(parse(rx.posts())) == sc.made, 20),
          "before the kill: %d records received" % sc.made)
    # and acknowledged: the receiver stores a POST before it answers 200, so a kill between the
    # two would have the sender post that batch again after the return (at-least-once, which
    # recordIndex lets a receiver see); the duplicate would be the test's making, not the sender's
    check(wait(lambda: "<recordsPending>0</recordsPending>" in delivery(api, rid), 20),
          "before the kill: the sender saw every record acknowledged (recordsPending 0)")

    rx.kill()
    killed = time.time()
    seen_reason = seen_alarm = False
    pending_max = 0
    while time.time() < killed + args.down:  # calls go on while it is down
        if len(sc.calls) < 40:
            sc.short_call()
        if len(sc.calls[long_call]) < 2 and time.time() > killed + args.down / 4:
            sc.add_leg(long_call)
        body = delivery(api, rid)
        if "<alarm>true</alarm>" in body and "<lastFailureReason>" in body:
            seen_reason = True
            text = body.split("<recordsPending>")[1].split("<")[0] if "<recordsPending>" in body \
                else "0"
            pending_max = max(pending_max, int(text))
        status, _, alarms = api.call("GET", "system/alarms")
        if status == 200 and "cdrConnectionFailure" in alarms and rid in alarms:
            seen_alarm = True
        time.sleep(min(3.0, max(0.0, killed + args.down - time.time())))
    check(seen_reason, "while down, the receiver showed <alarm>true</alarm> with its "
          "lastFailureReason (up to %d records pending)" % pending_max)
    check(seen_alarm, "while down, /system/alarms named cdrConnectionFailure for it")
    held = sc.made  # every record made so far (those before the kill were received)

    rx.start()  # the same port
    back = time.time()
    sc.short_call()
    sc.end_call(long_call)
    sc.short_call()
    got_all = wait(lambda: len(parse(rx.posts())) >= sc.made, 30)
    check(got_all, "after the return: every record within 30 s")
    recs = parse(rx.posts())
    after = [r for r in recs if r["t"] >= back]
    if after and len(recs) >= held:
        print("cdr-receiver-killed: measured: first POST %.1f s after the receiver's return; "
              "the %d records held during the outage all in %.1f s" % (
                  after[0]["t"] - back, held, recs[held - 1]["t"] - back))
    verify(recs, sc)
    check(wait(lambda: "<alarm>false</alarm>" in delivery(api, rid) and
               "<recordsPending>0</recordsPending>" in delivery(api, rid), 20),
          "after the return: <alarm>false</alarm> and recordsPending 0")
    check(wait(lambda: "cdrConnectionFailure" not in api.call("GET", "system/alarms")[2], 20),
          "after the return: cdrConnectionFailure gone from /system/alarms")


if __name__ == "__main__":
    main()
