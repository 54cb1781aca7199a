#!/usr/bin/python3
"""Alerts end to end with the built churn binary and a local webhook receiver.

The receiver runs in this process on 127.0.0.1 (a free port), stopped on
every way out. Paths:
  /good   checks X-Churn-Signature (HMAC-SHA256 of the body with the secret)
          and keeps each body; 401 on a bad signature
  /fail   500 to everything
  /hang   answers nothing for longer than the webhook's timeout
  /moved  302 to a file:// URL (never followed)
Cases: unchanged data fires nothing; a schema change and a churn-rate shift
fire with exit 0 and a line each on stderr; the good receiver gets a correct
signed body; 500s, a hang past the timeout, a redirect and a closed port
leave exit 0 with the failure in the run record; a failed run fires
run_failed (and is delivered); the secret appears in no file of the workdir,
no log and no output (`churn config` shows "***"); a bad webhook URL or rule
name is refused before the run starts (exit 64).
usage: test-alerts.py CHURN_BINARY
"""
import csv
import hashlib
import hmac
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

CHURN = sys.argv[1]
SECRET = "s3cr3t-Webhook-Key-9f2c"  # must never appear in any file, log or output
passed = failed = 0
bodies = []  # (path, body, signature ok)
hits = {}
lock = threading.Lock()


def ok(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % what)
    else:
        failed += 1
        print("not ok - %s" % what)
        for line in str(detail).splitlines()[:15]:
            print("#   " + line)


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            hits[self.path] = hits.get(self.path, 0) + 1
        if self.path == "/hang":
            time.sleep(3)
            return self.answer(200)
        if self.path == "/fail":
            return self.answer(500)
        if self.path == "/moved":
            return self.answer(302, [("Location", "file:///etc/passwd")])
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(self.headers.get("X-Churn-Signature", ""), want)
        with lock:
            bodies.append((self.path, body, good, self.headers.get("Content-Type", "")))
        self.answer(200 if good else 401)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def churn(*args, config=None, workdir=None):
    cmd = [CHURN] + list(args)
    if workdir:
        cmd += ["--workdir", workdir]
    if config:
        cmd += ["--config", config]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def records(wd):
    with open(os.path.join(wd, "reports/run_metadata.json")) as f:
        return json.load(f)["runs"]


def write_config(path, url, **extra):
    cfg = {"alerts.webhook_url": url, "alerts.webhook_secret": SECRET, "alerts.webhook_timeout_s": 1,
           "alerts.webhook_retries": 2, "alerts.webhook_retry_delay_s": 0.05, "pipeline.figures": False}
    cfg.update(extra)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(cfg, f)
    os.chmod(path, 0o600)
    return path


def shifted_csv(src, dst):
    """Without the gender column and with two of every three non-churners dropped."""
    with open(src) as f:
        rows = list(csv.reader(f))
    head = rows[0]
    g, c = head.index("gender"), head.index("Churn")
    out = [[v for i, v in enumerate(head) if i != g]]
    for k, r in enumerate(rows[1:]):
        if r[c] == "No" and k % 3:
            continue
        out.append([v for i, v in enumerate(r) if i != g])
    with open(dst, "w", newline="") as f:
        csv.writer(f).writerows(out)


def secret_nowhere(root, outputs, what):
    found = [o[:60] for o in outputs if SECRET in o]
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != "cfg"]  # the configuration files hold it, as they must
        for name in files:
            p = os.path.join(d, name)
            if os.path.islink(p):
                continue
            with open(p, "rb") as f:
                if SECRET.encode() in f.read():
                    found.append(os.path.relpath(p, root))
    ok(not found, "the secret is in no file, log or output (%s)" % what, found)


