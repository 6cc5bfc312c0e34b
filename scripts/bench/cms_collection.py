#!/usr/bin/python3
"""Runs Cisco's CMS Postman collection against a callbridged started here, with real ids.

Usage: scripts/bench/cms_collection.py path/to/callbridged path/to/cms-collection.json
           [--env path/to/cms-env.json] [--newman path/to/newman] [--json out.json]

The daemon listens on 127.0.0.1 on a port the kernel picks, with a fresh data directory, and
is stopped by its PID. Before the run, real objects (tenant, tenant group, coSpace, TURN
server, dial plan rules, a call and a call leg, ...) are created through the API so that the
environment's *ID variables name objects that exist; an object callbridged cannot create gets a
random id. newman runs the collection (it is Cisco's, github.com/ciscocms/cms-postman-collection,
not part of this repository) and one line per request is printed: folder, name, method, path,
status and verdict, then the totals. Verdicts: implemented (the answer came from an object
callbridged has: 200, or a 400/404 naming a CMS failure reason), 404 unrecognizedObject, 405,
other (anything else: no answer, 5xx, an unexpected body). The LDAP folder's requests are also
counted on their own ("of which LDAP").
"""
import argparse
import base64
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Api:
    def __init__(self, base, password, cafile):
        self.base = base
        self.auth = "Basic " + base64.b64encode(b"admin:" + password.encode()).decode()
        self.ctx = ssl.create_default_context(cafile=cafile)

    def call(self, method, path, form=None):
        data = urllib.parse.urlencode(form or {}).encode() if method in ("POST", "PUT") else None
        req = urllib.request.Request(self.base + "/api/v1/" + path, data=data, method=method)
        req.add_header("Authorization", self.auth)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, r.headers.get("Location", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, "", e.read().decode()

    def create(self, path, form=None):
        """The new object's id, or None when callbridged refused or does not have it."""
        status, location, _ = self.call("POST", path, form)
        return location.rstrip("/").rsplit("/", 1)[-1] if status == 200 and location else None


def start_daemon(daemon, work):
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    log = open(os.path.join(work, "daemon.log"), "w")
    env = dict(os.environ, CALLBRIDGE_ADMIN_PASSWORD=password)
    proc = subprocess.Popen([daemon, "--data-dir", work, "--bind", "127.0.0.1", "--listen", "0",
                             "--threads", "2"], stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        text = open(os.path.join(work, "daemon.log")).read()
        m = re.search(r"listening on https://127\.0\.0\.1:(\d+)", text)
        if " ready (" in text and m:
            return proc, int(m.group(1)), password
        time.sleep(0.1)
    stop_daemon(proc)
    sys.exit("cms_collection: callbridged did not start:\n" + open(log.name).read())


def stop_daemon(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Objects with parameters; each entry: variable, collection path, form (ids in {} filled in).
SPECIFIC = [
    ("tenantGroupID", "tenantGroups", {}),
    ("tenantID", "tenants", {"name": "bench tenant"}),
    ("callBridgeGroupID", "callBridgeGroups", {"name": "bench group"}),
    ("callBridgeID", "callBridges", {"name": "bench-cb", "callBridgeGroup": "{callBridgeGroupID}"}),
    ("coSpaceID", "coSpaces", {"name": "bench space", "uri": "bench.space", "callId": "700100200"}),
    ("turnServerID", "turnServers", {"serverAddress": "127.0.0.1", "type": "standard",
                                     "username": "bench", "password": "bench-turn"}),
    ("inboundDialPlanRuleID", "inboundDialPlanRules", {"domain": "bench.example.com"}),
    ("outboundDialPlanRuleID", "outboundDialPlanRules", {"domain": "*.example.org"}),
    ("forwardingDialPlanRuleID", "forwardingDialPlanRules",
     {"matchPattern": "*.example.net", "action": "forward", "destinationDomain": "example.org"}),
    ("dialTransformID", "dialTransforms", {"type": "raw", "match": "($1/^9/)"}),
    ("ivrID", "ivrs", {"uri": "bench.ivr"}),
    ("callID", "calls", {"coSpace": "{coSpaceID}"}),
    ("accessMethodID", "coSpaces/{coSpaceID}/accessMethods", {"uri": "bench.am"}),
    ("webBridgeID", "webBridges", {"url": "https://127.0.0.1:9/"}),
    ("cdrReceiverID", "system/cdrReceivers", {"uri": "http://127.0.0.1:9/"}),
    ("recorderID", "recorders", {"url": "https://127.0.0.1:9/"}),
    ("streamerID", "streamers", {"url": "https://127.0.0.1:9/"}),
    ("coSpaceTemplateID", "coSpaceTemplates", {"name": "bench template"}),
    ("accessMethodTemplateID", "coSpaceTemplates/{coSpaceTemplateID}/accessMethodTemplates",
     {"name": "bench am template"}),
    ("coSpaceBulkParameterSetID", "coSpaceBulkParameterSets",
     {"startIndex": "1", "endIndex": "2", "coSpaceUriMapping": "bench.$index$"}),
    # LDAP (api/res/ldap.c): a server on a closed port, so the sync ends failed (ldapError), and
    # stays listed for the collection's Retrieve and Cancel
    ("ldapServerID", "ldapServers", {"address": "127.0.0.1", "portNumber": "9", "secure": "false",
                                     "username": "bench", "password": "bench-ldap"}),
    ("ldapMappingID", "ldapMappings", {"jidMapping": "$uid$@bench.example", "nameMapping": "$cn$"}),
    ("ldapSourceID", "ldapSources", {"server": "{ldapServerID}", "mapping": "{ldapMappingID}",
                                     "baseDn": "dc=bench,dc=example"}),
    ("directorySearchLocationID", "directorySearchLocations", {"ldapServer": "{ldapServerID}"}),
    ("ldapUserCoSpaceTemplateSourceID", "ldapUserCoSpaceTemplateSources",
     {"coSpaceTemplate": "{coSpaceTemplateID}", "ldapSource": "{ldapSourceID}"}),
    ("ldapSyncID", "ldapSyncs", {"ldapSource": "{ldapSourceID}", "removeWhenFinished": "false"}),
]
# Objects created without parameters: variable -> collection.
PLAIN = {
    "callLegProfileID": "callLegProfiles", "callProfileID": "callProfiles",
    "dtmfProfileID": "dtmfProfiles", "callBrandingProfileID": "callBrandingProfiles",
    "ivrBrandingProfileID": "ivrBrandingProfiles",
    "dialInSecurityProfileID": "dialInSecurityProfiles",
    "compatibilityProfileID": "compatibilityProfiles", "layoutTemplateID": "layoutTemplates",
    "userProfileID": "userProfiles", "webBridgeProfileID": "webBridgeProfiles",
}


def fill(value, ids):
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1)) or str(uuid.uuid4()), value)


