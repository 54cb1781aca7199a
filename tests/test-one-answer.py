#!/usr/bin/python3
"""One answer from every front-end: on every row of the real Telco file,
`churn predict --json` (the CLI) and POST /api/predict (churn-httpd) give the
same id, probability (bit for bit), label and reasons, for each model; the
CLI's CSV carries the same probabilities and reasons. Skips (77) without
$CHURN_TELCO_CSV.

usage: test-one-answer.py CHURN CHURN_HTTPD
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest  # noqa: E402  (tests/httpdtest.py: the server, checks and summary these scripts share)
from httpdtest import Server, check  # noqa: E402



def own_value(cell):
    """A CSV cell as the answer shows the customer's value: a number, text, or None when blank."""
    cell = cell.strip()
    if not cell:
        return None
    try:
        return float(cell)
    except ValueError:
        return cell


def value_text(v):
    """The value as the CSV reason writes it: numbers shortest (1, not 1.0), (missing) for none."""
    if v is None:
        return "(missing)"
    if isinstance(v, str):
        return v
    return str(int(v)) if float(v).is_integer() else repr(float(v))


CHURN, HTTPD = httpdtest.args()
telco = os.environ.get("CHURN_TELCO_CSV", "")
if not telco or not os.path.exists(telco):
    print("# SKIP CHURN_TELCO_CSV is not set or absent: the real Telco file is needed")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="churn-one-answer-")
s = None
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

    s = Server(wd, "--max-body", str(len(body) + 1024))

    for model in ("logreg", "gbm"):
        art = os.path.join(wd, "artifacts/models/%s.json" % model)
        if not os.path.exists(art):
            print("# %s not trained here: skipped" % model)
            continue
        r = subprocess.run([CHURN, "predict", "--model", art, "--input", telco, "--json"], capture_output=True,
                           timeout=600)
        check(r.returncode == 0, "%s: churn predict --json" % model, r.stderr[-300:])
        cli = json.loads(r.stdout)
        st, _, api = s.json("POST", "/api/predict?model=%s" % model, body, {"Content-Type": "application/json"},
                            timeout=300)
        check(st == 200 and api["count"] == len(rows) == cli["count"],
              "%s: both scored all %d rows" % (model, len(rows)), (st, api.get("count"), cli.get("count")))
        diffs = [i for i, (a, b) in enumerate(zip(cli["predictions"], api["predictions"])) if a != b]
        check(not diffs, "%s: every row has the same id, probability, label and reasons" % model,
              [(cli["predictions"][i], api["predictions"][i]) for i in diffs[:2]])
        # reasons in the customer's own terms: raw columns, their own values, largest effect first, signed
        header = rows[0].keys()
        good = all(x["feature"] in header and x["contribution"] != 0 and
                   x["effect"] == ("raises" if x["contribution"] > 0 else "lowers") and
                   all(abs(a["contribution"]) >= abs(b["contribution"]) for a, b in zip(p["reasons"], p["reasons"][1:]))
                   for p in api["predictions"] for x in p["reasons"])
        same_values = all(own_value(row[x["feature"]]) == x["value"]
                          for row, p in zip(rows, api["predictions"]) for x in p["reasons"])
        check(good and same_values, "%s: reasons are raw columns with the customer's own values, largest effect "
              "first, raising or lowering the risk" % model)
        check(any(x["contribution"] < 0 for p in api["predictions"] for x in p["reasons"]),
              "%s: reasons that lower the risk are shown too" % model)
        if model == "logreg":
            g = next(p for p in api["predictions"] if p["id"] == "5575-GNVDE")
            print("# 5575-GNVDE (%s): %s" % (model, ", ".join("%s (%+.2f)" % (x["feature"], x["contribution"])
                                                            for x in g["reasons"])))
        r = subprocess.run([CHURN, "predict", "--model", art, "--input", telco], capture_output=True, timeout=600)
        lines = list(csv.reader(r.stdout.decode().splitlines()))
        ok = lines[0] == ["id", "probability", "label", "reason1", "reason2", "reason3"] and len(lines) == len(rows) + 1
        for line, p in zip(lines[1:], api["predictions"]):
            want = ["%s = %s: %s churn risk (%+.2f log-odds)" % (x["feature"], value_text(x["value"]), x["effect"],
                                                                  x["contribution"]) for x in p["reasons"]]
            want += [""] * (3 - len(want))
            if line[0] != p["id"] or float(line[1]) != p["probability"] or line[2] != p["label"] or line[3:] != want:
                ok = False
                print("# CSV row differs:", line, p)
                break
        check(ok, "%s: the CSV has the same ids, probabilities, labels and reasons" % model)
finally:
    if s:
        s.stop()
    shutil.rmtree(tmp, ignore_errors=True)

httpdtest.finish("one-answer")
