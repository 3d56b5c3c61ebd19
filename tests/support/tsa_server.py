#!/usr/bin/env python3
"""A throw-away RFC 3161 time-stamp authority on 127.0.0.1, for tests only.

Usage: tsa_server.py TSA_DIR PORT_FILE
TSA_DIR is a folder made by make_tsa.sh (ts.cnf, keys). Listens on 127.0.0.1 on a free port, writes the port to
PORT_FILE once it listens, and answers each POST (Content-Type application/timestamp-query) with
`openssl ts -reply -config TSA_DIR/ts.cnf`. POST /error answers HTTP 500, /redirect a 302 to /, /big 100,000
bytes of zeros. Stops when its parent closes stdin.
"""
import http.server
import os
import subprocess
import sys
import tempfile
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(length)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"\0" * 100000)
            return
        if self.path == "/error" or self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with tempfile.TemporaryDirectory() as tmp:
            qpath = os.path.join(tmp, "q.tsq")
            rpath = os.path.join(tmp, "r.tsr")
            with open(qpath, "wb") as f:
                f.write(query)
            cnf = os.path.join(self.server.tsa_dir, "ts.cnf")
            subprocess.run(["openssl", "ts", "-reply", "-config", cnf, "-queryfile", qpath, "-out", rpath],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(rpath, "rb") as f:
                reply = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.tsa_dir = sys.argv[1]
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[2])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or exits)
    server.shutdown()


if __name__ == "__main__":
    main()
