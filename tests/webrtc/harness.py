"""What the WebRTC test scripts share: one printed line per assertion, the count of failures and
the exit status it makes (0 pass, 1 fail), and the last lines of a log file for a failure report.
"""


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
