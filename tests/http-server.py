#!/usr/bin/python3
"""Scripted HTTP server for tests/test-fetch.c (loopback only, no network).

Listens on 127.0.0.1 on a free port, prints the port on stdout (one line),
then serves until killed. Paths (the query string picks variants; "key=K"
gives a path its own request counter, so tests stay independent):

  /ok.csv[?v=N]         200 CSV with ETag "v<N>" and Last-Modified; 304 when
                        If-None-Match matches (or If-Modified-Since, without
                        If-None-Match)
  /noetag.csv           200 CSV without validators
  /missing              404 with an HTML body
  /flaky?fail=N&key=K   500 for the first N requests of K, then like /ok.csv
  /truncated            Content-Length larger than the body, then close
  /big?n=N[&chunked=1]  N bytes of CSV (with Content-Length, or without it
                        and closed at the end)
  /stall?s=S            headers and a few bytes, then S seconds of silence
  /html                 200 text/html page
  /file?path=P          the local file P, ETag from its size and mtime, 304
  /redirect             302 to /ok.csv
  /hits?key=K           requests seen so far for K (text)
"""
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

CSV = b"customerID,tenure,Churn\n0001-A,1,Yes\n0002-B,34,No\n0003-C,2,Yes\n"
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"

hits = {}
hits_lock = threading.Lock()


def count(key):
    with hits_lock:
        hits[key] = hits.get(key, 0) + 1
        return hits[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_body(self, status, body, ctype="text/csv", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def ok_csv(self, version):
        etag = '"v%s"' % version
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if (inm is not None and inm == etag) or (inm is None and ims == LAST_MODIFIED):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        body = CSV if version == "1" else CSV + ("9999-Z,%s,No\n" % version).encode()
        self.send_body(200, body, extra=(("ETag", etag), ("Last-Modified", LAST_MODIFIED)))

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/hits":
            with hits_lock:
                body = str(hits.get(q.get("key", ""), 0)).encode()
            self.send_body(200, body, "text/plain")
            return
        n = count(q.get("key", u.path))
        if u.path == "/ok.csv":
            self.ok_csv(q.get("v", "1"))
        elif u.path == "/noetag.csv":
            self.send_body(200, CSV)
        elif u.path == "/missing":
            self.send_body(404, b"<html><body>Not here</body></html>", "text/html",)
        elif u.path == "/flaky":
            if n <= int(q.get("fail", "1")):
                self.send_body(500, b"oops\n", "text/plain")
            else:
                self.ok_csv("1")
        elif u.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(CSV) + 1000))
            self.end_headers()
            self.wfile.write(CSV)
            self.wfile.flush()
            self.close_connection = True
        elif u.path == "/big":
            size = int(q.get("n", "100000"))
            line = b"a,b,c\n"
            body = (line * (size // len(line) + 1))[:size]
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            if q.get("chunked") != "1":
                self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for i in range(0, size, 8192):
                    self.wfile.write(body[i:i + 8192])
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif u.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(CSV)))
            self.end_headers()
            self.wfile.write(CSV[:10])
            self.wfile.flush()
            time.sleep(float(q.get("s", "5")))
            try:
                self.wfile.write(CSV[10:])
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif u.path == "/html":
            self.send_body(200, b"\n  <!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
                           b"<body>Please log in, then retry.</body></html>\n", "text/html")
        elif u.path == "/file":
            # a local file (tests with the real data set), with validators from its size and mtime
            import os
            import shutil
            path = q.get("path", "")
            st = os.stat(path)
            etag = '"%x-%x"' % (st.st_size, st.st_mtime_ns)
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("ETag", etag)
            self.end_headers()
            with open(path, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)
        elif u.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok.csv")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_body(404, b"no such path\n", "text/plain")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
