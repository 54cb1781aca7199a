#!/usr/bin/python3
"""PostgreSQL as a source (churn fetch/data/run --source postgresql://...) and a
sink of scores (churn predict --out postgresql://..., pipeline.scores_out),
against a throwaway cluster (tests/pgcluster.py, without the extension).

usage: test-pg-source.py CHURN_CLI SOURCE_DIR

Checks: Telco (CHURN_TELCO_CSV; else 3,000 synthetic rows) loaded the
ordinary way (lower-case names, TotalCharges as text) gives through
`churn run --source postgresql://...?table=` the metrics of the same rows
read from the CSV file; an unchanged table is "unchanged"; a query source;
bad URI, unreachable server, authentication failure, missing table,
permission denied, a query that is not a SELECT, a statement timeout and
fetch.max_bytes each fail with one line naming the source (password
masked) and the documented exit code, and leave the workdir as it was; the
password appears in no workdir file and no output; the sink holds churn
predict's CSV, replaces its rows atomically under a reader looping during
the writes, and keeps the previous rows when a write fails;
pipeline.scores_out writes the current customers after a run, and a failed
one is reported (exit 69) without undoing the run.
Exit 77 (skip) when PostgreSQL or psycopg2 is absent.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading

PASSWORD = "Pw-9f3e7c-secret"


if len(sys.argv) != 3:
    sys.exit(__doc__)
CHURN, SRC = (os.path.abspath(a) for a in sys.argv[1:3])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
from pgcluster import check, failures, skip  # noqa: E402

why = pgcluster.missing(None)
if why:
    skip(why)
CL = pgcluster.Cluster(None, SRC)
PORT = CL.port
TMP = tempfile.mkdtemp(prefix="churn-pgsrc-")
print(f"# cluster on 127.0.0.1:{PORT}")


def url(user="postgres", password=None, port=None, **params):
    auth = user + (":" + password if password else "")
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return f"postgresql://{auth}@127.0.0.1:{port or PORT}/churn" + (f"?{q}" if q else "")


def churn(*args, config=None):
    cmd = [CHURN] + list(args)
    if config is not None:
        path = os.path.join(TMP, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        cmd += ["--config", path]
    return subprocess.run(cmd, capture_output=True, text=True)


def load_table(cur, name, csv_path):
    """The table made the ordinary way: unquoted (lower-case) names, numbers as numeric, TotalCharges as text."""
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = []
    for j, h in enumerate(header):
        def num(v):
            try:
                float(v)
                return True
            except ValueError:
                return False
        typ = "numeric" if all(num(r[j]) for r in body) else "text"
        if h in ("tenure", "SeniorCitizen") and typ == "numeric":
            typ = "integer"
        cols.append(f"{h} {typ}")
    cur.execute(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({', '.join(cols)})")
    with open(csv_path) as f:
        cur.copy_expert(f"COPY {name} FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    return len(body)


def tree_digest(wd):
    """sha256 of every file under the workdir but the log and the run and alert records (what a failed run may change)."""
    h = {}
    for d, _, files in os.walk(wd):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, wd)
            if rel.startswith("logs/") or f.endswith("run_metadata.json") or f == "alerts.json" or os.path.islink(p):
                continue
            h[rel.split("/", 2)[-1] if rel.startswith(".gen/") else rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return h


def published(wd):
    """The published files (through .current) and data/raw, by content."""
    out = {}
    for base in ("data/raw", "reports", "artifacts", "data/processed"):
        top = os.path.join(wd, base)
        for d, _, files in os.walk(top, followlinks=True):
            for f in files:
                if f in ("run_metadata.json", "alerts.json"):  # records: a failed run appends to both
                    continue
                p = os.path.join(d, f)
                out[os.path.relpath(p, wd)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def grep_tree(wd, needle):
    hits = []
    for d, _, files in os.walk(wd):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p) and needle.encode() in open(p, "rb").read():
                hits.append(os.path.relpath(p, wd))
    return hits


def metrics_numbers(wd):
    m = json.load(open(os.path.join(wd, "reports", "metrics.json")))
    keep = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "threshold", "confusion")
    return {"rows": m["rows"], "train_rows": m["train_rows"], "test_rows": m["test_rows"],
            "features": m["features"], "best": m["best_model"],
            "models": {k: {q: v[q] for q in keep} for k, v in m["models"].items()}}


def last_run(wd, pipeline):
    runs = json.load(open(os.path.join(wd, "reports", "run_metadata.json")))["runs"]
    return [r for r in runs if r["pipeline"] == pipeline][-1]


try:
    admin = CL.connect()
    admin.cursor().execute("CREATE DATABASE churn")
    conn = CL.connect("churn")
    cur = conn.cursor()
    telco = os.environ.get("CHURN_TELCO_CSV", "")
    if telco and os.path.exists(telco):
        data = telco
    else:
        print("# CHURN_TELCO_CSV unset: 3,000 synthetic rows instead of Telco")
        data = os.path.join(TMP, "synth.csv")
        subprocess.run([CHURN, "synth", "--rows", "3000", "--seed", "7", "--out", data], check=True,
                       capture_output=True)
    nrows = load_table(cur, "customers", data)
    cur.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'; GRANT SELECT ON customers TO reader; "
                "CREATE ROLE nobody_reads LOGIN; CREATE TABLE secret (a int, b int)")
    # password authentication for the roles with a password (the cluster trusts the others)
    hba = os.path.join(CL.data, "pg_hba.conf")
    old = open(hba).read()
    with open(hba, "w") as f:
        f.write("host all reader 127.0.0.1/32 scram-sha-256\n" + old)
    cur.execute("SELECT pg_reload_conf()")

    # ---- source round trip: the table gives the CSV file's metrics ----
    wd_pg, wd_csv = os.path.join(TMP, "wd-pg"), os.path.join(TMP, "wd-csv")
    src = url("reader", PASSWORD, table="public.customers")
    r = churn("run", "--workdir", wd_pg, "--source", src, "--no-figures")
    check(r.returncode == 0, f"churn run --source postgresql://...?table=public.customers succeeds ({r.stderr.strip()[:300]})")
    # The same rows in a CSV file: the table's rows in the order it gives them (a heap is not kept in insertion
    # order: COPY may fill earlier pages later) under the CSV's own header (CamelCase names).
    same = os.path.join(TMP, "same-rows.csv")
    with open(data, newline="") as f, open(os.path.join(wd_pg, "data", "raw", "public.customers.csv"), newline="") as g, \
            open(same, "w", newline="") as out:
        out.write(f.readline())
        g.readline()
        out.write(g.read())
    data = same
    r2 = churn("run", "--workdir", wd_csv, "--source", data, "--no-figures")
    check(r2.returncode == 0, "churn run on the same rows from the CSV file succeeds")
    if r.returncode == 0 and r2.returncode == 0:
        a, b = metrics_numbers(wd_pg), metrics_numbers(wd_csv)
        check(a == b, f"the metrics of the table equal the CSV file's ({nrows} rows; best {a['best']}, "
                      f"roc_auc {a['models'][a['best']]['roc_auc']:.6f} vs {b['models'][b['best']]['roc_auc']:.6f})")
        rec = last_run(wd_pg, "data")
        check(rec["source"] == url("reader", "***", table="public.customers") and rec["rows"] == nrows,
              f"the run record names the source with the password masked: {rec['source']}")
        meta = json.load(open(os.path.join(wd_pg, "data", "raw", "public.customers.csv.meta.json")))
        check(meta["url"] == rec["source"] and meta["sha256"] == rec["sha256"],
              "data/raw/public.customers.csv.meta.json: the masked source and the sha256")

        # unchanged: the same table again is not rewritten
        raw = os.path.join(wd_pg, "data", "raw", "public.customers.csv")
        ino = os.stat(raw).st_ino
        r = churn("data", "--workdir", wd_pg, "--source", src, "--no-figures")
        rec = last_run(wd_pg, "data")
        check(r.returncode == 0 and rec["source_changed"] is False and os.stat(raw).st_ino == ino,
              "the same table again: source_changed false, data/raw file untouched")
        cur.execute("UPDATE customers SET monthlycharges = monthlycharges + 1 WHERE ctid = (SELECT min(ctid) FROM customers)")
        r = churn("fetch", "--workdir", wd_pg, "--source", src, "--json")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check(doc.get("changed") is True, "a changed row: churn fetch says changed")
        cur.execute("UPDATE customers SET monthlycharges = monthlycharges - 1 WHERE ctid = (SELECT max(ctid) FROM customers)")

    # ---- a query source ----
    wd_q = os.path.join(TMP, "wd-q")
    q = "SELECT%20customerid,%20tenure,%20contract,%20churn%20FROM%20customers%20WHERE%20tenure%20%3E%2012%20ORDER%20BY%20customerid"
    r = churn("fetch", "--workdir", wd_q, "--source", url(query=q), "--json")
    cur.execute("SELECT count(*) FROM customers WHERE tenure > 12")
    want = cur.fetchone()[0]
    got = sum(1 for _ in open(os.path.join(wd_q, "data", "raw", "query.csv"))) - 1 if r.returncode == 0 else -1
    check(r.returncode == 0 and got == want, f"?query=SELECT ... (%-encoded): {got} rows, expected {want}")

    # ---- errors: one line naming the source, the exit code, the workdir intact, no password ----
    before = published(wd_pg)
    cases = [
        ("bad URI", url(table="customers", bogus_param="1"), 64, "invalid URI query parameter"),
        ("no table or query", url(), 64, "give one of"),
        ("unreachable server", url(port=pgcluster.free_port(), table="customers"), 69, "cannot connect"),
        ("authentication failed", url("reader", "wrong-" + PASSWORD, table="customers"), 69, "password authentication failed"),
        ("missing table", url(table="public.no_such_table"), 66, "no_such_table"),
        ("missing schema", url(table="nowhere.customers"), 66, "nowhere"),
        ("permission denied", url("nobody_reads", table="secret"), 66, "permission denied"),
        ("a query that is not a SELECT", url(query="DELETE%20FROM%20customers"), 64, "syntax error"),
        ("a query closing the COPY", url(query="SELECT%201)%20TO%20PROGRAM%20'id'%20--"), 64, "syntax error"),
        ("two statements", url(query="SELECT%201;DROP%20TABLE%20customers"), 64, "multiple commands"),
        ("statement timeout", url(query="SELECT%201%20AS%20a,%202%20AS%20b%20FROM%20pg_sleep(3)"), 69, "statement timeout"),
        ("fetch.max_bytes", src, 65, "fetch.max_bytes"),
    ]
    for what, source, code, needle in cases:
        cfg = {"pg.statement_timeout_s": 0.5} if what == "statement timeout" else \
            {"fetch.max_bytes": 10000} if what == "fetch.max_bytes" else {}
        r = churn("run", "--workdir", wd_pg, "--source", source, "--no-figures", config=cfg)
        lines = r.stderr.strip().splitlines()
        one = lines[-1] if lines else ""
        ok = (r.returncode == code and len(lines) == 1 and needle in one and PASSWORD not in r.stderr + r.stdout
              and ("127.0.0.1" in one or what == "fetch.max_bytes"))
        check(ok, f"{what}: exit {r.returncode} (want {code}), one line: {one[:240]}")
    cur.execute("SELECT count(*) FROM customers")
    check(cur.fetchone()[0] == nrows, "the table is intact after the hostile queries")
    check(published(wd_pg) == before, "after every failure the workdir's raw data and outputs are the previous ones")
    r = churn("fetch", "--workdir", wd_pg, "--source", url(query="SELECT%201%20AS%20a"))
    check(r.returncode == 65 and "no comma" in r.stderr, "a query of one column is not CSV data (exit 65)")

    # ---- the password is nowhere ----
    hits = [h for w in (wd_pg, wd_q) for h in grep_tree(w, PASSWORD)]
    check(not hits, f"the password is in no workdir file or log ({', '.join(hits[:5]) or 'none'})")
    r = churn("fetch", "--workdir", wd_pg, "--source", url("reader", PASSWORD, table="customers", sslpassword="x" + PASSWORD), "--json", "--verbose")
    check(PASSWORD not in r.stdout + r.stderr and "sslpassword=***" in r.stdout + r.stderr,
          "--verbose and --json show neither the password nor a password= parameter")

    # ---- the sink ----
    model_dir = os.path.join(wd_csv, "artifacts", "models")
    logreg, gbm = os.path.join(model_dir, "logreg.json"), os.path.join(model_dir, "gbm.json")
    sink = url("postgres", table="public.churn_scores")
    r = churn("predict", "--model", logreg, "--input", data, "--out", sink)
    f = os.path.join(TMP, "scores.csv")
    r2 = churn("predict", "--model", logreg, "--input", data, "--out", f)
    with open(f, newline="") as fh:
        want = [(row["id"], float(row["probability"]), row["label"], row["reason1"], row["reason2"], row["reason3"])
                for row in csv.DictReader(fh)]
    cur.execute("SELECT id, probability, label, coalesce(reason1, ''), coalesce(reason2, ''), coalesce(reason3, '') "
                "FROM churn_scores")
    got = cur.fetchall()
    check(r.returncode == 0 and r2.returncode == 0 and sorted(got) == sorted(want) and len(got) == nrows,
          f"churn predict --out postgresql://...?table=public.churn_scores holds the CSV's {len(want)} rows "
          "(probabilities exact)")

    def totals(c):
        c.execute("SELECT count(*), sum(probability) FROM churn_scores")
        n, s = c.fetchone()
        return n, round(s, 6)
    old = totals(cur)
    churn("predict", "--model", gbm, "--input", data, "--out", sink)
    new = totals(cur)
    churn("predict", "--model", logreg, "--input", data, "--out", sink)
    seen, stop = [], threading.Event()

    def reader():
        c = CL.connect("churn").cursor()
        while not stop.is_set():
            seen.append(totals(c))
    th = threading.Thread(target=reader)
    th.start()
    codes = [churn("predict", "--model", m, "--input", data, "--out", sink).returncode for m in (gbm, logreg) * 3]
    stop.set()
    th.join()
    bad = [s for s in seen if s not in (old, new)]
    check(all(c == 0 for c in codes) and seen and not bad,
          f"a reader looping during 6 replacements saw {len(seen)} times the old or the new scores, never "
          f"none or a mix ({len(bad)} other: {bad[:3]})")

    # a failed write keeps the previous scores: the last row of the stream is refused
    cur.execute("ALTER TABLE churn_scores ADD CONSTRAINT p_small CHECK (id <> %s) NOT VALID", (want[-1][0],))
    r = churn("predict", "--model", gbm, "--input", data, "--out", sink)
    check(r.returncode == 73 and totals(cur) == old and "p_small" in r.stderr,
          f"a write refused at its last row (CHECK constraint): exit {r.returncode}, the previous scores kept "
          f"({r.stderr.strip()[:200]})")
    cur.execute("ALTER TABLE churn_scores DROP CONSTRAINT p_small")
    r = churn("predict", "--model", gbm, "--input", data, "--out", url(port=pgcluster.free_port(), table="churn_scores"))
    check(r.returncode == 69 and totals(cur) == old, f"an unreachable sink: exit 69 ({r.stderr.strip()[:160]})")
    r = churn("predict", "--model", gbm, "--input", data, "--out", url(query="SELECT%201"))
    check(r.returncode == 64, "a sink with ?query= is refused (exit 64)")

    # ---- pipeline.scores_out ----
    wd_s = os.path.join(TMP, "wd-s")
    cfg = {"pipeline.scores_out": url("postgres", table="current_scores")}
    r = churn("run", "--workdir", wd_s, "--source", src, "--no-figures", "--json", config=cfg)
    cur.execute("SELECT count(*) FROM customers WHERE lower(churn) <> 'yes'")
    current = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM current_scores")
    got = cur.fetchone()[0]
    rec = json.loads(r.stdout)["ml"] if r.returncode == 0 else {}
    check(r.returncode == 0 and got == current and rec.get("scores_out", {}).get("rows") == current,
          f"pipeline.scores_out: {got} current customers (not churned) scored after the run, expected {current}")
    before = published(wd_s)
    cfg = {"pipeline.scores_out": url("reader", PASSWORD, port=pgcluster.free_port(), table="current_scores")}
    r = churn("ml", "--workdir", wd_s, "--no-figures", config=cfg)
    after = published(wd_s)
    rec = last_run(wd_s, "ml")
    check(r.returncode == 69 and "scores not written" in r.stderr and rec["status"] == "succeeded" and
          after != before and PASSWORD not in r.stderr,
          f"a failed pipeline.scores_out: exit 69, the run published and recorded as succeeded ({r.stderr.strip()[:200]})")
    hits = grep_tree(wd_s, PASSWORD)
    check(not hits, f"pipeline.scores_out: the password is in no workdir file ({', '.join(hits[:5]) or 'none'})")
finally:
    CL.stop()
    subprocess.run(["rm", "-rf", TMP])

if failures:
    print(f"# {len(failures)} failed: " + "; ".join(failures))
    sys.exit(1)
print("# all passed")
