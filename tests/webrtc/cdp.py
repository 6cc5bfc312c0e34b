"""A small Chromium DevTools-protocol driver on the Python standard library, for the WebRTC tests.

It starts the real browser binary (/usr/lib/chromium/chromium; /usr/bin/chromium is a wrapper
script) headless with a fresh profile in a temporary directory, a fake camera and microphone and
the permission prompt granted, and talks to it over --remote-debugging-pipe: the browser reads
NUL-terminated JSON commands on its fd 3 and writes answers and events on its fd 4. A reader
thread files the answers by id; every wait is bounded. Tabs are targets attached with
flatten=true, so one pipe carries every tab's session. stop() closes the browser, kills it by its
PID (its own process group) if it lingers, and removes the profile directory.

    with Browser() as b:
        tab = b.new_tab("http://127.0.0.1:8000/")
        tab.wait_until("window.cb && cb.state === 'connected'", timeout=20)
        print(tab.evaluate("cb.stats()"))
"""

import collections
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import harness

# The real binary; CB_CHROMIUM names another build (the tests skip when there is none).
CHROMIUM = os.environ.get("CB_CHROMIUM", "/usr/lib/chromium/chromium")

# The flags the tests need (docs in /work/shared/reference/webrtc.md): a synthetic 640x480 camera
# and a beeping microphone, the permission prompt granted, the daemon's self-signed certificate
# accepted, ICE on loopback allowed, media playing without a click, and no sound out.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--ignore-certificate-errors",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--no-first-run",
    "--no-default-browser-check",
    # every tab of a test is a participant in the foreground: none is throttled or unrendered
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

MAX_MESSAGE = 64 * 1024 * 1024  # an answer larger than this is a broken browser, not data
LOG_KEEP = 200  # console lines kept per tab


class CDPError(Exception):
    """The browser answered a command with an error, or is gone."""


class JSError(Exception):
    """A Runtime.evaluate threw (or its promise rejected) in the page."""


def chromium_present(path=None):
    path = path or CHROMIUM
    return os.path.isfile(path) and os.access(path, os.X_OK)


