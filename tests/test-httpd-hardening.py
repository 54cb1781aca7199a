#!/usr/bin/python3
"""churn-httpd under attack and careless operation (issue 10), over real
loopback sockets: deep JSON, over-limit and trickling bodies, slowloris,
oversized record arrays, DNS rebinding (Host), the token on every endpoint,
CORS, binding beyond loopback, secrets and paths in /api/details, access-log
injection, invalid UTF-8, CivetWeb's own error answers and bad options.

usage: test-httpd-hardening.py CHURN CHURN_HTTPD
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest  # noqa: E402  (tests/httpdtest.py: the server, checks and summary these scripts share)
from httpdtest import check, free_port, run  # noqa: E402

CHURN, HTTPD = httpdtest.args()
TOKEN = "tok-3f9a1c7e5b2d4f6a8c0e"


def Server(workdir, *extra, **kw):
    """The shared server, its access log kept in the test's temporary directory (self.log)."""
    return httpdtest.Server(workdir, *extra, log_dir=tmp, **kw)


def replace(path, data):
    with open(path + ".tmp", "wb") as fh:
        fh.write(data)
    os.replace(path + ".tmp", path)


def closed_within(sock, seconds, trickle=b"x"):
    """Keep sending a byte every 0.2 s; True when the server closes the socket within `seconds`."""
    end = time.time() + seconds
    sock.settimeout(0.2)
    while time.time() < end:
        try:
            if sock.recv(65536) == b"":
                return True
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        try:
            sock.send(trickle)
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


