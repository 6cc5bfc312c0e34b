"""coturn for the WebRTC tests: a TURN server on 127.0.0.1 at a free port, long-term credentials
alice:secret in realm test.local, relaying only within a small port range, UDP and TCP without TLS,
loopback peers allowed (both ends of a test's media are on 127.0.0.1). Ready when it answers a STUN
Binding request with a success (0x0101); stopped by its PID; its log and user database live in a
temporary directory that stop() removes.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import harness

TURNSERVER = "/usr/bin/turnserver"
USER = "alice"
PASSWORD = "secret"
REALM = "test.local"
# Relayed addresses available at once. A guest takes two (its browser's and callbridged's), the
# prober's probes one each, and a port of the range another program took in the meantime fails
# an allocation: with 16, a room of six got "508 Cannot create socket".
RELAY_PORTS = 64


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1 the kernel just gave out, free for TCP and for UDP at this moment."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port_free(port):
            return port
    raise OSError("no free port on 127.0.0.1")


def port_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_range(count):
    """The first port of 'count' consecutive ports that are all free for UDP and TCP now."""
    for _ in range(100):
        base = random.randrange(20000, 60000 - count)
        if all(port_free(p) for p in range(base, base + count)):
            return base
    raise OSError("no %d consecutive free ports on 127.0.0.1" % count)


def stun_binding_ok(port, timeout=0.5):
    """True if a STUN Binding request (RFC 8489) to 127.0.0.1:port gets a success response."""
    txn = os.urandom(12)
    req = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txn
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(req, ("127.0.0.1", port))
            data = s.recv(2048)
        except OSError:
            return False
    return len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == txn


class Coturn:
    def __init__(self, start_timeout=10.0, verbose=False, port=None, relay_ip="127.0.0.1"):
        """port: where to listen (a test that configured it before starting coturn), else a
        free one; relay_ip: the address coturn relays from (the benchmark's Janus is on a veth)."""
        self.dir = tempfile.mkdtemp(prefix="cb-coturn.")
        self.log = os.path.join(self.dir, "turn.log")
        self.port = port or free_port()
        self.min_port = free_range(RELAY_PORTS)
        self.proc = None
        args = [TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=" + relay_ip,
                "--listening-port", str(self.port),
                "--min-port", str(self.min_port),
                "--max-port", str(self.min_port + RELAY_PORTS - 1),
                "--realm=" + REALM, "--no-tls", "--no-dtls", "--no-cli",
                "--allow-loopback-peers", "--lt-cred-mech", "--user=%s:%s" % (USER, PASSWORD),
                "--userdb=" + os.path.join(self.dir, "turndb"),
                "--pidfile=/dev/null", "--log-file", self.log, "--simple-log"]
        if verbose:  # one line per ALLOCATE, CREATE_PERMISSION and CHANNEL_BIND, to count
            args.append("--verbose")
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + start_timeout
            while not stun_binding_ok(self.port):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("coturn did not start: %s" % self.log_tail())
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def url(self, transport="udp"):
        return "turn:127.0.0.1:%d?transport=%s" % (self.port, transport)

    def log_tail(self, lines=20):
        return harness.tail(self.log, lines)

    def stop(self):
        """Stops coturn by its PID (SIGTERM, then SIGKILL) and removes its directory."""
        harness.stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
