"""What the WebRTC test scripts share: one printed line per assertion, the count of failures and
the exit status it makes (0 pass, 1 fail), the last lines of a log file for a failure report, a
run in a temporary work directory that is removed unless --keep asked to keep it, and stopping a
server they started by its PID.
"""

import argparse
import shutil
import subprocess
import tempfile


class Failed(Exception):
    """An assertion failed in a way that makes the following ones meaningless."""


class Results:
    def __init__(self, name):
        self.name = name
        self.failed = 0

    def check(self, ok, what):
        """Prints "ok - what" or "FAIL - what"; returns ok."""
        print("%s - %s" % ("ok" if ok else "FAIL", what), flush=True)
        if not ok:
            self.failed += 1
        return ok

    def require(self, ok, what):
        """As check(), and raises Failed when not ok."""
        if not self.check(ok, what):
            raise Failed(what)

    def exit_status(self):
        """Prints the verdict line; returns the process's exit status."""
        print("%s: %s" % (self.name, "passed" if not self.failed else "%d FAILED" % self.failed))
        return 1 if self.failed else 0


def tail(path, lines=30):
    """The last 'lines' lines of the file at 'path' as text, or a note that it cannot be read."""
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError as e:
        return "(%s: %s)" % (path, e.strerror)


def stop_process(proc, grace=5.0):
    """SIGTERM to the Popen 'proc' if it still runs, SIGKILL after 'grace' s; reaps it."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_main(name, doc, run, kept, skip=None, more_args=None):
    """A test script's main: its arguments (the daemon's path, --keep, and what more_args(parser)
    adds), the skip (exit 77) when 'skip' names a reason, else run(results, args, work) in a fresh
    work directory, removed afterwards unless --keep (then its path and 'kept', what it holds, are
    printed). Returns the exit status."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("callbridged", help="path of the daemon binary")
    if more_args:
        more_args(ap)
    ap.add_argument("--keep", action="store_true", help="keep the work directory: " + kept)
    args = ap.parse_args()
    if skip:
        print("skip - " + skip)
        return 77
    res = Results(name)
    work = tempfile.mkdtemp(prefix="cb-%s." % name)
    try:
        run(res, args, work)
    finally:
        if args.keep:
            print("kept: %s (%s)" % (work, kept))
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res.exit_status()
