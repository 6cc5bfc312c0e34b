#!/usr/bin/python3
"""Compares the shape of callbridged's GET answers with Cisco's API blueprint (apiary.apib).

Usage: scripts/bench/apiary_shapes.py path/to/callbridged path/to/apiary.apib [--json out.json]
           [--only coSpaces,calls,...]

The blueprint is read first: for every GET section (a list, "[GET]" under a collection, or one
object, "[GET /coSpaces/{coSpaceId}]") the first column of its "Response elements" table and
its XML examples give the element names CMS answers with, their attributes and, in the
examples, their nesting. Then callbridged is started as cms_collection.py starts it (a fresh
data directory, a port the kernel picks, stopped by its PID), one object of each kind is made
through the API with typical parameters (a call with a leg placed by the call matching
included), and every GET section the blueprint has and callbridged can be asked is fetched.
One line per section: the blueprint's path, our status, and the differences:
  root     the answer's element (or a list's item element) has another name
  attr     an attribute (id, total) the blueprint has and ours lacks, or the reverse
  missing  a documented element ours does not give (often: a field with no value here)
  extra    an element of ours the blueprint does not document
  case     the same name spelled with another case (a misspelling on one side)
  nesting  the same name under another parent
  note     what the comparison had to assume (an empty list here, a blueprint inconsistency)
A table row names an element but not its parent, so a table name matches at any depth; an
example's element must be at the same place. Where the blueprint and the clients disagree, the
clients win: CLIENT_SPELLING below lists those names, with the evidence.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/bench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cms_collection as cc  # noqa: E402  (start_daemon, stop_daemon, Api, make_objects)

# Blueprint spellings that real CMS clients contradict: blueprint name -> what clients read.
# Evidence is in docs/api-coverage.md ("Answer shapes").
CLIENT_SPELLING = {}

# Elements the blueprint documents in prose rather than in a table or an example (expected as
# a table's are: the objects made here have what they count).
PROSE = {"cospaces/{}": ["numAccessMethods"]}  # apiary.apib:1135

# Where the blueprint contradicts itself or the clients; printed with the section's result.
BLUEPRINT_ERRORS = {
    "webbridgeprofiles": "the example is callBridges' (<callBridges total=...>) pasted here",
    "webbridgeprofiles/{}": "the example's element is <webBridgeProfileid> with no id",
    "layouttemplates": "the example's list has no total, which every CMS list has",
    "calllegprofiles/{}/usage": "the example shows only <global/>; tenants, coSpaces, access "
                                "methods are items of the same list (the prose says so)",
    "turnservers/{}": "the status table (/turnServers/<id>/status) is pasted under GET one",
    "dialtransforms": "the table says Type, the example type",
    "cospaces/{}/cospaceusers": "the example is one <coSpaceUser> without its list, and quotes "
                                "its values",
}

# Blueprint paths with a typo in the path itself -> the path CMS serves.
PATH_FIX = {"call/{}": "calls/{}", "dialtransform/{}": "dialtransforms/{}",
            "participant/{}/calllegs": "participants/{}/calllegs",
            "users/userid/usercospacetemplates": "users/{}/usercospacetemplates",
            "cospacebulkparametersets": "cospacebulkparametersets",
            "tenants/<tenant id>/effectivewebbridgeprofile": "tenants/{}/effectivewebbridgeprofile",
            "effectivewebbridgeprofile": "webbridges/{}/effectivewebbridgeprofile",
            # the heading says /callLegProfiles/<id>/...; its text and the hierarchy (line 54)
            # say /callLegs/<id>/callLegProfileTrace
            "calllegprofiles/{}/calllegprofiletrace": "calllegs/{}/calllegprofiletrace"}

# The id that fills {} after a collection segment (lower case) -> cms_collection's variable.
ID_VAR = {"cospaces": "coSpaceID", "accessmethods": "accessMethodID", "calls": "callID",
          "calllegs": "callLegID", "participants": "participantID",
          "calllegprofiles": "callLegProfileID", "callprofiles": "callProfileID",
          "dtmfprofiles": "dtmfProfileID", "callbrandingprofiles": "callBrandingProfileID",
          "ivrbrandingprofiles": "ivrBrandingProfileID",
          "dialinsecurityprofiles": "dialInSecurityProfileID",
          "compatibilityprofiles": "compatibilityProfileID",
          "layouttemplates": "layoutTemplateID", "userprofiles": "userProfileID",
          "webbridgeprofiles": "webBridgeProfileID", "webbridges": "webBridgeID",
          "tenants": "tenantID", "tenantgroups": "tenantGroupID",
          "callbridges": "callBridgeID", "callbridgegroups": "callBridgeGroupID",
          "turnservers": "turnServerID", "inbounddialplanrules": "inboundDialPlanRuleID",
          "outbounddialplanrules": "outboundDialPlanRuleID",
          "forwardingdialplanrules": "forwardingDialPlanRuleID",
          "dialtransforms": "dialTransformID", "ivrs": "ivrID",
          "cdrreceivers": "cdrReceiverID", "recorders": "recorderID", "streamers": "streamerID",
          "cospacetemplates": "coSpaceTemplateID",
          "accessmethodtemplates": "accessMethodTemplateID",
          "cospacebulkparametersets": "coSpaceBulkParameterSetID",
          "cospaceusers": "coSpaceUserID", "diagnostics": "diagnosticsID",
          "cospacebulksyncs": "coSpaceBulkSyncID"}

# Typical parameters set with PUT after cms_collection made the objects, so that the fields
# an administrator usually sets are present. variable -> (collection, form).
TYPICAL = {
    "coSpaceID": ("coSpaces", {"secondaryUri": "bench.space2", "passcode": "4321",
                               "defaultLayout": "allEqual", "cdrTag": "bench",
                               "ownerJid": "owner@bench.example.com",
                               "nonMemberAccess": "true", "streamUrl": "rtmp://127.0.0.1/x",
                               "callProfile": "{callProfileID}",
                               "callLegProfile": "{callLegProfileID}",
                               "callBrandingProfile": "{callBrandingProfileID}",
                               "tenant": ""}),
    "accessMethodID": ("coSpaces/{coSpaceID}/accessMethods",
                       {"name": "bench am", "callId": "700100201", "passcode": "5678",
                        "callLegProfile": "{callLegProfileID}", "scope": "public"}),
    "callLegProfileID": ("callLegProfiles", {"name": "bench clp", "needsActivation": "false",
                                             "defaultLayout": "speakerOnly",
                                             "rxAudioMute": "false", "muteSelfAllowed": "true"}),
    "callProfileID": ("callProfiles", {"name": "bench cp", "participantLimit": "10",
                                       "locked": "false", "recordingMode": "disabled"}),
    "dtmfProfileID": ("dtmfProfiles", {"name": "bench dtmf", "muteSelfAudio": "*5"}),
    "callBrandingProfileID": ("callBrandingProfiles", {"name": "bench cbp",
                                                       "invitationTemplate": "https://x/y"}),
    "ivrBrandingProfileID": ("ivrBrandingProfiles", {"name": "bench ibp",
                                                     "resourceLocation": "https://x/y"}),
    "dialInSecurityProfileID": ("dialInSecurityProfiles", {"name": "bench dsp",
                                                           "passcodeMinLength": "4"}),
    "compatibilityProfileID": ("compatibilityProfiles", {"name": "bench comp"}),
    "userProfileID": ("userProfiles", {"name": "bench up", "canCreateCoSpaces": "true"}),
    "webBridgeProfileID": ("webBridgeProfiles", {"name": "bench wbp",
                                                 "allowPasscodes": "true"}),
    "layoutTemplateID": ("layoutTemplates", {"name": "bench layout"}),
    "tenantID": ("tenants", {"callProfile": "{callProfileID}",
                             "callLegProfile": "{callLegProfileID}"}),
    "tenantGroupID": ("tenantGroups", {}),
    "callBridgeID": ("callBridges", {"address": "https://127.0.0.1:9",
                                     "sipDomain": "bench.example.com"}),
    "inboundDialPlanRuleID": ("inboundDialPlanRules", {"priority": "10",
                                                       "resolveToCoSpaces": "true"}),
    "outboundDialPlanRuleID": ("outboundDialPlanRules", {"priority": "5",
                                                         "sipProxy": "proxy.example.org",
                                                         "localContactDomain": "",
                                                         "localFromDomain": "bench.example.com",
                                                         "trunkType": "sip",
                                                         "failureAction": "stop",
                                                         "callRouting": "default"}),
    "ivrID": ("ivrs", {"callId": "700100300"}),
    "turnServerID": ("turnServers", {"clientAddress": "127.0.0.1", "numRegistrations": "0"}),
    "webBridgeID": ("webBridges", {"tenant": "{tenantID}"}),
    "callBridgeGroupID": ("callBridgeGroups", {"loadBalancingEnabled": "true"}),
    "coSpaceTemplateID": ("coSpaceTemplates", {"description": "bench",
                                               "callProfile": "{callProfileID}",
                                               "callLegProfile": "{callLegProfileID}",
                                               "dialInSecurityProfile":
                                               "{dialInSecurityProfileID}"}),
}
# Nodes that are one object: path -> form.
TYPICAL_NODES = {
    "system/configuration/cluster": {"uniqueName": "bench-cb", "peerLinkBitRate": "2000000",
                                     "participantLimit": "100", "loadLimit": "1000",
                                     "maxPeerVideoStreams": "2"},
    "system/profiles": {"callLegProfile": "{callLegProfileID}", "callProfile": "{callProfileID}",
                        "dtmfProfile": "{dtmfProfileID}", "userProfile": "{userProfileID}",
                        "callBrandingProfile": "{callBrandingProfileID}",
                        "ivrBrandingProfile": "{ivrBrandingProfileID}",
                        "dialInSecurityProfile": "{dialInSecurityProfileID}"},
}


def strip_tags(s):
    return re.sub(r"<[^>]*>", " ", s).strip()


def table_names(text):
    """(element names, attribute names) of the Response elements tables in text."""
    names, attrs = [], []
    for tab in re.finditer(r"<th>\s*Response elements\s*</th>(.*?)</table>", text, re.S):
        for row in re.split(r"<tr>", tab.group(1))[1:]:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            if not cells:
                continue
            words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", strip_tags(cells[0]))
            if not words and len(cells) > 3:  # a sub-element of the row above, named in cell 2
                words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", strip_tags(cells[1]))[:1]
            if not words:
                continue
            if len(words) >= 2 and words[1] == "id":
                attrs.append("id")
            else:
                names.append(words[0])
    return names, attrs


def any_table_names(text):
    """The first column of every table in text (sub-tables such as a participant's status have
    their own headings): names the section documents somewhere."""
    names = []
    for tab in re.finditer(r"<table>(.*?)</table>", text, re.S):
        for row in re.split(r"<tr>", tab.group(1))[1:]:
            cell = re.search(r"<td[^>]*>(.*?)</td>", row, re.S)
            words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", strip_tags(cell.group(1))) if cell else []
            names += words[:1]
    return names


def examples(text):
    """The XML bodies of the responses in text."""
    out = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() != "+ Body":
            continue
        body, indent = [], None
        for nxt in lines[i + 1:]:
            if not nxt.strip():
                if body:
                    body.append("")
                continue
            ind = len(nxt) - len(nxt.lstrip())
            if indent is None:
                if not nxt.strip().startswith("<"):
                    break
                indent = ind
            if ind < indent:
                break
            body.append(nxt[indent:])
        if body:
            out.append("\n".join(body).strip())
    return out


class Node:
    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children = tag, set(attrs), []


def parse_xml(text):
    """A Node tree; lenient, as the blueprint's examples are not all well formed."""
    try:
        root = ET.fromstring(text.encode())

        def conv(e):
            n = Node(e.tag, e.attrib.keys())
            n.children = [conv(c) for c in e]
            return n
        return conv(root)
    except ET.ParseError:
        pass
    stack, root = [], None
    for m in re.finditer(r"<(/?)([A-Za-z_][\w.-]*)([^>]*?)(/?)>", text):
        close, tag, rest, empty = m.groups()
        if close:
            while stack and stack[-1].tag != tag:
                stack.pop()
            if stack:
                stack.pop()
            continue
        n = Node(tag, re.findall(r"([A-Za-z_][\w.-]*)\s*=", rest))
        if stack:
            stack[-1].children.append(n)
        elif root is None:
            root = n
        else:
            continue
        if not empty:
            stack.append(n)
    return root