tmp = tempfile.mkdtemp(prefix="churn-harden-")
try:
    wd = os.path.join(tmp, "wd")
    r = run("run", "--workdir", wd, "--source", "synthetic:1500?seed=5", "--quiet", "--models", "logreg")
    check(r.returncode == 0, "churn run for the server", r.stderr.decode()[-300:])
    record = {}
    for k, v in httpdtest.first_record(wd).items():
        try:
            record[k] = float(v)
        except ValueError:
            record[k] = v
    hdr = {"Content-Type": "application/json"}

    # ---- 1. deep JSON never reaches the recursive parser ---------------------------
    s = Server(wd, "--request-timeout", "2000")
    st, h, p = s.json("POST", "/api/predict", b"[" * 700 + b"]" * 700, hdr)
    check(st == 400 and p and "nested deeper" in p["error"], "700 nested '[' in a request: 400 JSON", (st, p))
    st, h, p = s.json("POST", "/api/predict", b"[" * 200000, hdr)
    check(st == 400 and p is not None, "200,000 unclosed '[': 400 JSON", (st, p))
    st, h, p = s.json("POST", "/api/predict", json.dumps([{"tenure": [[[[1]]]]}]), hdr)
    check(st == 400 and p is not None, "nesting inside a record: 400", (st, p))
    check(s.alive(), "server alive after deep requests")
    deep = b'{"runs": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for rel, path in (("reports/metrics.json", "/api/metrics"), ("reports/run_metadata.json", "/api/details"),
                      ("reports/model_run_metadata.json", "/api/model-runs")):
        full = os.path.join(wd, rel)
        saved = open(full, "rb").read()
        replace(full, deep)
        st, h, p = s.json("GET", path)
        # details fall back on summary.json when the run records are unusable
        want = (200, 500, 503) if path == "/api/details" else (500, 503)
        check(st in want and p and (st == 200 or "error" in p), "deep %s: %s answers" % (rel, path), (st, p))
        check(s.alive(), "server alive after a deep %s" % rel)
        replace(full, saved)
    art = os.path.join(wd, "artifacts/models/logreg.json")
    saved = open(art, "rb").read()
    # the kind's file is served from a slot of its own (the default is the registry's champion, another file)
    st, h, p = s.json("POST", "/api/predict?model=logreg", json.dumps(record), hdr)
    check(st == 200 and p, "?model=logreg before the artifact is damaged", (st, p))
    doc = json.loads(saved)
    replace(art, saved.rstrip()[:-1] + b', "x": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    st, h, p = s.json("POST", "/api/predict?model=logreg", json.dumps(record), hdr)
    check(st == 200 and p, "deep model artifact: the last good model is kept", (st, p))
    check(s.alive(), "server alive after a deep model artifact")
    s2 = Server(wd)
    st, h, p = s2.json("POST", "/api/predict?model=logreg", json.dumps(record), hdr)
    check(st == 500 and p and "error" in p, "deep model artifact on a fresh server: 500 JSON", (st, p))
    s2.stop()
    check("nested deeper than" in s2.err, "the server log says why the model cannot be loaded", s2.err[-300:])
    replace(art, saved)
    st, h, p = s.json("POST", "/api/predict?model=logreg", json.dumps(record), hdr)
    check(st == 200, "predict again once the artifact is good", (st, p))

    # ---- 12. invalid UTF-8 in a request: 400, and the answer is valid JSON -------------
    bad = json.dumps(dict(record, gender="Fe__male")).encode().replace(b"Fe__male", b"Fe\xc3male")
    st, h, data = s.req("POST", "/api/predict", bad, hdr)
    try:
        p = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        p = None
    check(st == 400 and p and "UTF-8" in p["error"], "invalid UTF-8 in a request: 400 with valid JSON", (st, data[:200]))
    bad = json.dumps({"Bogus\u00e9": 1}).encode()
    st, h, data = s.req("POST", "/api/predict", bad.replace(b"\\u00e9", b"\xe9\xff"), hdr)
    check(st == 400 and data.decode("utf-8", "strict") is not None, "invalid UTF-8 in a column name: no echo", data[:200])

    # ---- 2. an over-limit body is answered and the socket closed, unread -------------
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n")
    head = c.recv(4096)
    check(head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head and b'{"error"' in head,
          "Content-Length 1e12: 413 JSON with Connection: close", head[:300])
    check(closed_within(c, 2.0), "... and the server closes the socket at once (no draining)")
    c.close()
    # 130 such sockets trickling 10 B/s do not lock anyone out
    socks = []
    for _ in range(130):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n")
        socks.append(c)
    t0 = time.time()
    st, _, _ = s.req("GET", "/api/health", source="127.0.0.2")
    check(st == 200 and time.time() - t0 < 1.0, "health answers while 130 over-limit senders trickle (%.3f s)" %
          (time.time() - t0))
    for c in socks:
        c.close()
    # a body sent a byte per second is cut at the request timeout (2 s here)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
    t0 = time.time()
    got = b""
    c.settimeout(0.2)
    while time.time() - t0 < 8:
        try:
            b = c.recv(4096)
            if not b:
                break
            got += b
        except socket.timeout:
            try:
                c.send(b" ")
            except OSError:
                break
        except OSError:
            break
        time.sleep(0.8)
    c.close()
    check(got.startswith(b"HTTP/1.1 408 ") and time.time() - t0 < 6, "a body at a byte a second: 408 within the "
          "timeout (%.1f s)" % (time.time() - t0), got[:200])
    # headers at a byte per second are dropped too
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    c.sendall(b"G")
    t0 = time.time()
    dropped = closed_within(c, 8.0, b"E")
    check(dropped and time.time() - t0 < 6, "headers at 5 bytes a second: dropped (%.1f s)" % (time.time() - t0))
    c.close()

    # ---- 14. CivetWeb's own errors are our JSON and echo nothing ---------------------
    for what, req in (("no version", b"GET /api/health\r\n\r\n"),
                      ("version with a line break", b"GET / HTTP/1.1\rX-Injected: yes\r\n\r\n"),
                      ("unknown version", b"GET / HTTP/7.7\r\nHost: 127.0.0.1\r\n\r\n"),
                      ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")):
        out = s.raw(req)
        head, _, body = out.partition(b"\r\n\r\n")
        try:
            p = json.loads(body.decode())
        except (ValueError, UnicodeDecodeError):
            p = None
        check(b"X-Injected" not in out and b"7.7" not in out, "%s: nothing echoed" % what, out[:300])
        if out.startswith(b"HTTP/1.1 4") or out.startswith(b"HTTP/1.1 5"):
            check(p is not None and "error" in p, "%s: the error is JSON" % what, out[:300])
    check(s.alive(), "server alive after malformed requests")

    # ---- 11. the access log cannot be forged ------------------------------------
    s.raw(b"GET /api/x%0a2026-01-01T00:00:00Z%206.6.6.6%20GET%20/forged%20200%1b[31m HTTP/1.1\r\n"
          b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
    s.req("GET", "/api/health?token=topsecret&a=%0a")
    time.sleep(0.2)
    log = open(s.log, "rb").read()
    check(b"\n2026-01-01T00:00:00Z 6.6.6.6" not in log and b"\x1b" not in log, "access log: no forged line, no escape",
          log[-400:])
    check(b"\\x0a" in log and b"\\x1b" in log, "access log: control bytes shown as \\xNN")
    check(b"topsecret" not in log and b"token=***" in log, "access log: token= values masked")
    lines = [l for l in log.split(b"\n") if l]
    check(all(l[:4].isdigit() for l in lines), "access log: every line is one request", lines[-3:])
    s.stop()

    # ---- 4. a 50 MB array stops at the record cap while counting -----------------
    s = Server(wd, "--max-body", str(64 << 20))
    one = json.dumps(record).encode()
    n = (50 << 20) // (len(one) + 1)
    big = b"[" + b",".join([one] * n) + b"]"
    st, h, p = s.json("GET", "/api/health")
    for _ in range(3):
        s.json("POST", "/api/predict", json.dumps([record] * 50), hdr)
    base = s.rss_kb()
    st, h, p = s.json("POST", "/api/predict", big, hdr)
    check(st == 413 and p and "10000" in p["error"], "50 MB array of %d records: 413 at the record cap" % n, (st, p))
    time.sleep(0.3)
    after = s.rss_kb()
    if s.sanitized():
        print("# sanitizer build: RSS not compared (ASan keeps freed memory in quarantine)")
    else:
        check(after - base < 20 * 1024, "memory back to its baseline after the 50 MB body (%d -> %d KiB)" % (base, after))
    st, h, p = s.json("POST", "/api/predict", json.dumps([record] * 10000), hdr)
    check(st == 200 and p["count"] == 10000, "10,000 records are still accepted", st)
    s.stop()

    # ---- 3. slowloris: 200 slow sockets, a normal client still answered in 100 ms ----
    s = Server(wd, "--request-timeout", "30000")
    stop = threading.Event()
    slow = []
    for i in range(200):
        try:
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /api/health HTTP/1.1\r\n")
            slow.append(c)
        except OSError:
            pass

    def drip():
        k = 0
        while not stop.is_set():
            for c in slow:
                try:
                    c.send(b"X-Slow-%d: 1\r\n" % k)
                except OSError:
                    pass
            k += 1
            stop.wait(1.0)

    dripper = threading.Thread(target=drip)
    dripper.start()
    time.sleep(1.5)
    worst = 0.0
    for _ in range(20):
        t0 = time.time()
        st, _, _ = s.req("GET", "/api/health", source="127.0.0.2")
        worst = max(worst, time.time() - t0)
        check(st == 200, "health during slowloris") if st != 200 else None
        time.sleep(0.05)
    check(worst < 0.1, "200 slow sockets open: a normal client answered within 100 ms (worst %.1f ms)" % (worst * 1e3))
    stop.set()
    dripper.join()
    for c in slow:
        c.close()
    s.stop()

    # ---- 5. Host checking against DNS rebinding --------------------------------
    s = Server(wd, "--allowed-host", "churn.internal")
    for host, want in (("evil.example:%d" % s.port, 421), ("evil.example", 421), ("localhost:%d" % s.port, 200),
                       ("127.0.0.1:%d" % s.port, 200), ("churn.internal", 200), ("CHURN.internal:80", 200),
                       ("10.0.0.1", 421), ("[::1]:80", 421), ("localhost.evil.example", 421)):
        st, h, p = s.json("GET", "/api/artifacts", headers={"Host": host})
        check(st == want, "Host %s: %d" % (host, want), st)
    st, h, data = s.req("GET", "/api/artifacts/churn.csv", headers={"Host": "rebind.attacker.example"})
    check(st == 421 and b"customerID" not in data, "customer data refused to a rebinding name")
    s.stop()

    # ---- 6. the token guards everything but /api/health -------------------------
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as fh:
        fh.write(TOKEN + "\n")
    os.chmod(tf, 0o600)
    s = Server(wd, "--token-file", tf)
    with open("/proc/%d/cmdline" % s.proc.pid, "rb") as fh:
        check(TOKEN.encode() not in fh.read(), "--token-file: the token is not in the command line")
    auth = {"Authorization": "Bearer " + TOKEN}
    paths = ["/", "/index.html", "/api/details", "/api/metrics", "/api/model-runs", "/api/artifacts",
             "/api/artifacts/churn.csv", "/api/artifacts/logreg.json", "/api/figures/roc_curve.png",
             "/api/openapi.json"]
    for path in paths:
        st, h, data = s.req("GET", path)
        check(st == 401 and b"customerID" not in data, "GET %s without the token: 401" % path, st)
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), hdr)
    check(st == 401 and "www-authenticate" in h, "POST /api/predict without the token: 401", st)
    st, h, p = s.json("GET", "/api/health")
    check(st == 200, "health needs no token")
    for path in paths:
        st, h, data = s.req("GET", path, headers=auth)
        check(st in (200, 404) and st != 401, "GET %s with the bearer token" % path, st)
    for wrong in (TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "", TOKEN * 2):
        st, h, p = s.json("GET", "/api/metrics", headers={"Authorization": "Bearer " + wrong})
        check(st == 401, "a wrong token (%d chars) is 401" % len(wrong))
    st, h, data = s.req("GET", "/")
    check(st == 401 and b"<form" in data and b"/login" in data, "the dashboard without the token is a login form")
    st, h, data = s.req("POST", "/login", "token=" + TOKEN + "x", {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 401 and b"not right" in data, "login with a wrong token: the form again")
    st, h, data = s.req("POST", "/login", "token=" + TOKEN, {"Content-Type": "application/x-www-form-urlencoded"})
    cookie = h.get("set-cookie", "")
    check(st == 303 and h.get("location") == "/" and "HttpOnly" in cookie and "SameSite=Strict" in cookie,
          "login form: 303 to / with an HttpOnly SameSite=Strict cookie", (st, h))
    st, h, data = s.req("GET", "/?token=" + TOKEN)
    check(st == 303 and "HttpOnly" in h.get("set-cookie", ""), "?token= sets the cookie too", (st, h))
    jar = {"Cookie": cookie.split(";")[0]}
    st, h, data = s.req("GET", "/", headers=jar)
    check(st == 200 and b"<html" in data, "the dashboard with the cookie")
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), dict(hdr, **jar))
    check(st == 200, "predict with the cookie (the dashboard's form)", (st, p))
    st, h, p = s.json("GET", "/api/metrics", headers={"Cookie": "churn_token=" + TOKEN[:-1] + "y"})
    check(st == 401, "a wrong cookie is 401")
    s.stop()
    s = Server(wd, env={"CHURN_HTTPD_TOKEN": TOKEN})
    st, h, p = s.json("GET", "/api/metrics")
    check(st == 401, "CHURN_HTTPD_TOKEN: the token is required")
    st, h, p = s.json("GET", "/api/metrics", headers=auth)
    check(st == 200, "CHURN_HTTPD_TOKEN: the bearer token works")
    s.stop()
    r = subprocess.run([HTTPD, "--workdir", wd, "--token", "short"], capture_output=True, timeout=10)
    check(r.returncode == 64 and b"16" in r.stderr, "a short token is refused (exit 64)", r.stderr)

    # ---- 7. CORS: none without --cors; exactly the configured origins with it ----
    pre = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "content-type, x-anything"}
    s = Server(wd)
    st, h, data = s.req("OPTIONS", "/api/predict", headers=pre)
    check(not any(k.startswith("access-control-") for k in h), "no --cors: a preflight gets no CORS headers", h)
    st, h, data = s.req("GET", "/api/metrics", headers={"Origin": "http://evil.example"})
    check(not any(k.startswith("access-control-") for k in h), "no --cors: a GET gets no CORS headers", h)
    s.stop()
    s = Server(wd, "--cors", "https://dash.example", "--cors", "http://ops.example:8443")
    st, h, data = s.req("OPTIONS", "/api/predict", headers=pre)
    check("access-control-allow-origin" not in h, "--cors: another origin's preflight gets nothing", h)
    st, h, data = s.req("OPTIONS", "/api/predict", headers=dict(pre, Origin="https://dash.example"))
    check(h.get("access-control-allow-origin") == "https://dash.example" and
          h.get("access-control-allow-methods") == "GET, POST" and "x-anything" not in
          h.get("access-control-allow-headers", "").lower(), "--cors: the configured origin, GET/POST only", h)
    st, h, data = s.req("OPTIONS", "/api/predict", headers=dict(pre, Origin="http://ops.example:8443",
                                                                **{"Access-Control-Request-Method": "DELETE"}))
    check("access-control-allow-methods" not in h, "--cors: DELETE is not allowed", h)
    st, h, data = s.req("GET", "/api/metrics", headers={"Origin": "http://ops.example:8443"})
    check(h.get("access-control-allow-origin") == "http://ops.example:8443" and h.get("vary") == "Origin",
          "--cors: the second origin on GET", h)
    s.stop()
    r = subprocess.run([HTTPD, "--workdir", wd, "--cors", "*"], capture_output=True, timeout=10)
    check(r.returncode == 64, "--cors '*' is refused", r.stderr)

    # ---- 8. binding beyond loopback --------------------------------------------
    for listen in ("0.0.0.0:%d" % free_port(), "[::]:%d" % free_port()):
        r = subprocess.run([HTTPD, "--workdir", wd, "--listen", listen], capture_output=True, timeout=10)
        check(r.returncode == 64 and b"token" in r.stderr, "--listen %s without a token is refused" % listen,
              (r.returncode, r.stderr))
    port = free_port()
    s = Server(wd, listen=str(port))
    s.stop()
    err = s.err
    check("listening on 127.0.0.1:%d" % port in err, "a bare port binds 127.0.0.1", err[-300:])
    s = Server(wd, "--public-without-token", listen="0.0.0.0:%d" % free_port())
    st, h, p = s.json("GET", "/api/health")
    check(st == 200, "0.0.0.0 with --public-without-token serves")
    s.stop()
    port = free_port()
    p6 = subprocess.Popen([HTTPD, "--workdir", wd, "--listen", "[::1]:%d" % port, "--access-log", "off"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok6 = False
    for _ in range(60):
        if p6.poll() is not None:
            break
        try:
            c = socket.create_connection(("::1", port), timeout=0.2)
            c.sendall(b"GET /api/health HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n")
            ok6 = c.recv(100).startswith(b"HTTP/1.1 200")
            c.close()
            break
        except OSError:
            time.sleep(0.05)
    if p6.poll() is None:
        p6.send_signal(signal.SIGTERM)
    _, err6 = p6.communicate(timeout=30)
    check(ok6 or (p6.returncode == 69 and b"IPv6" in err6), "[::1]:P serves, or fails with a true message",
          err6[-300:])
    for bad in ("--max-body", "--threads", "--max-per-client", "--request-timeout"):
        for v in ("-1", "0", "1e3", "x"):
            r = subprocess.run([HTTPD, "--workdir", wd, bad, v], capture_output=True, timeout=10)
            check(r.returncode == 64 and bad.encode() in r.stderr, "%s %s is refused (64)" % (bad, v), r.stderr)

    # ---- 9. secrets and paths never reach /api/details ------------------------------
    cfg = os.path.join(tmp, "no-retry.json")
    with open(cfg, "w") as fh:
        fh.write('{"fetch": {"retries": 0}}')
    r = run("data", "--workdir", wd, "--config", cfg, "--source", "http://127.0.0.1:1/x.csv?token=SUPERSECRET&user=bob")
    check(r.returncode != 0, "a failing source with a token in its query")
    check(b"SUPERSECRET" not in r.stderr, "the CLI error masks the query", r.stderr)
    s = Server(wd)
    st, h, data = s.req("GET", "/api/details")
    check(st == 200 and b"SUPERSECRET" not in data and b"token=***" in data, "details: query values masked",
          data[:600])
    check(tmp.encode() not in data and b'"workdir":"wd"' in data.replace(b" ", b""), "details: no absolute path, the "
          "workdir's base name", data[:600])
    bad_csv = os.path.join(tmp, "bad.csv")
    with open(bad_csv, "w") as fh:
        fh.write("customerID,Churn\n")
    run("data", "--workdir", wd, "--source", bad_csv)
    st, h, data = s.req("GET", "/api/details")
    check(st == 200 and tmp.encode() not in data, "details: a failed local source shows no absolute path",
          data[:800])
    s.stop()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

httpdtest.finish("httpd-hardening")
