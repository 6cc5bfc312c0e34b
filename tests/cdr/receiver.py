#!/usr/bin/python3
"""A CDR receiver for tests/cdr/receiver_killed.py: an HTTP server on 127.0.0.1:PORT (0: the
kernel picks; the port is printed on stdout once listening) that appends every POSTed body to
OUT, one JSON line per POST ({"t": wall clock seconds, "path", "body"}), flushed and synced
before it answers 200, as a billing system that keeps what it acknowledges.

Usage: tests/cdr/receiver.py PORT OUT
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

BODY_MAX = 4 << 20  # far above 100 records; a bigger body is refused, not read


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers libcurl's Expect: 100-continue at once

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > BODY_MAX:
            self.send_response(413)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(self.server.out, "a") as f:
            f.write(json.dumps({"t": time.time(), "path": self.path, "body": body}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    server = HTTPServer(("127.0.0.1", port), Handler)  # SO_REUSEADDR: the same port again
    server.out = out
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