def paths(node, prefix=""):
    """Every element below node as a path ("status/state") and every attribute ("@id")."""
    out = set()
    for c in node.children:
        p = prefix + c.tag
        out.add(p)
        out |= {p + "/@" + a for a in c.attrs}
        out |= paths(c, p + "/")
    return out


def merge(into, n):
    into.attrs |= n.attrs
    for c in n.children:
        same = [x for x in into.children if x.tag == c.tag]
        if same:
            merge(same[0], c)
        else:
            into.children.append(Node(c.tag, c.attrs))
            merge(into.children[-1], c)


def section_key(path):
    # "GET /cospaceBulkSyncs/{cospaceBulkParameterSet}" is the list (the set is a parameter)
    path = path.replace("/{cospaceBulkParameterSet}", "")
    path = re.sub(r"\{\?[^}]*\}", "", path).strip().strip("/")
    path = re.sub(r"\{[^}]*\}", "{}", path).rstrip("/")
    key = path.lower()
    return PATH_FIX.get(key, key)


def data_structures(lines):
    """name (lower case) -> parameter names, from the blueprint's "# Data Structures"."""
    out, cur, inside = {}, None, False
    for line in lines:
        if line.startswith("# Data Structures"):
            inside = True
        elif inside and line.startswith("## "):
            cur = out.setdefault(line[3:].split("(")[0].strip().lower(), [])
        elif inside and cur is not None:
            m = re.match(r"^\+ ([A-Za-z][A-Za-z0-9_]*)", line)
            if m:
                cur.append(m.group(1))
    return out