def make_objects(api):
    ids, made = {}, {}
    for var, coll in PLAIN.items():
        ids[var] = api.create(coll)
    for var, path, form in SPECIFIC:
        ids[var] = api.create(fill(path, ids), {k: fill(v, ids) for k, v in form.items()})
    # a call leg placed by the call matching into the call of the space
    if ids.get("inboundDialPlanRuleID") and ids.get("coSpaceID"):
        ids["callLegID"] = api.create("callLegs", {"destination": "bench.space@bench.example.com"})
    if ids.get("callID"):
        status, _, body = api.call("GET", "calls/%s/participants" % ids["callID"])
        m = re.search(r'<participant id="([0-9a-f-]{36})"', body) if status == 200 else None
        ids["participantID"] = m.group(1) if m else None
    for var, value in ids.items():
        made[var] = value is not None
    return ids, made


def write_env(src, dst, ids, port, password):
    env = json.load(open(src))
    fixed = {"mmpHost": "127.0.0.1:%d" % port, "mmpUser": "admin", "mmpPass": password,
             "limit": "10", "offset": "0", "filter": "", "callCorrelator": str(uuid.uuid4()),
             "userAdGUID": str(uuid.uuid4())}
    for v in env["values"]:
        key = v["key"]
        if key in fixed:
            v["value"] = fixed[key]
        elif key.endswith("ID"):
            v["value"] = ids.get(key) or str(uuid.uuid4())
    json.dump(env, open(dst, "w"))


def folders(collection):
    """(folder, name) of every request, in the order newman runs them."""
    out = []

    def walk(items, path):
        for it in items:
            if "item" in it:
                walk(it["item"], path + [it["name"]])
            else:
                out.append(("/".join(path) or "-", it["name"]))
    walk(json.load(open(collection))["item"], [])
    return out


def verdict(status, body):
    if status == 404 and "unrecognizedObject" in body:
        return "404 unrecognizedObject"
    if status == 405:
        return "405"
    if status == 200:
        return "implemented"
    if status in (400, 404) and re.search(r"<failureDetails>\s*<\w+", body):
        return "implemented"
    return "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("daemon")
    ap.add_argument("collection")
    ap.add_argument("--env", default=os.path.join(os.path.dirname(os.path.abspath(sys.argv[2]))
                                                  if len(sys.argv) > 2 else ".", "cms-env.json"))
    ap.add_argument("--newman", default=os.path.join(TOP, "tests/postman/node_modules/.bin/newman"))
    ap.add_argument("--json", help="also write the per-request results here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="cbcoll.") as work:
        proc, port, password = start_daemon(args.daemon, work)
        try:
            api = Api("https://127.0.0.1:%d" % port, password, os.path.join(work, "cert.pem"))
            ids, made = make_objects(api)
            env = os.path.join(work, "env.json")
            write_env(args.env, env, ids, port, password)
            report = os.path.join(work, "newman.json")
            subprocess.run([args.newman, "run", args.collection, "-e", env,
                            "--ssl-extra-ca-certs", os.path.join(work, "cert.pem"),
                            "--timeout-request", "10000", "--color", "off",
                            "--reporters", "json", "--reporter-json-export", report],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
            run = json.load(open(report))["run"]
        finally:
            stop_daemon(proc)

    order = folders(args.collection)
    rows, totals = [], {}
    for i, ex in enumerate(run["executions"]):
        folder, name = order[i] if i < len(order) else ("-", ex["item"]["name"])
        req, resp = ex.get("request", {}), ex.get("response")
        url = req.get("url", {})
        path = "/" + "/".join(url.get("path", [])) if isinstance(url, dict) else str(url)
        status = resp.get("code", 0) if resp else 0
        body = bytes(resp["stream"]["data"]).decode("utf-8", "replace") if resp and resp.get(
            "stream") else ""
        v = verdict(status, body)
        rows.append({"folder": folder, "name": name, "method": req.get("method", "?"),
                     "path": path, "status": status, "verdict": v})
        totals[v] = totals.get(v, 0) + 1
        if folder.startswith("LDAP"):
            key = "of which LDAP " + v
            totals[key] = totals.get(key, 0) + 1
    for r in rows:
        print("%s | %s | %s %s | %s | %s" % (r["folder"], r["name"], r["method"], r["path"],
                                             r["status"], r["verdict"]))
    print("objects created: %d of %d (%s not creatable)" % (
        sum(made.values()), len(made), ", ".join(sorted(k for k, v in made.items() if not v))))
    print("requests: %d; " % len(rows) + "; ".join("%s: %d" % kv for kv in sorted(totals.items())))
    if args.json:
        json.dump({"rows": rows, "totals": totals, "made": made}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
