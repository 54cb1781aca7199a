#!/usr/bin/python3
"""Scoring on shards: postgresql/cluster.sh's coordinator and two shards.

usage: test-pg-shards.py CHURN_CLI EXTENSION_SO SOURCE_DIR

Starts the cluster of postgresql/cluster.sh in a temporary directory (three
PostgreSQL 15 instances on 127.0.0.1, as `nobody` under root) and stops all
three on every way out (atexit, SIGINT/SIGTERM/SIGHUP). Loads Telco
(CHURN_TELCO_CSV; else 3,000 `churn synth` rows) into the coordinator's
customers (hash partitions on the shards, postgres_fdw) and into a plain
table of the coordinator (one instance), publishes models on every node, and
checks:
  - the rows are spread over both shards, none on the coordinator;
  - EXPLAIN VERBOSE: churn.score_columns('gbm@1', ...) in a WHERE clause and in
    a partitionwise GROUP BY is in the Remote SQL of both shards' scans, which
    are asynchronous (Async Foreign Scan);
  - a whole row of the foreign table ships too: the planner turns
    churn.score_version('gbm@1', c) into score_columns over its columns
    (extension 0.3), which in a WHERE clause is in both shards' Remote SQL
    and gives the same rows and scores; the STABLE churn.score() is
    evaluated on the coordinator;
  - the coordinator's shard-scored results equal one instance's
    churn.score('gbm', c) to 1e-12 for every customer (scores and labels; the
    filtered ids too);
  - errors: a name without a version, pairs that do not pair, an unknown
    version, a changed or deleted published version, a loaded name ending in
    @N; cluster.sh status before and after stop.
Exit 77 (skip) when PostgreSQL, psycopg2 or the extension is absent.
"""
import atexit
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile



if len(sys.argv) != 4:
    sys.exit(__doc__)
CHURN, MODULE, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
from pgcluster import check, failures, skip  # noqa: E402

if os.environ.get("CHURN_PG_SANITIZED"):
    skip("the extension is built with -fsanitize=%s but the PostgreSQL server is not instrumented; the normal "
         "build runs this test" % os.environ["CHURN_PG_SANITIZED"])
why = pgcluster.missing(MODULE)
if why:
    skip(why)
import psycopg2  # noqa: E402

SCRIPT = os.path.join(SRC, "postgresql", "cluster.sh")
TMP = tempfile.mkdtemp(prefix="churn-shards-")
os.chmod(TMP, 0o755)
DIR = os.path.join(TMP, "cluster")
ENV = dict(os.environ, CHURN_BUILD=os.path.dirname(os.path.dirname(MODULE)))


def cluster(*args, check_rc=True):
    return subprocess.run(["sh", SCRIPT] + list(args), env=ENV, capture_output=True, text=True, check=check_rc)


def stop():
    if os.path.exists(DIR):
        cluster("stop", DIR, check_rc=False)
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(stop)
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, lambda *_: sys.exit(1))


def ports():
    with open(os.path.join(DIR, "ports")) as f:
        return dict(line.split() for line in f)


def connect(node):
    c = psycopg2.connect(host="127.0.0.1", port=int(ports()[node]), user="postgres", dbname="postgres")
    c.autocommit = True
    return c


def data_file():
    telco = os.environ.get("CHURN_TELCO_CSV")
    if telco and os.path.exists(telco):
        return telco
    path = os.path.join(TMP, "synth.csv")
    subprocess.run([CHURN, "synth", "--rows", "3000", "--seed", "9", "--out", path], check=True, capture_output=True)
    return path


def explain(cur, sql):
    cur.execute("EXPLAIN VERBOSE " + sql)
    return [r[0] for r in cur.fetchall()]


def expect_error(cur, sql, fragment, what):
    try:
        cur.execute(sql)
        check(False, what + " (no error)")
    except psycopg2.Error as e:
        check(fragment in str(e), f"{what}: {str(e).splitlines()[0]}")