def post_params(text, structs):
    """The parameters a POST/PUT section documents: its Parameters tables and Attributes."""
    names = []
    for tab in re.finditer(r"<th>\s*Parameters\s*</th>(.*?)</table>", text, re.S):
        for row in re.split(r"<tr>", tab.group(1))[1:]:
            cell = re.search(r"<td[^>]*>(.*?)</td>", row, re.S)
            words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", strip_tags(cell.group(1))) if cell else []
            names += words[:1]
    for m in re.finditer(r"\+ Attributes \(([^)]*)\)", text):
        names += structs.get(m.group(1).strip().lower(), [])
    return names


def parse_apiary(fname):
    """key ("cospaces/{}") -> {line, table, tattrs, examples, params} for every GET section;
    params: what the POST/PUT sections of the same collection document (a GET of one object
    answers "the data as described for the create and modify case") and what any table of the
    section names: an element of ours named there is not "extra"."""
    lines = open(fname, encoding="utf-8", errors="replace").readlines()
    structs = data_structures(lines)
    secs, posts, base, cur = {}, {}, None, None
    for no, line in enumerate(lines, 1):
        m = re.match(r"^(#+)\s*(.*?)\s*\[([^\]]*)\]\s*$", line)
        if m or re.match(r"^#\s", line):
            cur = None
        if not m:
            if cur is not None:
                cur["text"].append(line)
            continue
        inside = m.group(3).strip()
        mm = re.match(r"^(GET|POST|PUT|DELETE)\s*(/.*)?$", inside)
        if not mm:
            if inside.startswith("/"):
                base = inside
            continue
        path = mm.group(2) or base
        if not path or mm.group(1) == "DELETE":
            continue
        key = section_key(path)
        if mm.group(1) == "GET":
            cur = secs.setdefault(key, {"line": no, "text": []})
        else:
            key = re.sub(r"/[^/]*[<{][^/]*$", "", key.rstrip("/")).rstrip("/")
            cur = posts.setdefault(PATH_FIX.get(key, key), {"line": no, "text": []})
    out = {}
    for key, s in secs.items():
        text = "".join(s["text"])
        names, attrs = table_names(text)
        exs = [x for x in (parse_xml(e) for e in examples(text)) if x is not None]
        coll = re.sub(r"/\{\}$", "", key)
        params = post_params("".join(posts.get(coll, {"text": []})["text"]), structs)
        out[key] = {"line": s["line"], "table": names, "tattrs": attrs, "examples": exs,
                    "params": params + any_table_names(text), "prose": PROSE.get(key, [])}
    return out


