"""What the churn-httpd script tests share (test-httpd.py, test-httpd-hardening.py,
test-one-answer.py): the command line, TAP-style checks with a closing count,
a churn-httpd started on a free loopback port, and churn runs.

A script imports it from its own directory:

    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import httpdtest
    from httpdtest import check, Server

    CHURN, HTTPD = httpdtest.args()
    ...
    httpdtest.finish("httpd")
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

CHURN = HTTPD = None
passed = failed = 0


def args():
    """CHURN and CHURN_HTTPD from the command line (usage: SCRIPT CHURN CHURN_HTTPD)."""
    global CHURN, HTTPD
    if len(sys.argv) < 3:
        sys.exit("usage: %s CHURN CHURN_HTTPD" % os.path.basename(sys.argv[0]))
    CHURN, HTTPD = sys.argv[1], sys.argv[2]
    return CHURN, HTTPD


def check(cond, what, detail=""):
    """One TAP line: 'ok - what', or 'not ok - what detail' (the detail cut to 2000 characters)."""
    global passed, failed
    if cond:
        passed += 1
        print("ok -", what)
    else:
        failed += 1
        print("not ok -", what, str(detail)[:2000])
    sys.stdout.flush()


def finish(name):
    """Print '# name: N passed, M failed' and exit 1 when anything failed, else 0."""
    print("# %s: %d passed, %d failed" % (name, passed, failed))
    sys.exit(1 if failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(*argv, env=None):
    """churn ARGV... (stdout dropped, stderr kept), with env added to the environment."""
    return subprocess.run([CHURN, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600,
                          env=dict(os.environ, **(env or {})))


def first_record(workdir):
    """The first row of the raw CSV in workdir/data/raw as a dict of strings (header -> value)."""
    raw = [f for f in os.listdir(os.path.join(workdir, "data/raw")) if f.endswith(".csv")][0]
    with open(os.path.join(workdir, "data/raw", raw)) as fh:
        header = fh.readline().strip().split(",")
        first = fh.readline().strip().split(",")
    return dict(zip(header, first))


class Server:
    """churn-httpd on workdir with the options extra, listening on 127.0.0.1:<free port> (or listen), the
    access log off (or in log_dir/access-<port>.log: self.log), --threads when given, env added to the
    environment; ready when its port accepts a connection."""

    def __init__(self, workdir, *extra, env=None, listen=None, log_dir=None, threads=None):
        self.port = int(listen.rsplit(":", 1)[-1]) if listen else free_port()
        self.listen = listen or "127.0.0.1:%d" % self.port
        self.log = os.path.join(log_dir, "access-%d.log" % self.port) if log_dir else None
        self.err = ""
        self.proc = subprocess.Popen([HTTPD, "--workdir", workdir, "--listen", self.listen,
                                      "--access-log", self.log or "off",
                                      *(["--threads", str(threads)] if threads else []), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=dict(os.environ, **(env or {})))
        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        self.proc.communicate()
        raise RuntimeError("server did not start")

    def req(self, method, path, body=None, headers=None, source="127.0.0.1", timeout=20):
        """One request on a new connection: (status, {lower-case header: value}, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def json(self, method, path, body=None, headers=None, timeout=20):
        """As req(), the body parsed as UTF-8 JSON (None when it is not)."""
        st, h, data = self.req(method, path, body, headers, timeout=timeout)
        try:
            return st, h, json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return st, h, None

    def raw(self, data, timeout=5):
        """Send raw bytes, return everything the server answers until it closes (or the timeout)."""
        c = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        c.sendall(data)
        out = b""
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                out += b
        except (socket.timeout, ConnectionResetError):
            pass
        c.close()
        return out

    def alive(self):
        try:
            st, _, _ = self.req("GET", "/api/health")
            return st == 200 and self.proc.poll() is None
        except OSError:
            return False

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def sanitized(self):
        """True when the server runs under AddressSanitizer."""
        with open("/proc/%d/maps" % self.proc.pid) as fh:
            return "asan" in fh.read()

    def stop(self):
        """SIGTERM (SIGKILL after 30 s); checks that its stderr has no sanitizer report. Returns the exit code
        (None when it had to be killed); its stderr is kept in self.err."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
            code = self.proc.returncode
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            code = None
        self.err = err.decode(errors="replace")
        check("Sanitizer" not in self.err and "runtime error" not in self.err, "no sanitizer reports from the server",
              self.err[-2000:])
        return code