class Browser:
    """One headless Chromium process and its DevTools pipe."""

    def __init__(self, path=None, extra_args=(), start_timeout=20.0):
        self.path = path or CHROMIUM
        self.profile = tempfile.mkdtemp(prefix="cb-chromium.")
        self.proc = None
        self._next_id = 0
        self._answers = {}
        self._cond = threading.Condition()
        self._closed = False
        self._tabs = {}  # sessionId -> Tab, for the console events
        self._out = None
        self._reader = None
        try:
            self._launch(list(extra_args))
            self.version = self.send("Browser.getVersion", timeout=start_timeout)["product"]
        except BaseException:
            self.stop()
            raise

    def _launch(self, extra_args):
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The child must see exactly fds 3 and 4; copy the ends above both first so neither
        # dup2 overwrites the other's source.
        src_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        src_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def child_fds():
            os.dup2(src_in, 3)
            os.dup2(src_out, 4)

        args = [self.path, "--remote-debugging-pipe", "--user-data-dir=" + self.profile]
        args += FLAGS + extra_args + ["about:blank"]
        log = open(os.path.join(self.profile, "chromium.log"), "wb")
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=child_fds, pass_fds=(3, 4), start_new_session=True)
        finally:
            log.close()
            for fd in (to_browser_r, from_browser_w, src_in, src_out):
                os.close(fd)
        self._out = os.fdopen(to_browser_w, "wb", buffering=0)
        self._reader = threading.Thread(target=self._read_loop, args=(from_browser_r,),
                                        daemon=True)
        self._reader.start()

    def _read_loop(self, fd):
        buf = b""
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    self._dispatch(raw)
                if len(buf) > MAX_MESSAGE:
                    break
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _dispatch(self, raw):
        try:
            msg = json.loads(raw)
        except ValueError:
            return
        if "id" in msg:
            with self._cond:
                self._answers[msg["id"]] = msg
                self._cond.notify_all()
            return
        tab = self._tabs.get(msg.get("sessionId"))
        if tab is not None:
            tab._event(msg.get("method"), msg.get("params", {}))

    def send(self, method, params=None, session=None, timeout=30.0):
        """Sends one command and waits at most 'timeout' s for its answer's result."""
        with self._cond:
            if self._closed:
                raise CDPError("the browser is gone")
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            self._out.write(json.dumps(msg).encode() + b"\0")
        except OSError as e:
            raise CDPError("the browser is gone: %s" % e) from e
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._answers:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CDPError("%s: no answer within %.0f s" % (method, timeout)
                                   if not self._closed else "%s: the browser is gone" % method)
                self._cond.wait(left)
            answer = self._answers.pop(mid)
        if "error" in answer:
            raise CDPError("%s: %s" % (method, answer["error"].get("message", answer["error"])))
        return answer.get("result", {})

    def new_tab(self, url, timeout=30.0, init_script=None):
        """Opens a tab, attaches to it and loads 'url' (waits for the load event). 'init_script'
        (JS source) runs in the page before the page's own scripts, in every document it loads."""
        target = self.send("Target.createTarget", {"url": "about:blank", "newWindow": True})[
            "targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        tab = Tab(self, target, session["sessionId"])
        self._tabs[tab.session] = tab
        tab.send("Runtime.enable")
        tab.send("Page.enable")
        if init_script:
            tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": init_script})
        tab.navigate(url, timeout)
        return tab

    def log_tail(self, lines=30):
        return harness.tail(os.path.join(self.profile, "chromium.log"), lines)

    def stop(self):
        """Closes the browser (Browser.close, then SIGTERM and SIGKILL to its process group by
        PID if it lingers) and removes its profile directory. Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.send("Browser.close", timeout=3)
            except CDPError:
                pass
            for sig, wait in ((None, 5), (signal.SIGTERM, 3), (signal.SIGKILL, 3)):
                if sig is not None:
                    try:
                        os.killpg(self.proc.pid, sig)
                    except ProcessLookupError:
                        break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.proc is not None:
            # the browser's helpers (renderers, GPU, zygote) share its group; none may outlive it
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._out is not None:
            try:
                self._out.close()
            except OSError:
                pass
            self._out = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Tab:
    """One page target, attached through the browser's pipe."""

    def __init__(self, browser, target, session):
        self.browser = browser
        self.target = target
        self.session = session
        self.console = collections.deque(maxlen=LOG_KEEP)
        self._loaded = threading.Event()

    def _event(self, method, params):
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append("%s: %s" % (params.get("type"), text))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.console.append("exception: %s" % d.get("exception", {}).get(
                "description", d.get("text")))
        elif method == "Page.loadEventFired":
            self._loaded.set()

    def send(self, method, params=None, timeout=30.0):
        return self.browser.send(method, params, self.session, timeout)

    def navigate(self, url, timeout=30.0):
        self._loaded.clear()
        res = self.send("Page.navigate", {"url": url}, timeout)
        if res.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, res["errorText"]))
        if not self._loaded.wait(timeout):
            raise CDPError("navigate %s: not loaded within %.0f s" % (url, timeout))

    def evaluate(self, expression, timeout=30.0):
        """The value of a JS expression (a promise is awaited), as JSON-able Python."""
        res = self.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
            "timeout": int(timeout * 1000)}, timeout + 5)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise JSError(d.get("exception", {}).get("description") or d.get("text"))
        return res.get("result", {}).get("value")

    def wait_until(self, predicate, timeout=20.0, interval=0.2):
        """Evaluates 'predicate' (a JS expression, awaited) until it is truthy and returns its
        value; raises TimeoutError after 'timeout' s with the last value or error."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            left = deadline - time.monotonic()
            try:
                last = self.evaluate(predicate, max(1.0, min(left, 10.0)))
                if last:
                    return last
            except JSError as e:
                last = "exception: %s" % e
            except CDPError as e:  # a page of a starved machine answering late: not yet true
                if self.browser._closed:
                    raise
                last = "%s" % e
            if time.monotonic() + interval > deadline:
                raise TimeoutError("%s: still %r after %.0f s" % (predicate, last, timeout))
            time.sleep(interval)

    def close(self):
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target}, timeout=5)
        except CDPError:
            pass
        self.browser._tabs.pop(self.session, None)
