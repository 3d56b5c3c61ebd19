#!/usr/bin/env python3
"""A throw-away web site on 127.0.0.1 for the `avow capture` and `avow watch` tests only.

Usage: capture_server.py DATA_DIR PORT_FILE [--tls CERT KEY]
DATA_DIR holds the fixture pages (tests/data/capture). Listens on 127.0.0.1 on a free port (HTTPS with --tls: a PEM
certificate chain and its key), writes the port to PORT_FILE once it listens, and stops when its parent closes stdin.
Every response is HTTP/1.1 with Content-Length (or chunked) and `Connection: close`; pages carry a fixed
Last-Modified. Routes:
  /press-release     press-release.html, text/html; charset=utf-8
  /arabic            arabic-1256.html, Content-Type text/html with NO charset (the page says windows-1256 itself)
  /jsonld            jsonld-graph.html      /opengraph  opengraph-only.html     /title  title-only.html
  /selector          selector.html          /latin1     latin1.html (text/html) /bad-utf8  bad-utf8.html (charset=utf-8)
  /unknown-charset   unknown-charset.html   /empty      empty.html
  /redirect/1        301 -> /redirect/2, 302 -> /redirect/3, 307 -> /press-release
  /loop/a, /loop/b   302 to each other
  /many/N            302 -> /many/N-1 ... /many/0 is the press release (N hops of redirects)
  /gone              404 with an HTML page   /gone410  410 with an HTML page   /status/N  status N with an HTML page
  /changing          changing-v1.html, or changing-v2.html after GET /_set?changing=2
  /moved             opengraph-only.html, or a 301 to /press-release after GET /_set?moved=1
  /vanishing         jsonld-graph.html, or an error page of status N after GET /_set?vanishing=N
  /flaky             title-only.html, or an error page of status N after GET /_set?flaky=N
  /slow?s=N          waits N seconds (default 5), then the press release
  /big?n=N           an HTML page of N bytes (default 2,000,000)
  /pdf, /png         application/pdf, image/png bytes
  /chunked           the press release with Transfer-Encoding: chunked
  /gzip              the press release with Content-Encoding: gzip
  /headers           an HTML page listing the request's headers, one per paragraph, in <main>
  /_set?NAME=VALUE   sets the state the routes above read; answers 204
"""
import gzip
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

LAST_MODIFIED = "Sat, 14 Mar 2026 07:30:00 GMT"

PAGES = {
    "/press-release": ("press-release.html", "text/html; charset=utf-8"),
    "/arabic": ("arabic-1256.html", "text/html"),
    "/jsonld": ("jsonld-graph.html", "text/html; charset=utf-8"),
    "/opengraph": ("opengraph-only.html", "text/html; charset=utf-8"),
    "/title": ("title-only.html", "text/html; charset=utf-8"),
    "/selector": ("selector.html", "text/html; charset=utf-8"),
    "/latin1": ("latin1.html", "text/html"),
    "/bad-utf8": ("bad-utf8.html", "text/html; charset=utf-8"),
    "/unknown-charset": ("unknown-charset.html", "text/html"),
    "/empty": ("empty.html", "text/html; charset=utf-8"),
}

ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {reason}</title></head>
<body><main><h1>{reason}</h1>
<p>The page you asked for is not on this server any more. It may have been moved or removed by its publisher.</p>
</main></body></html>
"""

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fixture(self, name):
        with open(os.path.join(self.server.data_dir, name), "rb") as f:
            return f.read()

    def send(self, status, body=b"", content_type=None, headers=()):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def page(self, name, content_type="text/html; charset=utf-8"):
        self.send(200, self.fixture(name), content_type, [("Last-Modified", LAST_MODIFIED)])

    def redirect(self, status, location):
        self.send(status, b"", None, [("Location", location)])

    def error_page(self, status):
        reason = self.responses.get(status, ("Error",))[0]
        body = ERROR_PAGE.format(status=status, reason=reason).encode()
        self.send(status, body, "text/html; charset=utf-8")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        state = self.server.state
        if path in PAGES:
            return self.page(*PAGES[path])
        if path == "/_set":
            for name, values in query.items():
                state[name] = values[-1]
            return self.send(204)
        if path == "/redirect/1":
            return self.redirect(301, "/redirect/2")
        if path == "/redirect/2":
            return self.redirect(302, "/redirect/3")
        if path == "/redirect/3":
            return self.redirect(307, "/press-release")
        if path == "/loop/a":
            return self.redirect(302, "/loop/b")
        if path == "/loop/b":
            return self.redirect(302, "/loop/a")
        if path.startswith("/many/"):
            n = int(path[len("/many/"):])
            return self.redirect(302, "/many/%d" % (n - 1)) if n > 0 else self.page("press-release.html")
        if path == "/gone":
            return self.error_page(404)
        if path == "/gone410":
            return self.error_page(410)
        if path.startswith("/status/"):
            return self.error_page(int(path[len("/status/"):]))
        if path == "/changing":
            return self.page("changing-v2.html" if state.get("changing") == "2" else "changing-v1.html")
        if path == "/moved":
            if state.get("moved") == "1":
                return self.redirect(301, "/press-release")
            return self.page("opengraph-only.html")
        if path == "/vanishing":
            if state.get("vanishing", "200") != "200":
                return self.error_page(int(state["vanishing"]))
            return self.page("jsonld-graph.html")
        if path == "/flaky":
            if state.get("flaky", "200") != "200":
                return self.error_page(int(state["flaky"]))
            return self.page("title-only.html")
        if path == "/slow":
            time.sleep(float(query.get("s", ["5"])[0]))
            return self.page("press-release.html")
        if path == "/big":
            n = int(query.get("n", ["2000000"])[0])
            head = b"<!DOCTYPE html><html><body><main><p>"
            tail = b"</p></main></body></html>"
            return self.send(200, head + b"x" * max(0, n - len(head) - len(tail)) + tail, "text/html; charset=utf-8")
        if path == "/pdf":
            return self.send(200, PDF, "application/pdf")
        if path == "/png":
            return self.send(200, PNG, "image/png")
        if path == "/gzip":
            return self.send(200, gzip.compress(self.fixture("press-release.html"), mtime=0),
                             "text/html; charset=utf-8", [("Content-Encoding", "gzip")])
        if path == "/chunked":
            body = self.fixture("press-release.html")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(body), 1000):
                chunk = body[i:i + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
            return
        if path == "/headers":
            rows = "".join("<p>%s: %s</p>\n" % (name, value) for name, value in self.headers.items())
            body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Request headers</title>"
                    "</head><body><main>\n%s</main></body></html>\n" % rows).encode()
            return self.send(200, body, "text/html; charset=utf-8")
        return self.error_page(404)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.data_dir = sys.argv[1]
    server.state = {}
    if len(sys.argv) >= 6 and sys.argv[3] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[2])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or exits)
    server.shutdown()


if __name__ == "__main__":
    main()
