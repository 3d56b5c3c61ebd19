#!/usr/bin/env python3
"""A throw-away HTTP(S) server on 127.0.0.1 for the unit tests of net::fetch (tests/unit/net_fetch_test.cpp).

Usage: fetch_server.py PORT_FILE [CERT KEY]
Listens on 127.0.0.1 on a free port (HTTPS with CERT and KEY), writes the port to PORT_FILE once it listens, and
stops when its parent closes stdin. Paths:
  /page         200 text/html, Content-Length          /echo       200, the request head as the body
  /chunked      200, a chunked body with a trailer      /gzip       200, Content-Encoding: gzip
  /chunked-html 200 text/html, the page of /page in two chunks
  /interim      a 100 Continue, then 200               /404        404 with a body
  /r1 -> /r2 -> /page (302, then 301)                  /loop-a -> /loop-b -> /loop-a
  /hops/N       a redirect to /hops/N-1; /hops/0 is 200
  /ftp          302 to ftp://127.0.0.1/x                /big        200 with 100,000 bytes
  /slow         waits 5 seconds before answering
"""
import gzip
import http.server
import os
import ssl
import sys
import threading
import time

PAGE = b"<!doctype html><title>T</title><p>Hello</p>\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, status, location):
        self.reply(status, b"", [("Location", location)])

    def do_GET(self):
        p = self.path
        if p == "/page":
            self.reply(200, PAGE, [("Content-Type", "text/html; charset=utf-8")])
        elif p == "/echo":
            head = self.requestline + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            self.reply(200, head.encode(), [("Content-Type", "text/plain")])
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n")
        elif p == "/chunked-html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(PAGE) // 2
            for part in (PAGE[:half], PAGE[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif p == "/gzip":
            self.reply(200, gzip.compress(PAGE, mtime=0), [("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
        elif p == "/interim":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.reply(200, PAGE, [("Content-Type", "text/html")])
        elif p == "/404":
            self.reply(404, b"not here\n", [("Content-Type", "text/plain")])
        elif p == "/r1":
            self.redirect(302, "/r2")
        elif p == "/r2":
            self.redirect(301, f"http{'s' if self.server.tls else ''}://127.0.0.1:{self.server.server_port}/page")
        elif p == "/loop-a":
            self.redirect(302, "/loop-b")
        elif p == "/loop-b":
            self.redirect(307, "/loop-a")
        elif p.startswith("/hops/"):
            n = int(p[len("/hops/"):])
            if n == 0:
                self.reply(200, b"end\n", [("Content-Type", "text/plain")])
            else:
                self.redirect(302, f"/hops/{n - 1}")
        elif p == "/ftp":
            self.redirect(302, "ftp://127.0.0.1/x")
        elif p == "/big":
            self.reply(200, b"\0" * 100000, [("Content-Type", "application/octet-stream")])
        elif p == "/slow":
            time.sleep(5)
            self.reply(200, b"late\n")
        else:
            self.reply(404, b"")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.tls = len(sys.argv) > 3
    if server.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or exits)
    server.shutdown()


if __name__ == "__main__":
    main()
