#!/usr/bin/python3
"""Runs the API tasks of public CMS Ansible deployment roles, unchanged, against a callbridged.

Usage: scripts/bench/ansible_roles.py path/to/callbridged ROLE_CHECKOUT... [--json out.json]

A ROLE_CHECKOUT is a clone of a public role repository
(andrei-madalin/Deploy_Cisco_CMS_with_Ansible, oigarash-cisco/ansible_cisco_cms). They have no
licence, so nothing of them is copied into this repository: this script reads them where they are.
The daemon listens on 127.0.0.1 on a port the kernel picks, with a fresh data directory
(scripts/bench/cms_collection.py's start_daemon), and is stopped by its PID. For each checkout a
playbook is built in a temporary directory: every `uri` task of the role's task files, in the order
of the role's tasks/main.yml (import_tasks and include_tasks followed), each task dict as PyYAML
loads it, untouched. The tasks of CMS's MMP shell (`raw`: certificates, listeners, `xmpp callbridge
list`, ...) are not the API and are left out. Variables: the role's defaults/ and vars/ files and
the playbook's vars_files, then, as extra vars (they win), ansible_host, webadmin_port, ansible_user
and ansible_password for this daemon. A variable a uri task reads that the role leaves undefined is
supplied, and the report says so: one only an MMP command fills (oigarash's xmpp_callbridge, parsed
from `xmpp callbridge list`) as that command would have given it; one whose line the role's vars
file has commented out (andrei-madalin's coSpaceUriMapping and coSpaceNameMapping, which its
ldap.yml reads) empty.

The play runs with ignore_errors (a play keyword, so no task is changed) so that every task runs
and reports; one line per task is printed (role, task file, task name, method and path, HTTP
status, ok/FAILED with the reason), then each role's result: passed only when no task failed.
Exit status 0 when every role passed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cms_collection import Api, start_daemon, stop_daemon  # noqa: E402

URI_KEYS = ("uri", "ansible.builtin.uri", "ansible.legacy.uri")
IMPORT_KEYS = ("import_tasks", "include_tasks", "ansible.builtin.import_tasks",
               "ansible.builtin.include_tasks")

# Variables that uri tasks read and the role does not define: name -> (value, what stood in).
# Those MMP (raw) tasks register, and those the role's vars file has commented out.
STAND_INS = {
    "xmpp_callbridge": ([{"name": "cb_cms1", "secret": "stand-in-xmpp-secret"}],
                        "the parsed output of the MMP command `xmpp callbridge list`"),
    "coSpaceUriMapping": ("", "its line commented out in the role's vars file, given empty"),
    "coSpaceNameMapping": ("", "its line commented out in the role's vars file, given empty"),
}


# ansible-core has no json stdout callback (that is ansible.posix's): this one prints one JSON
# line per task result, which is all the report needs.
CALLBACK = """
import json
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "cb_json_lines"

    def _line(self, result, failed):
        res = dict(result._result)
        res["failed"] = failed or bool(res.get("failed"))
        self._display.display("CBTASK " + json.dumps({"task": result._task.get_name(),
                                                      "result": res}, default=str))

    def v2_runner_on_ok(self, result):
        self._line(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._line(result, True)

    def v2_runner_on_skipped(self, result):
        self._line(result, False)

    def v2_runner_on_unreachable(self, result):
        self._line(result, True)
"""


def load_yaml(path):
    """As Ansible reads it: with libyaml (which takes the tab after a key that andrei-madalin's
    call_profiles.yml has; PyYAML's pure-Python scanner refuses it)."""
    with open(path) as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def role_dirs(checkout):
    roles = os.path.join(checkout, "roles")
    return [os.path.join(roles, d) for d in sorted(os.listdir(roles))
            if os.path.isfile(os.path.join(roles, d, "tasks", "main.yml"))]


def uri_tasks(tasks_dir, name, seen=None):
    """[(task file, task dict)] of every uri task reached from tasks_dir/name, in order."""
    seen = seen or set()
    if name in seen:
        return []
    seen.add(name)
    out = []
    for task in load_yaml(os.path.join(tasks_dir, name)) or []:
        if not isinstance(task, dict):
            continue
        imported = next((task[k] for k in IMPORT_KEYS if k in task), None)
        if isinstance(imported, str):
            out += uri_tasks(tasks_dir, imported, seen)
        elif any(k in task for k in URI_KEYS):
            out.append((name, task))
    return out


def role_vars(checkout, role):
    """The role's defaults and vars, then the vars_files of the checkout's playbook.yml."""
    found = {}
    for sub in ("defaults", "vars"):
        path = os.path.join(role, sub, "main.yml")
        if os.path.isfile(path):
            found.update(load_yaml(path) or {})
    playbook = os.path.join(checkout, "playbook.yml")
    if os.path.isfile(playbook):
        for play in load_yaml(playbook) or []:
            for vf in play.get("vars_files", []) if isinstance(play, dict) else []:
                path = os.path.join(checkout, vf)
                if os.path.isfile(path):
                    found.update(load_yaml(path) or {})
    return found


def needed_stand_ins(tasks, variables):
    text = yaml.safe_dump([t for _, t in tasks])
    return {k: v for k, v in STAND_INS.items() if k in text and k not in variables}


def dropped(api, res, spec):
    """The parameters a POST that made an object sent and a GET of it does not show (unknown to
    CMS, a typo of the role's, or dropped here: the report tells which), or None."""
    location = res.get("location") or ""
    body = spec.get("body")
    if spec.get("method") != "POST" or res.get("status") != 200 or "/api/v1/" not in location \
            or not isinstance(body, dict):
        return None
    status, _, text = api.call("GET", location.split("/api/v1/", 1)[1])
    if status != 200:
        return None
    shown = {m.lower() for m in re.findall(r"<(\w+)[ >/]", text)}
    return sorted(k for k in body if k.lower() not in shown and k.lower() != "password")


def run_role(checkout, role, port, password, cafile, work):
    tasks = uri_tasks(os.path.join(role, "tasks"), "main.yml")
    variables = role_vars(checkout, role)
    stand_ins = needed_stand_ins(tasks, variables)
    variables.update({k: v[0] for k, v in stand_ins.items()})
    play = [{"name": "uri tasks of " + os.path.basename(checkout), "hosts": "cms1",
             "connection": "local", "gather_facts": False, "ignore_errors": True,
             "vars": variables, "tasks": [t for _, t in tasks]}]
    tag = os.path.basename(checkout)
    path = os.path.join(work, tag + ".yml")
    with open(path, "w") as f:
        yaml.safe_dump(play, f, sort_keys=False)
    extra = {"ansible_host": "127.0.0.1", "webadmin_port": port, "ansible_user": "admin",
             "ansible_password": password, "ansible_python_interpreter": "/usr/bin/python3"}
    plugins = os.path.join(work, "callbacks")
    os.makedirs(plugins, exist_ok=True)
    with open(os.path.join(plugins, "cb_json_lines.py"), "w") as f:
        f.write(CALLBACK)
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="cb_json_lines",
               ANSIBLE_CALLBACK_PLUGINS=plugins, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", SSL_CERT_FILE=cafile)
    api = Api("https://127.0.0.1:%d" % port, password, cafile)
    proc = subprocess.run(["ansible-playbook", "-i", "cms1,", path, "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, timeout=600)
    results = [json.loads(line[7:]) for line in proc.stdout.splitlines()
               if line.startswith("CBTASK ")]
    if len(results) != len(tasks):
        sys.exit("ansible_roles: %d results for %d tasks:\n%s%s" % (
            len(results), len(tasks), proc.stdout, proc.stderr))
    rows = []
    for i, t in enumerate(results):
        res = t["result"]
        spec = next(tasks[i][1][k] for k in URI_KEYS if k in tasks[i][1])
        failed = bool(res.get("failed"))
        why = ""
        if failed:
            why = res.get("msg", "")
            if res.get("content"):
                why += " " + res["content"]
            why = " ".join(why.split())[:200]
        url = res.get("url") or spec.get("url", "")
        rows.append({"role": tag, "file": tasks[i][0], "task": t["task"],
                     "method": spec.get("method", "GET"),
                     "path": url[url.find("/api/v1"):] if "/api/v1" in url else url,
                     "status": res.get("status", "-"), "ok": not failed, "why": why,
                     "dropped": dropped(api, res, spec)})
    return rows, stand_ins, proc.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("daemon")
    ap.add_argument("checkouts", nargs="+")
    ap.add_argument("--json", help="also write the per-task results here")
    args = ap.parse_args()

    all_rows, verdicts = [], {}
    with tempfile.TemporaryDirectory(prefix="cbroles.") as work:
        proc, port, password = start_daemon(args.daemon, work)
        try:
            for checkout in args.checkouts:
                checkout = os.path.abspath(checkout)
                for role in role_dirs(checkout):
                    rows, stand_ins, rc = run_role(checkout, role, port, password,
                                             os.path.join(work, "cert.pem"), work)
                    for name, (_, what) in stand_ins.items():
                        print("%s: %s stands for %s" % (os.path.basename(checkout), name, what))
                    for r in rows:
                        print("%s | %s | %s | %s %s | %s | %s%s%s" % (
                            r["role"], r["file"], r["task"], r["method"], r["path"], r["status"],
                            "ok" if r["ok"] else "FAILED", ": " + r["why"] if r["why"] else "",
                            " | not shown by GET: " + ", ".join(r["dropped"])
                            if r["dropped"] else ""))
                    passed = rc == 0 and all(r["ok"] for r in rows)
                    verdicts[os.path.basename(checkout)] = passed
                    print("%s: play %s (%d uri tasks, %d failed)" % (
                        os.path.basename(checkout), "passed" if passed else "FAILED", len(rows),
                        sum(not r["ok"] for r in rows)))
                    all_rows += rows
        finally:
            stop_daemon(proc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": all_rows, "roles": verdicts}, f, indent=1)
    sys.exit(0 if all(verdicts.values()) else 1)


if __name__ == "__main__":
    main()