def expected(sec):
    """(root tag, root attrs, item tag or None, item Node) merged from the examples."""
    roots = [e for e in sec["examples"] if e.tag not in ("failureDetails",)]
    if not roots:
        return None
    root = Node(roots[0].tag, set())
    for r in roots:
        if r.tag == root.tag:
            merge(root, r)
    is_list = "total" in root.attrs or (root.children and all(
        c.tag == root.children[0].tag for c in root.children) and root.tag.endswith("s")
        and len(root.children) >= 1 and root.children[0].attrs == {"id"})
    if is_list and root.children:
        item = Node(root.children[0].tag, set())
        for c in root.children:
            if c.tag == item.tag:
                merge(item, c)
        return root.tag, root.attrs, item.tag, item
    return root.tag, root.attrs, None, root


def compare(sec, ours_root):
    """The list of differences between the blueprint section and our answer's root."""
    diffs = []
    exp = expected(sec)
    ours_is_list = "total" in ours_root.attrs
    if exp and ours_is_list and exp[2] is None and "total" not in exp[1] and \
            exp[0] != ours_root.tag and exp[3].attrs == {"id"}:
        # the blueprint's example shows one item without its list (coSpaceUsers)
        diffs.append(("note", "the example shows an item without its list"))
        exp = (ours_root.tag, {"total"}, exp[0], exp[3])
    if ours_is_list and not ours_root.children:
        # nothing to compare an item with: only the list element itself
        diffs.append(("note", "empty list here"))
        if exp and exp[0] != ours_root.tag:
            diffs.append(("case" if exp[0].lower() == ours_root.tag.lower() else "root",
                          "%s (ours %s)" % (exp[0], ours_root.tag)))
        if exp and "total" not in exp[1]:
            diffs.append(("attr", "%s@total extra" % ours_root.tag))
        return diffs
    if exp and ours_is_list and exp[2] is None and "total" in exp[1]:
        # the example is an empty list: items are described by the table alone
        exp = (exp[0], exp[1], None, Node("?", {"id"}))
    if ours_is_list:
        item = Node(ours_root.children[0].tag if ours_root.children else "?", set())
        for c in ours_root.children:
            if c.tag == item.tag:
                merge(item, c)
        ours_paths = paths(item) | {"@" + a for a in item.attrs}
    else:
        item = ours_root
        ours_paths = paths(ours_root) | {"@" + a for a in ours_root.attrs}
    # every listed object has its id; not the items of a usage list (<global/>)
    exp_paths = {"@id"} if ours_is_list and "id" not in ours_root.attrs else set()
    if exp:
        etag, eattrs, eitem, enode = exp
        if etag != ours_root.tag:
            diffs.append(("case" if etag.lower() == ours_root.tag.lower() else "root",
                          "%s (ours %s)" % (etag, ours_root.tag)))
        for a in sorted(eattrs ^ ours_root.attrs):
            diffs.append(("attr", "%s@%s %s" % (etag, a, "missing" if a in eattrs else "extra")))
        if eitem and ours_is_list and eitem != item.tag:
            diffs.append(("case" if eitem.lower() == item.tag.lower() else "root",
                          "item %s (ours %s)" % (eitem, item.tag)))
        exp_paths |= paths(enode) | {"@" + a for a in enode.attrs}
    table = set(sec["table"]) | set(sec.get("prose", [])) | {"@" + a for a in sec["tattrs"]}
    exp_paths = {CLIENT_SPELLING.get(p, p) for p in exp_paths}
    table = {CLIENT_SPELLING.get(p, p) for p in table}
    ex_lower = {p.rsplit("/", 1)[-1].lower(): p.rsplit("/", 1)[-1] for p in exp_paths}
    for t in sorted(table):
        if t.lower() in ex_lower and ex_lower[t.lower()] != t:
            diffs.append(("note", "table %s, example %s: the example's spelling is used" %
                          (t, ex_lower[t.lower()])))
            table.discard(t)
    ours_leaf = {p.rsplit("/", 1)[-1] for p in ours_paths}
    ours_lower = {p.lower(): p for p in ours_paths}
    leaf_lower = {p.rsplit("/", 1)[-1].lower(): p for p in ours_paths}
    matched = set()
    for p in sorted(exp_paths):
        if p in ours_paths:
            matched.add(p)
            continue
        leaf = p.rsplit("/", 1)[-1]
        if p.lower() in ours_lower:
            diffs.append(("case", "%s (ours %s)" % (p, ours_lower[p.lower()])))
            matched.add(ours_lower[p.lower()])
        elif leaf in ours_leaf:
            other = [q for q in ours_paths if q.rsplit("/", 1)[-1] == leaf]
            diffs.append(("nesting", "%s (ours %s)" % (p, ", ".join(sorted(other)))))
            matched |= set(other)
        else:
            diffs.append(("missing", p))
    for t in sorted(table):
        if t in ours_leaf or t in exp_paths:
            matched |= {q for q in ours_paths if q.rsplit("/", 1)[-1] == t}
            continue
        if t.lower() in leaf_lower:
            diffs.append(("case", "%s (ours %s)" % (t, leaf_lower[t.lower()])))
            matched.add(leaf_lower[t.lower()])
        elif not any(d[1] == t for d in diffs):
            diffs.append(("missing", t))
    documented = {x.rsplit("/", 1)[-1].lower() for x in exp_paths | table}
    documented |= {x.lower() for x in sec.get("params", [])}
    documented |= {x.lower() for x in sec.get("prose", [])}
    for p in sorted(ours_paths - matched):
        leaf = p.rsplit("/", 1)[-1]
        parent_extra = any(p.startswith(q + "/") for q in ours_paths - matched
                           if q.rsplit("/", 1)[-1].lower() not in documented)
        if leaf.lower() not in documented and not parent_extra:
            diffs.append(("extra", p))
    return diffs


