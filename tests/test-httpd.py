#!/usr/bin/python3
"""churn-httpd over real loopback sockets: every endpoint of ARCHITECTURE.md and the
OpenAPI document, errors (400/401/404/405/413/503), path traversal, headers,
reloads after a new run, and clean shutdown.

usage: test-httpd.py CHURN CHURN_HTTPD
"""
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpdtest  # noqa: E402  (tests/httpdtest.py: the server, checks and summary these scripts share)
from httpdtest import Server, check, run  # noqa: E402

CHURN, HTTPD = httpdtest.args()

tmp = tempfile.mkdtemp(prefix="churn-httpd-")
try:
    # --- an empty workdir: 503 saying what to run -------------------------
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    s = Server(empty, threads=16)
    st, h, body = s.json("GET", "/api/health")
    check(st == 200 and body["status"] == "ok", "health on an empty workdir")
    for path in ("/api/details", "/api/metrics", "/api/model-runs", "/api/drift"):
        st, h, body = s.json("GET", path)
        check(st == 503 and "churn" in body.get("error", ""), "%s answers 503 with what to run" % path, (st, body))
    st, h, body = s.json("GET", "/api/alerts")
    check(st == 200 and body == {"alerts": []}, "alerts before any run: an empty list", (st, body))
    st, h, body = s.json("POST", "/api/predict", b'{"tenure": 1}', {"Content-Type": "application/json"})
    check(st == 503, "predict before any run is 503", (st, body))
    st, h, data = s.req("GET", "/")
    check(st == 200 and b"<html" in data and h["content-type"].startswith("text/html"), "dashboard is served")
    check(b"http://" not in data and b"https://" not in data, "dashboard loads nothing from outside")
    s.stop()

    # --- a workdir after churn run -----------------------------------------
    wd = os.path.join(tmp, "wd")
    models = ["logreg", "gbm"]
    r = run("run", "--workdir", wd, "--source", "synthetic:3000?seed=11", "--quiet")
    if r.returncode != 0 and b"is not built" in r.stderr:
        print("# gbm is not built: --models logreg")
        models = ["logreg"]
        r = run("run", "--workdir", wd, "--source", "synthetic:3000?seed=11", "--quiet", "--models", "logreg")
    last = models[-1]
    check(r.returncode == 0, "churn run for the server", r.stderr.decode()[-300:])
    record = httpdtest.first_record(wd)
    record.pop("Churn", None)
    for k in ("tenure", "MonthlyCharges", "SeniorCitizen"):
        record[k] = float(record[k])

    s = Server(wd, threads=16)
    st, h, body = s.json("GET", "/api/health")
    check(st == 200 and body["version"], "health")
    check(h.get("content-type") == "application/json; charset=utf-8", "JSON content type with charset")
    check(h.get("x-content-type-options") == "nosniff", "nosniff header")
    check("access-control-allow-origin" not in h, "no CORS header by default")

    st, h, d = s.json("GET", "/api/details")
    check(st == 200 and d["name"] == "libchurn" and d["dataset"]["rows"] == 3000, "details: name and rows", d)
    for key in ("version", "dataset", "last_data_run", "last_model_run", "best_model"):
        check(key in d, "details has %s" % key)
    check(d["best_model"]["name"] in ("logreg", "gbm") and "roc_auc" in d["best_model"]["metrics"], "details: best model with metrics")
    check(0.2 < d["dataset"]["churn_rate"] < 0.35, "details: churn rate")

    st, h, m = s.json("GET", "/api/metrics")
    with open(os.path.join(wd, "reports/metrics.json")) as fh:
        check(st == 200 and m == json.load(fh), "metrics equals reports/metrics.json")

    st, h, dr = s.json("GET", "/api/drift")
    with open(os.path.join(wd, "reports/drift.json")) as fh:
        check(st == 200 and dr == json.load(fh) and dr["status"] == "no_reference", "drift equals reports/drift.json (first run: no reference)")

    st, h, mr = s.json("GET", "/api/model-runs?limit=1")
    check(st == 200 and len(mr["runs"]) == 1, "model-runs?limit=1 returns one run")
    st, h, mr = s.json("GET", "/api/model-runs")
    check(st == 200 and len(mr["runs"]) == len(models), "model-runs returns a run per model")
    for bad in ("abc", "-1", "0", ""):
        st, h, body = s.json("GET", "/api/model-runs?limit=" + bad)
        check(st == 400 and "error" in body, "model-runs?limit=%s is 400" % bad)

    st, h, arts = s.json("GET", "/api/artifacts")
    names = {a["name"]: a for a in arts}
    check(st == 200 and {m + ".json" for m in models} | {"metrics.json", "churn.parquet"} <= set(names), "artifacts listed", list(names))
    check(all(set(a) == {"name", "kind", "bytes", "sha256", "modified"} for a in arts), "artifact entries have the contract keys")
    st, h, data = s.req("GET", "/api/artifacts/%s.json" % last)
    with open(os.path.join(wd, "artifacts/models/%s.json" % last), "rb") as fh:
        check(st == 200 and data == fh.read(), "artifact download is the file")
    check(hashlib.sha256(data).hexdigest() == names[last + ".json"]["sha256"], "artifact sha256 matches the listing")
    figs = [a["name"] for a in arts if a["kind"] == "figure" and a["name"].endswith(".png")]
    check(len(figs) > 3, "figures listed", figs)
    if figs:
        st, h, data = s.req("GET", "/api/figures/" + figs[0])
        check(st == 200 and data[:8] == b"\x89PNG\r\n\x1a\n" and h["content-type"] == "image/png", "figure served as PNG")
    st, h, body = s.json("GET", "/api/figures/%s.json" % last)
    check(st == 404, "a model is not a figure")

    # traversal and symlinks
    secret = os.path.join(tmp, "secret.png")
    with open(secret, "w") as fh:
        fh.write("secret")
    os.symlink(secret, os.path.join(wd, "reports/figures/evil.png"))
    os.symlink("/etc/passwd", os.path.join(wd, "reports/passwd.json"))
    for path in ("/api/artifacts/../../etc/passwd", "/api/artifacts/..%2f..%2fetc%2fpasswd",
                 "/api/artifacts/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/artifacts/%2e%2e",
                 "/api/artifacts//etc/passwd", "/api/artifacts/%2fetc%2fpasswd", "/api/figures/evil.png",
                 "/api/artifacts/passwd.json", "/api/figures/..%2f..%2fartifacts%2fprep.json",
                 "/api/artifacts/.churn.lock", "/api/artifacts/%252e%252e%252fetc%252fpasswd"):
        st, h, data = s.req("GET", path)
        check(st in (400, 404) and b"root:" not in data and b"secret" not in data, "traversal refused: %s" % path, st)
    st, h, arts2 = s.json("GET", "/api/artifacts")
    check("evil.png" not in {a["name"] for a in arts2}, "symlinks are not listed")

    # methods and unknown paths
    st, h, body = s.json("POST", "/api/metrics", b"{}")
    check(st == 405 and "GET" in h.get("allow", ""), "POST /api/metrics is 405 with Allow")
    st, h, body = s.json("GET", "/api/predict")
    check(st == 405 and h.get("allow") == "POST", "GET /api/predict is 405")
    st, h, body = s.json("GET", "/api/nope")
    check(st == 404 and "error" in body, "unknown path is 404 JSON")

    # predict
    hdr = {"Content-Type": "application/json"}
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), hdr)
    check(st == 200 and p["count"] == 1, "predict one record", (st, p))
    if st == 200:
        pr = p["predictions"][0]
        check(0 <= pr["probability"] <= 1 and pr["label"] in ("Yes", "No") and len(pr["reasons"]) == 3, "prediction has probability, label, 3 reasons", pr)
        check(pr["id"] == record["customerID"], "prediction carries the id")
    st, h, p = s.json("POST", "/api/predict?model=logreg", json.dumps([record, record, record]), hdr)
    check(st == 200 and p["count"] == 3 and p["model"] == "logreg", "predict an array with ?model=logreg")
    st, h, p = s.json("POST", "/api/predict?model=bogus", json.dumps(record), hdr)
    check(st == 400, "unknown model is 400")
    # the model registry: /api/models; the default is the champion, ?model= a version or an alias
    st, h, reg = s.json("GET", "/api/models")
    champ = reg.get("aliases", {}).get("champion") if st == 200 else None
    check(st == 200 and champ and [v["ref"] for v in reg["versions"]] == [m + "@v1" for m in models]
          and reg["history"][-1]["action"] == "first" and reg["history"][-1]["promoted"], "/api/models: v1 of each model, the first run's champion", reg)
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), hdr)
    st2, h, p2 = s.json("POST", "/api/predict?model=" + (champ or ""), json.dumps(record), hdr)
    st3, h, p3 = s.json("POST", "/api/predict?model=champion", json.dumps(record), hdr)
    check(st == st2 == st3 == 200 and p["version"] == p2["version"] == p3["version"] == champ and p["predictions"] == p2["predictions"] == p3["predictions"],
          "predict: default = ?model=champion = ?model=" + str(champ), (p.get("version"), p2.get("version")))
    st, h, p = s.json("POST", "/api/predict?model=%s%%40v1" % models[0], json.dumps(record), hdr)
    check(st == 200 and p["version"] == models[0] + "@v1" and p["model"] == models[0], "predict ?model=NAME%40v1 (encoded)", p)
    for bad, code in (("gbm@v99", 404), ("gbm@v0", 400), ("gbm@v99999999999", 400), ("..%2Fgbm@v1", 400), ("gbm%00@v1", 400),
                      ("x" * 300 + "@v1", 400), ("previous", 404)):
        st, h, p = s.json("POST", "/api/predict?model=" + bad, json.dumps(record), hdr)
        check(st == code and "error" in p, "predict ?model=%s is %d" % (bad[:20], code), (st, p))
    st, h, p = s.json("POST", "/api/predict", b'{"tenure": 1,', hdr)
    check(st == 400 and "JSON" in p["error"], "malformed JSON is 400", p)
    st, h, p = s.json("POST", "/api/predict", json.dumps(dict(record, tenure=[1])), hdr)
    check(st == 400 and "tenure" in p["error"], "wrong type is 400 naming the column", p)
    st, h, p = s.json("POST", "/api/predict", json.dumps(dict(record, Bogus="x")), hdr)
    check(st == 400 and "Bogus" in p["error"], "unknown column is 400 naming it", p)
    st, h, p = s.json("POST", "/api/predict", b"[]", hdr)
    check(st == 400, "empty array is 400")
    # over the limit: answered 413 from the headers alone, the body is never read (test-httpd-hardening.py)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (1024 * 1024 + 10))
    head = c.recv(4096)
    c.close()
    check(head.startswith(b"HTTP/1.1 413 ") and b'"error"' in head, "body over 1 MiB is 413", head[:200])

    # the OpenAPI document: every documented path answers as documented
    st, h, doc = s.json("GET", "/api/openapi.json")
    check(st == 200 and doc["openapi"].startswith("3."), "OpenAPI 3 document")
    samples = {"name": None}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            url = path.replace("{name}", "roc_curve.png" if path.startswith("/api/figures") else "metrics.json")
            body = json.dumps(record) if method == "post" else None
            st, h, data = s.req(method.upper(), url, body, hdr if body else None)
            check(str(st) in op["responses"], "%s %s answers a documented status (%d)" % (method.upper(), path, st))
            if st == 200 and "application/json" in op["responses"]["200"].get("content", {}):
                try:
                    json.loads(data)
                    check(True, "%s %s returns JSON" % (method.upper(), path))
                except ValueError:
                    check(False, "%s %s returns JSON" % (method.upper(), path))

    # reload: a new ML run is served without a restart
    st, h, before = s.json("GET", "/api/metrics")
    r = run("ml", "--workdir", wd, "--no-figures", "--quiet", "--models", ",".join(models))
    check(r.returncode == 0, "second churn ml", r.stderr.decode()[-300:])
    st, h, after = s.json("GET", "/api/metrics")
    check(st == 200 and after["run_id"] != before["run_id"], "metrics reloaded after a new run")
    st, h, dr = s.json("GET", "/api/drift")
    check(st == 200 and dr["performance"]["run_id"] == after["run_id"] and dr["performance"]["status"] == "scored",
          "drift reloaded after a new run: the ML run's performance", dr.get("performance"))
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), hdr)
    check(st == 200, "predict after the model was replaced")

    # after N ML runs the data run rotates out of run_metadata.json: details still answer from summary.json
    rpath = os.path.join(wd, "reports/run_metadata.json")
    rsaved = open(rpath, "rb").read()
    doc = json.loads(rsaved)
    doc["runs"] = [r for r in doc["runs"] if r["pipeline"] != "data"]
    with open(rpath + ".tmp", "w") as fh:
        json.dump(doc, fh)
    os.replace(rpath + ".tmp", rpath)
    st, h, d = s.json("GET", "/api/details")
    check(st == 200 and d["dataset"]["rows"] == 3000 and d["last_model_run"], "details without a data run in the records", (st, d))
    with open(rpath + ".tmp", "wb") as fh:
        fh.write(rsaved)
    os.replace(rpath + ".tmp", rpath)

    # alerts: a failed run fires run_failed; /api/alerts lists it without the server's paths
    r = run("data", "--workdir", wd, "--source", os.path.join(tmp, "nowhere", "missing.csv"), "--quiet")
    check(r.returncode == 66, "a failed data run", r.stderr[-300:])
    st, h, al = s.json("GET", "/api/alerts")
    check(st == 200 and [a["rule"] for a in al["alerts"]] == ["run_failed"] and al["alerts"][0]["severity"] == "alert",
          "alerts lists the failed run's alert", (st, al))
    check(tmp not in json.dumps(al), "alerts carry no absolute server path", al)
    r = run("data", "--workdir", wd, "--source", os.path.join(tmp, "nowhere", "missing.csv"), "--quiet")
    st, h, al = s.json("GET", "/api/alerts?limit=1")
    check(st == 200 and len(al["alerts"]) == 1, "alerts?limit=1 returns one alert", al)
    for bad in ("abc", "0", "-1"):
        st, h, body = s.json("GET", "/api/alerts?limit=" + bad)
        check(st == 400 and "error" in body, "alerts?limit=%s is 400" % bad)
    st, h, body = s.json("POST", "/api/alerts", b"{}", {"Content-Type": "application/json"})
    check(st == 405, "POST /api/alerts is 405", st)

    # corrupt files never crash the server
    mpath = os.path.join(wd, "reports/metrics.json")
    saved = open(mpath, "rb").read()
    with open(mpath, "w") as fh:
        fh.write('{"models": {"gbm": ')
    st, h, body = s.json("GET", "/api/metrics")
    check(st in (500, 503) and "error" in body, "corrupt metrics.json is an error, not a crash", st)
    with open(mpath, "wb") as fh:
        fh.write(saved)
    st, h, body = s.json("GET", "/api/health")
    check(st == 200, "server alive after corrupt files")
    code = s.stop()
    check(code == 0, "SIGTERM: clean shutdown (exit %s)" % code)

    # --- cox: the retention list and a posted customer's remaining months ----
    wc = os.path.join(tmp, "wc")
    r = run("run", "--workdir", wc, "--source", "synthetic:1500?seed=5", "--quiet", "--no-figures", "--models", "logreg,cox")
    check(r.returncode == 0, "churn run with cox", r.stderr.decode()[-300:])
    s = Server(wc, threads=16)
    st, h, body = s.json("GET", "/api/retention")
    check(st == 200 and body["count"] == 50 and len(body["customers"]) == 50 and body["total"] > 50, "retention: 50 by default", (st, body.get("count")))
    profits = [c["expected_profit"] for c in body["customers"]]
    check(profits == sorted(profits, reverse=True) and body["summary"]["best"]["contacts"] >= 0, "retention: by expected profit, with the best budget")
    st, h, small = s.json("GET", "/api/retention?limit=3")
    check(st == 200 and small["count"] == 3 and [c["id"] for c in small["customers"]] == [c["id"] for c in body["customers"][:3]], "retention?limit=3: the first three")
    for bad in ("0", "1001", "abc", "-1", "2%00"):
        st, h, e = s.json("GET", "/api/retention?limit=" + bad)
        check(st == 400 and "error" in e, "retention?limit=%s is 400" % bad, st)
    rec = httpdtest.first_record(wc)
    rec.pop("Churn", None)
    for k in ("tenure", "MonthlyCharges", "SeniorCitizen"):
        rec[k] = float(rec[k])
    st, h, p = s.json("POST", "/api/predict", json.dumps(rec), hdr)
    sv = p["predictions"][0].get("survival") if st == 200 else None
    check(sv and sv["horizon"] == 24 and (sv["beyond_horizon"] or 0 < sv["months_remaining"] <= 24) and sv["expected_remaining_value"] > 0,
          "predict with a cox model: months remaining and value", (st, sv))
    rec.pop("tenure")
    st, h, p = s.json("POST", "/api/predict", json.dumps([rec, rec]), hdr)
    check(st == 200 and p["count"] == 2 and p["predictions"][1]["survival"] is None, "predict without tenure: survival null", (st, p))
    # a later run without cox leaves cox.json and retention.json in the generation: they are not served as current
    r = run("ml", "--workdir", wc, "--quiet", "--no-figures", "--models", "logreg")
    check(r.returncode == 0 and os.path.exists(os.path.join(wc, "reports/retention.json")), "churn ml without cox", r.stderr.decode()[-300:])
    st, h, e = s.json("GET", "/api/retention")
    check(st == 503, "retention after a run without cox is 503", (st, e))
    rec["tenure"] = 5.0
    st, h, p = s.json("POST", "/api/predict", json.dumps(rec), hdr)
    check(st == 200 and "survival" not in p["predictions"][0], "predict after a run without cox: no survival", (st, p))
    s.stop()
    s = Server(wd, threads=16)
    st, h, e = s.json("GET", "/api/retention")
    check(st == 503 and "cox" in e.get("error", ""), "retention without a cox run is 503 saying what to run", (st, e))
    s.stop()

    # token and CORS
    s = Server(wd, "--token", "s3cret-s3cret-s3cret", "--cors", "http://dash.example", threads=16)
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), hdr)
    check(st == 401, "predict without the token is 401")
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), dict(hdr, Authorization="Bearer nope"))
    check(st == 401, "predict with a wrong token is 401")
    st, h, p = s.json("POST", "/api/predict", json.dumps(record), dict(hdr, Authorization="Bearer s3cret-s3cret-s3cret"))
    check(st == 200, "predict with the token")
    st, h, p = s.json("GET", "/api/health", headers={"Origin": "http://dash.example"})
    check(h.get("access-control-allow-origin") == "http://dash.example", "CORS header for the --cors origin")
    st, h, p = s.json("GET", "/api/health", headers={"Origin": "http://evil.example"})
    check("access-control-allow-origin" not in h, "no CORS header for another origin")
    s.stop()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

httpdtest.finish("httpd")
