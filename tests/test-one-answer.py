#!/usr/bin/python3
"""One answer from every front-end: on every row of the real Telco file,
`churn predict --json` (the CLI) and POST /api/predict (churn-httpd) give the
same id, probability (bit for bit), label and reasons, for each model; the
CLI's CSV carries the same probabilities and reasons. Skips (77) without
$CHURN_TELCO_CSV.

usage: test-one-answer.py CHURN CHURN_HTTPD
"""
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CHURN, HTTPD = sys.argv[1], sys.argv[2]
telco = os.environ.get("CHURN_TELCO_CSV", "")
if not telco or not os.path.exists(telco):
    print("# SKIP CHURN_TELCO_CSV is not set or absent: the real Telco file is needed")
    sys.exit(77)
passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok -", what)
    else:
        failed += 1
        print("not ok -", what, str(detail)[:1500])


tmp = tempfile.mkdtemp(prefix="churn-one-answer-")
proc = None
try:
    wd = os.path.join(tmp, "wd")
    r = subprocess.run([CHURN, "run", "--workdir", wd, "--source", telco, "--no-figures", "--quiet"],
                       capture_output=True, timeout=900)
    check(r.returncode == 0, "churn run on Telco", r.stderr[-400:])
    with open(telco, newline="") as fh:
        rows = list(csv.DictReader(fh))
    records = []
    for row in rows:
        rec = {}
        for k, v in row.items():
            if k == "Churn":
                continue
            try:
                rec[k] = float(v) if k in ("tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen") else v
            except ValueError:
                rec[k] = None  # blank TotalCharges: missing, as the CSV reader sees it
        records.append(rec)
    body = json.dumps(records).encode()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([HTTPD, "--workdir", wd, "--listen", "127.0.0.1:%d" % port, "--access-log", "off",
                             "--max-body", str(len(body) + 1024)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    for model in ("logreg", "gbm"):
        art = os.path.join(wd, "artifacts/models/%s.json" % model)
        if not os.path.exists(art):
            print("# %s not trained here: skipped" % model)
            continue
        r = subprocess.run([CHURN, "predict", "--model", art, "--input", telco, "--json"], capture_output=True,
                           timeout=600)
        check(r.returncode == 0, "%s: churn predict --json" % model, r.stderr[-300:])
        cli = json.loads(r.stdout)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("POST", "/api/predict?model=%s" % model, body=body, headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        api = json.loads(resp.read())
        c.close()
        check(resp.status == 200 and api["count"] == len(rows) == cli["count"],
              "%s: both scored all %d rows" % (model, len(rows)), (resp.status, api.get("count"), cli.get("count")))
        diffs = [i for i, (a, b) in enumerate(zip(cli["predictions"], api["predictions"])) if a != b]
        check(not diffs, "%s: every row has the same id, probability, label and reasons" % model,
              [(cli["predictions"][i], api["predictions"][i]) for i in diffs[:2]])
        check(all(all(x["contribution"] > 0 for x in p["reasons"]) for p in api["predictions"]),
              "%s: every reason raises the churn score" % model)
        if model == "logreg":
            g = next(p for p in api["predictions"] if p["id"] == "5575-GNVDE")
            print("# 5575-GNVDE (%s): %s" % (model, ", ".join("%s (%+.2f)" % (x["feature"], x["contribution"])
                                                            for x in g["reasons"])))
        r = subprocess.run([CHURN, "predict", "--model", art, "--input", telco], capture_output=True, timeout=600)
        lines = list(csv.reader(r.stdout.decode().splitlines()))
        ok = lines[0] == ["id", "probability", "label", "reason1", "reason2", "reason3"] and len(lines) == len(rows) + 1
        for line, p in zip(lines[1:], api["predictions"]):
            want = ["%s (%+.2f)" % (x["feature"], x["contribution"]) for x in p["reasons"]]
            want += [""] * (3 - len(want))
            if line[0] != p["id"] or float(line[1]) != p["probability"] or line[2] != p["label"] or line[3:] != want:
                ok = False
                print("# CSV row differs:", line, p)
                break
        check(ok, "%s: the CSV has the same ids, probabilities, labels and reasons" % model)
finally:
    if proc:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)

print("# one-answer: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