def fill(template, ids):
    segs, out = template.split("/"), []
    for i, s in enumerate(segs):
        if s == "{}":
            var = ID_VAR.get(segs[i - 1] if i else "")
            if not var or not ids.get(var):
                return None
            out.append(ids[var])
        else:
            out.append(s)
    return "/".join(out)


def make_typical(api, ids):
    for var, (coll, form) in TYPICAL.items():
        if not ids.get(var):
            continue
        path = cc.fill(coll, ids) + "/" + ids[var]
        status, _, body = api.call("PUT", path, {k: cc.fill(v, ids) if v else v
                                                 for k, v in form.items()})
        if status != 200:
            print("note: PUT %s: %d %s" % (path, status, body.strip()[:120]), file=sys.stderr)
    if ids.get("layoutTemplateID"):  # a template body, as JSON (not a form)
        req = urllib.request.Request(api.base + "/api/v1/layoutTemplates/%s/template" %
                                     ids["layoutTemplateID"], data=b'{"templateDefinition":[]}',
                                     method="PUT")
        req.add_header("Authorization", api.auth)
        req.add_header("Content-Type", "application/json")
        try:
            urllib.request.urlopen(req, context=api.ctx, timeout=10).read()
        except urllib.error.HTTPError as e:
            print("note: PUT layout template body: %d" % e.code, file=sys.stderr)
    for path, form in TYPICAL_NODES.items():
        status, _, body = api.call("PUT", path, {k: cc.fill(v, ids) for k, v in form.items()})
        if status != 200:
            print("note: PUT %s: %d %s" % (path, status, body.strip()[:120]), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("daemon")
    ap.add_argument("apiary")
    ap.add_argument("--json", help="also write the differences here")
    ap.add_argument("--only", help="comma-separated blueprint keys (as printed) to check")
    ap.add_argument("--dump", action="store_true", help="also print each answer of ours")
    args = ap.parse_args()

    secs = parse_apiary(args.apiary)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cbshapes.") as work:
        proc, port, password = cc.start_daemon(args.daemon, work)
        try:
            api = cc.Api("https://127.0.0.1:%d" % port, password, os.path.join(work, "cert.pem"))
            ids, _ = cc.make_objects(api)
            make_typical(api, ids)
            status, loc, _ = api.call("POST", "coSpaceBulkSyncs", {
                "coSpaceBulkParameterSet": ids.get("coSpaceBulkParameterSetID") or ""})
            if status == 200 and loc:
                ids["coSpaceBulkSyncID"] = loc.rstrip("/").rsplit("/", 1)[-1]
            status, loc, _ = api.call("POST", "calls/%s/diagnostics" % ids.get("callID"))
            if status == 200 and loc:
                ids["diagnosticsID"] = loc.rstrip("/").rsplit("/", 1)[-1]
            ids["coSpaceUserID"] = api.create("coSpaces/%s/coSpaceUsers" % ids.get("coSpaceID"),
                                              {"userJid": "member@bench.example.com",
                                               "canChangeName": "true"})
            only = set(args.only.lower().split(",")) if args.only else None
            for key in sorted(secs):
                if only and key not in only:
                    continue
                sec = secs[key]
                path = fill(key, ids)
                if path is None:
                    rows.append({"key": key, "line": sec["line"], "status": "-",
                                 "diffs": [("skipped", "no object of this kind here")]})
                    continue
                status, _, body = api.call("GET", path)
                row = {"key": key, "line": sec["line"], "status": status, "diffs": []}
                if args.dump:
                    row["body"] = body
                if status != 200:
                    row["diffs"].append(("status", body.strip()[:100]))
                elif not sec["examples"] and not sec["table"]:
                    row["diffs"].append(("skipped", "the blueprint gives no shape"))
                else:
                    root = parse_xml(re.sub(r"^<\?xml[^>]*\?>", "", body.strip()))
                    if root is None:
                        row["diffs"].append(("status", "no XML answer"))
                    else:
                        row["diffs"] = compare(sec, root)
                if key in BLUEPRINT_ERRORS:
                    row["diffs"].append(("note", "blueprint: " + BLUEPRINT_ERRORS[key]))
                rows.append(row)
        finally:
            cc.stop_daemon(proc)

    kinds = ("root", "attr", "case", "nesting", "extra", "missing", "status", "skipped", "note")
    totals = {k: 0 for k in kinds}
    for r in rows:
        print("%s (apiary.apib:%d) %s" % (r["key"], r["line"], r["status"]))
        if r.get("body"):
            print("    ours     " + r["body"].strip())
        for kind in kinds:
            names = [d[1] for d in r["diffs"] if d[0] == kind]
            totals[kind] += len(names)
            if names:
                print("    %-8s %s" % (kind, ", ".join(names)))
    print("sections: %d; " % len(rows) + "; ".join("%s: %d" % (k, totals[k]) for k in kinds))
    if args.json:
        json.dump({"rows": rows, "totals": totals}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