def main():
    tmp = tempfile.mkdtemp(prefix="churn-alerts-")
    srv = Server(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    outputs = []
    try:
        run_cases(tmp, base, outputs)
        secret_nowhere(tmp, outputs, "every workdir")
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run_cases(tmp, base, outputs):
    src = os.path.join(tmp, "a.csv")
    shifted = os.path.join(tmp, "b.csv")
    r = churn("synth", "--rows", "3000", "--seed", "5", "--out", src)
    ok(r.returncode == 0, "synthetic data written", r.stderr)
    shifted_csv(src, shifted)

    # --- a good receiver ---------------------------------------------------
    wd = os.path.join(tmp, "good")
    cfg = write_config(os.path.join(tmp, "cfg/good.json"), base + "/good")
    r1 = churn("data", "--source", src, config=cfg, workdir=wd)
    r2 = churn("data", "--source", src, config=cfg, workdir=wd)
    outputs += [r1.stdout, r1.stderr, r2.stdout, r2.stderr]
    ok(r1.returncode == 0 and r2.returncode == 0, "two data runs on the same data: exit 0", r1.stderr + r2.stderr)
    recs = records(wd)
    ok(all(rec.get("alerts") == [] for rec in recs), "unchanged data fires nothing", [rec.get("alerts") for rec in recs])
    ok("alert [" not in r2.stderr and not os.path.exists(os.path.join(wd, "reports/alerts.json")),
       "no alert line, no reports/alerts.json", r2.stderr)
    ok(not bodies, "nothing posted while nothing fired", bodies)

    r = churn("data", "--source", shifted, config=cfg, workdir=wd)
    outputs += [r.stdout, r.stderr]
    ok(r.returncode == 0, "a run that succeeded with alerts exits 0", r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.startswith("churn data: alert ")]
    ok(len(lines) == 2 and "schema_change" in lines[0] and "removed gender" in lines[0] and "churn_rate" in lines[1],
       "one line per alert on stderr", r.stderr)
    rec = records(wd)[-1]
    ok([a["rule"] for a in rec["alerts"]] == ["schema_change", "churn_rate"], "the alerts are in the run record",
       rec.get("alerts"))
    ok(all(set(a) >= {"rule", "severity", "message", "details", "run_id", "time"} and a["run_id"] == rec["run_id"]
           for a in rec["alerts"]), "alerts carry rule, severity, message, details, run id and time", rec["alerts"])
    ok(rec.get("webhook", {}).get("status") == "delivered" and rec["webhook"]["attempts"] == 1,
       "the webhook outcome is recorded: delivered", rec.get("webhook"))
    with open(os.path.join(wd, "reports/alerts.json")) as f:
        doc = json.load(f)
    ok([a["rule"] for a in doc["alerts"]] == ["schema_change", "churn_rate"], "reports/alerts.json holds them", doc)
    ok(len(bodies) == 1 and bodies[0][2], "the good receiver got one body with a correct signature",
       [(b[0], b[2]) for b in bodies])
    if bodies:
        body = json.loads(bodies[0][1])
        ok([a["rule"] for a in body["alerts"]] == ["schema_change", "churn_rate"] and
           body["alerts"][0]["run_id"] == rec["run_id"] and bodies[0][3].startswith("application/json"),
           "the body is the run's alerts as JSON", body)

    # a failed run fires run_failed, delivered, recorded; earlier outputs stay
    before = open(os.path.join(wd, "reports/summary.json")).read()
    r = churn("data", "--source", os.path.join(tmp, "missing.csv"), config=cfg, workdir=wd)
    outputs += [r.stdout, r.stderr]
    rec = records(wd)[-1]
    ok(r.returncode == 66 and rec["status"] == "failed", "a failed run keeps its exit code (66)", r.stderr)
    ok([a["rule"] for a in rec.get("alerts", [])] == ["run_failed"], "a failed run fires run_failed (record)",
       rec.get("alerts"))
    ok(len(r.stderr.splitlines()) == 1 and "data pipeline failed" in r.stderr,
       "a failed run's stderr is its one error line (which stands for run_failed)", r.stderr)
    with open(os.path.join(wd, "reports/alerts.json")) as f:
        doc = json.load(f)
    ok(doc["alerts"][-1]["rule"] == "run_failed" and len(doc["alerts"]) == 3, "and reports/alerts.json", doc)
    ok(open(os.path.join(wd, "reports/summary.json")).read() == before, "the earlier good outputs are intact")
    ok(len(bodies) == 2 and bodies[1][2] and json.loads(bodies[1][1])["alerts"][0]["rule"] == "run_failed",
       "the failed run's alert is delivered, signed", [(b[0], b[2]) for b in bodies])

    # --- failing receivers: exit 0, failure recorded -------------------------
    port = closed_port()
    for name, url, want_attempts in (("500s", base + "/fail", 3), ("a hang past the timeout", base + "/hang", 3),
                                     ("a redirect", base + "/moved", 1),
                                     ("a closed port", "http://127.0.0.1:%d/x" % port, 3)):
        wd = os.path.join(tmp, "fail-" + name.replace(" ", "-"))
        cfg = write_config(os.path.join(tmp, "cfg/fail.json"), url)
        churn("data", "--source", src, config=cfg, workdir=wd)
        t0 = time.monotonic()
        r = churn("data", "--source", shifted, config=cfg, workdir=wd)
        took = time.monotonic() - t0
        outputs += [r.stdout, r.stderr]
        rec = records(wd)[-1]
        hook = rec.get("webhook", {})
        ok(r.returncode == 0 and rec["status"] == "succeeded", "webhook %s: the run succeeds (exit 0)" % name, r.stderr)
        ok(hook.get("status") == "failed" and hook.get("attempts") == want_attempts and hook.get("error"),
           "webhook %s: the failure is recorded (%d attempts)" % (name, want_attempts), hook)
        ok("not delivered" in r.stderr, "webhook %s: the failure is logged" % name, r.stderr)
        if name.startswith("a hang"):
            ok(took < 15, "webhook %s: bounded by the timeout (%.1f s)" % (name, took))

    # --- drift's figures: column PSI (data run), the champion on new rows (ML run) ---
    wd = os.path.join(tmp, "drift")
    contract, flipped = os.path.join(tmp, "contract.csv"), os.path.join(tmp, "flipped.csv")
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-drift.py"),
                        "contract", src, contract], capture_output=True, text=True)
    ok(r.returncode == 0, "gen-drift.py contract", r.stderr)
    with open(src) as f:
        rows = list(csv.reader(f))
    c = rows[0].index("Churn")
    for row in rows[1:]:
        row[c] = {"Yes": "No", "No": "Yes"}.get(row[c], row[c])
    with open(flipped, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    r1 = churn("run", "--source", src, "--no-figures", "--quiet", workdir=wd)
    r2 = churn("run", "--source", src, "--no-figures", "--quiet", workdir=wd)
    ok(r1.returncode == 0 and r2.returncode == 0 and all(rec["alerts"] == [] for rec in records(wd)),
       "with drift and the monitor step, unchanged data fires nothing", [rec.get("alerts") for rec in records(wd)])
    r = churn("data", "--source", contract, "--no-figures", workdir=wd)
    rec = records(wd)[-1]
    psi = [a for a in rec["alerts"] if a["rule"] == "column_psi"]
    cols = [x["name"] for x in psi[0]["details"]["columns"]] if psi else []
    ok(r.returncode == 0 and cols == ["Contract"] and psi[0]["severity"] == "alert" and "column_psi" in r.stderr,
       "a moved Contract mix fires column_psi naming Contract only", (r.returncode, rec["alerts"]))
    churn("data", "--source", flipped, "--no-figures", "--quiet", workdir=wd)
    r = churn("ml", "--no-figures", workdir=wd)
    rec = records(wd)[-1]
    auc = [a for a in rec["alerts"] if a["rule"] == "champion_auc"]
    ok(r.returncode == 0 and len(auc) == 1 and auc[0]["details"]["roc_auc_new"] < 0.5 and "champion_auc" in r.stderr,
       "labels that no longer follow the model fire champion_auc in the ML run", (r.returncode, rec["alerts"]))

    # --- configuration ------------------------------------------------------
    cfg = write_config(os.path.join(tmp, "cfg/show.json"), base + "/good")
    r = churn("config", config=cfg, workdir=os.path.join(tmp, "good"))
    outputs += [r.stdout, r.stderr]
    shown = json.loads(r.stdout) if r.returncode == 0 else {}
    ok(shown.get("alerts.webhook_secret") == "***", "churn config masks the secret", r.stdout[-300:])
    for what, extra in (("a file:// webhook URL", {"alerts.webhook_url": "file:///etc/passwd"}),
                        ("an unknown rule", {"alerts.rules": "run_failed,bogus"})):
        cfg = write_config(os.path.join(tmp, "cfg/bad.json"), base + "/good", **extra)
        wd = os.path.join(tmp, "good")
        n = len(records(wd))
        r = churn("data", "--source", src, config=cfg, workdir=wd)
        outputs += [r.stdout, r.stderr]
        errs = [l for l in r.stderr.splitlines() if "pipeline failed" in l]
        ok(r.returncode == 64 and len(errs) == 1 and "alerts." in errs[0], "%s is refused (exit 64, one line)" % what,
           r.stderr)
        ok(len(records(wd)) == n + 1, "%s: the refused run is recorded" % what)
    # alerts switched off: a failed run fires nothing
    cfg = write_config(os.path.join(tmp, "cfg/off.json"), "", **{"alerts.rules": ""})
    wd = os.path.join(tmp, "off")
    r = churn("data", "--source", os.path.join(tmp, "missing.csv"), config=cfg, workdir=wd)
    ok(r.returncode == 66 and records(wd)[-1]["alerts"] == [] and "alert [" not in r.stderr,
       "alerts.rules empty: nothing fires", r.stderr)


if __name__ == "__main__":
    sys.exit(main())