def main():
    csv_path = data_file()
    with open(csv_path, newline="") as f:
        header = next(csv.reader(f))
    inputs = [h.lower() for h in header if h not in ("customerID", "Churn")]
    cols = ", ".join(f"'{c}', {c}" for c in inputs)

    out = os.path.join(TMP, "train")
    subprocess.run([CHURN, "train", "--input", csv_path, "--models", "logreg,gbm", "--out", out, "--quiet"],
                   check=True, capture_output=True)
    r = cluster("start", DIR, check_rc=False)
    if r.returncode:
        sys.exit("cluster.sh start failed: " + r.stderr)
    print("# " + r.stdout.strip(), flush=True)
    check(cluster("status", DIR, check_rc=False).returncode == 0, "cluster.sh status: three nodes running")
    for m in ("gbm", "logreg"):
        v = cluster("publish", DIR, m, os.path.join(out, "artifacts", "models", m + ".json")).stdout.strip()
        check(v == m + "@1", f"published {m} on every node as {v}")

    co = connect("coord")
    cur = co.cursor()
    with open(csv_path) as f:
        cur.copy_expert("COPY customers FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    # statistics of the foreign partitions: without them the planner's guesses may keep the aggregation local
    cur.execute("ANALYZE customers")
    cur.execute("CREATE TABLE customers_local (LIKE customers)")
    with open(csv_path) as f:
        cur.copy_expert("COPY customers_local FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute("SELECT count(*) FROM customers_local")
    n = cur.fetchone()[0]
    counts = []
    for s in ("shard1", "shard2"):
        with connect(s) as c, c.cursor() as sc:
            sc.execute("SELECT count(*) FROM customers")
            counts.append(sc.fetchone()[0])
    cur.execute("SELECT count(*) FROM ONLY customers")
    check(all(k > n // 4 for k in counts) and sum(counts) == n and cur.fetchone()[0] == 0,
          f"{n} rows spread over the shards as {counts}, none on the coordinator")

    # the scoring runs on the shards: the calls are in the Remote SQL of both scans
    filt = f"SELECT customerid FROM customers WHERE churn.score_columns('gbm@1', {cols}) >= 0.5"
    plan = explain(cur, filt)
    remote = [p for p in plan if "Remote SQL" in p]
    check(len(remote) == 2 and all("WHERE ((churn.score_columns('gbm@1'::text" in p for p in remote),
          "EXPLAIN VERBOSE: the WHERE clause's churn.score_columns runs on both shards")
    check(sum("Async Foreign Scan" in p for p in plan) == 2, "EXPLAIN VERBOSE: the shards are scanned asynchronously")
    cur.execute("SET enable_partitionwise_aggregate = on")
    agg = (f"SELECT customerid, min(churn.score_columns('gbm@1', {cols})) AS p, "
           f"bool_or(churn.label_columns('gbm@1', {cols})) AS label FROM customers GROUP BY customerid")
    plan = explain(cur, agg)
    remote = [p for p in plan if "Remote SQL" in p]
    check(len(remote) == 2 and all("min(churn.score_columns('gbm@1'::text" in p and "GROUP BY" in p for p in remote),
          "EXPLAIN VERBOSE: every customer's score is computed on its shard (partitionwise aggregate)")
    print("#  " + remote[0][:160] + " ...", flush=True)

    # a whole row ships as its columns (the planner's rewrite, 0.3); STABLE churn.score does not ship
    whole_filt = "SELECT customerid FROM customers c WHERE churn.score_version('gbm@1', c) >= 0.5"
    plan = explain(cur, whole_filt)
    remote = [p for p in plan if "Remote SQL" in p]
    check(len(remote) == 2 and all("churn.score_columns('gbm@1'::text" in p for p in remote),
          "a whole-row argument ships: churn.score_version('gbm@1', c) in WHERE is computed on the shards")
    whole = "SELECT customerid, churn.score_version('gbm@1', c) FROM customers c"
    plan = explain(cur, f"SELECT customerid FROM customers WHERE churn.score('gbm', jsonb_build_object({cols})) > 0.5")
    check(not any("churn." in p for p in plan if "Remote SQL" in p),
          "the STABLE churn.score (and jsonb_build_object) run on the coordinator")

    # the same scores as one instance
    cur.execute(agg)
    shards = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    cur.execute("SELECT customerid, churn.score('gbm', c), churn.label('gbm', c) FROM customers_local c")
    local = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    worst = max(abs(shards[k][0] - local[k][0]) for k in local) if set(shards) == set(local) else float("inf")
    check(set(shards) == set(local) and worst <= 1e-12,
          f"sharded scores of {len(shards)} customers = one instance's churn.score (max |diff| {worst:.3g})")
    check(all(shards[k][1] == local[k][1] for k in local), "sharded labels = one instance's churn.label")
    cur.execute(whole)
    rows = dict(cur.fetchall())
    worst = max(abs(rows[k] - local[k][0]) for k in local) if set(rows) == set(local) else float("inf")
    check(worst <= 1e-12, f"the whole-row form on the shards = one instance's churn.score (max |diff| {worst:.3g})")
    cur.execute(whole_filt)
    whole_ids = sorted(r[0] for r in cur.fetchall())
    cur.execute(filt)
    ids = sorted(r[0] for r in cur.fetchall())
    check(whole_ids == ids, "the whole-row filter on the shards = the column filter")
    cur.execute("SELECT customerid FROM customers_local c WHERE churn.score('gbm', c) >= 0.5")
    check(ids == sorted(r[0] for r in cur.fetchall()) and len(ids) > 0, f"the {len(ids)} filtered customers agree")
    cur.execute(f"SELECT max(abs(churn.score_columns('logreg@1', {cols}) - churn.score('logreg', c))) "
                "FROM customers_local c")
    d = cur.fetchone()[0]
    check(d is not None and d <= 1e-12, f"score_columns = churn.score for logreg on one instance (max |diff| {d})")

    # errors
    expect_error(cur, f"SELECT churn.score_columns('gbm', {cols}) FROM customers_local LIMIT 1",
                 "names no version", "a model without a version is refused by the IMMUTABLE form")
    expect_error(cur, "SELECT churn.score_columns('gbm@1', 'tenure') FROM customers_local LIMIT 1",
                 "come in pairs", "names and values must pair")
    expect_error(cur, "SELECT churn.score_version('gbm@7', '{\"tenure\": 3}'::jsonb)", "unknown model version",
                 "an unknown version")
    expect_error(cur, "UPDATE churn.models SET artifact = '{}'::jsonb WHERE name = 'gbm'", "never changes",
                 "a published version cannot be changed")
    expect_error(cur, "DELETE FROM churn.models WHERE name = 'gbm'", "never changes",
                 "a published version cannot be deleted")
    cur.execute("SELECT artifact FROM churn.models WHERE name = 'gbm' AND version = 1")
    art = cur.fetchone()[0]
    expect_error(cur, "SELECT churn.load_model('gbm@3', %s::jsonb)" % psycopg2.extensions.adapt(
        psycopg2.extras.Json(art)).getquoted().decode(), "cannot end in @N", "a name ending in @N cannot be loaded")
    co.close()

    cluster("stop", DIR)
    check(cluster("status", DIR, check_rc=False).returncode == 3, "cluster.sh stop: no node left running")


if __name__ == "__main__":
    import psycopg2.extras  # noqa: F401
    main()
    print(f"1..0 # {len(failures)} failed" if failures else "# all passed")
    sys.exit(1 if failures else 0)
