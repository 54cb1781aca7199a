#!/usr/bin/python3
"""Benchmark: 1M Telco-shaped rows scored on postgresql/cluster.sh's two shards
(postgres_fdw partitions, the scoring shipped to them) beside one instance
(the coordinator's own table of the same rows), in the same run.

usage: bench/pg_shards.py CHURN_CLI EXTENSION_SO SOURCE_DIR DATA_CSV TRAIN_CSV [REPEATS]

The model: `churn train --models gbm` on TRAIN_CSV (Telco when given),
published as gbm@1 on every node. Queries, best of REPEATS wall seconds:
  at risk      SELECT count(*) ... WHERE churn.score_columns('gbm@1', ...) >= 0.5
               (sharded: the WHERE clause runs on the shards; one instance
               also with the record form churn.score('gbm', c), serial and
               with 2 parallel workers);
  every score  every customer's score back on the coordinator (sharded: a
               partitionwise GROUP BY customerid pushed to the shards; one
               instance: a plain SELECT).
All three servers share this machine's cores: the sharded figures are what
two shards on two cores give, not two machines.
"""
import csv
import os
import subprocess
import sys
import tempfile
import time

CHURN, MODULE, SRC, DATA, TRAIN = (os.path.abspath(a) for a in sys.argv[1:6])
REPS = int(sys.argv[6]) if len(sys.argv) > 6 else 3
sys.path.insert(0, os.path.join(SRC, "tests"))
import pgcluster  # noqa: E402

why = pgcluster.missing(MODULE)
if why:
    sys.exit(f"bench: {why}")
import psycopg2  # noqa: E402

TMP = tempfile.mkdtemp(prefix="churn-shards-bench-")
os.chmod(TMP, 0o755)
DIR = os.path.join(TMP, "cluster")
ENV = dict(os.environ, CHURN_BUILD=os.path.dirname(os.path.dirname(MODULE)))
SCRIPT = os.path.join(SRC, "postgresql", "cluster.sh")


def cluster(*args):
    return subprocess.run(["sh", SCRIPT] + list(args), env=ENV, capture_output=True, text=True, check=True).stdout


def connect(node):
    ports = dict(line.split() for line in open(os.path.join(DIR, "ports")))
    c = psycopg2.connect(host="127.0.0.1", port=int(ports[node]), user="postgres", dbname="postgres")
    c.autocommit = True
    return c


def best(cur, sql, setup=()):
    for s in setup:
        cur.execute(s)
    t = None
    for _ in range(REPS):
        t0 = time.perf_counter()
        cur.execute(sql)
        rows = cur.fetchall()
        dt = time.perf_counter() - t0
        t = dt if t is None or dt < t else t
    return t, rows


def main():
    out = os.path.join(TMP, "train")
    subprocess.run([CHURN, "train", "--input", TRAIN, "--models", "gbm", "--out", out, "--quiet"], check=True)
    print("pg-shards bench: load", open("/proc/loadavg").read().split()[:3], flush=True)
    cluster("start", DIR)
    cluster("publish", DIR, "gbm", os.path.join(out, "artifacts", "models", "gbm.json"))
    header = next(csv.reader(open(DATA)))
    cols = ", ".join(f"'{h.lower()}', {h.lower()}" for h in header if h not in ("customerID", "Churn"))
    co = connect("coord")
    cur = co.cursor()
    cur.execute("CREATE TABLE customers_local (LIKE customers)")
    t0 = time.perf_counter()
    with open(DATA) as f:
        cur.copy_expert("COPY customers_local FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    t_local_load = time.perf_counter() - t0
    # PostgreSQL 15 sends COPY into foreign partitions row by row; INSERT ... SELECT in batches (batch_size)
    t0 = time.perf_counter()
    cur.execute("INSERT INTO customers SELECT * FROM customers_local")
    t_shard_load = time.perf_counter() - t0
    cur.execute("ANALYZE customers; ANALYZE customers_local")
    cur.execute("SELECT count(*) FROM customers_local")
    n = cur.fetchone()[0]
    print(f"{n} rows; COPY into one table {t_local_load:.1f} s; INSERT ... SELECT from it into the shards (through "
          f"the coordinator) {t_shard_load:.1f} s", flush=True)
    serial = ("SET max_parallel_workers_per_gather = 0",)
    par = ("SET max_parallel_workers_per_gather = 2", "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0")
    pw = ("SET enable_partitionwise_aggregate = on",)
    res = {}
    score = f"churn.score_columns('gbm@1', {cols})"
    risk = "SELECT count(*) FROM {t} WHERE " + score + " >= 0.5"
    res["one, at risk, serial"] = best(cur, risk.format(t="customers_local"), serial)
    res["one, at risk, 2 workers"] = best(cur, risk.format(t="customers_local"), par)
    res["one, at risk, record form, serial"] = best(
        cur, "SELECT count(*) FROM customers_local c WHERE churn.score('gbm', c) >= 0.5", serial)
    res["one, at risk, record form, 2 workers"] = best(
        cur, "SELECT count(*) FROM customers_local c WHERE churn.score('gbm', c) >= 0.5", par)
    res["shards, at risk"] = best(cur, risk.format(t="customers"), serial + pw)
    res["one, every score back, serial"] = best(cur, f"SELECT customerid, {score} FROM customers_local", serial)
    per_row = f"SELECT customerid, min({score}) FROM customers GROUP BY customerid"
    res["shards, every score back"] = best(cur, per_row, serial + pw)
    shipped = {}
    for k, q in (("at risk", risk.format(t="customers")), ("every score back", per_row)):
        cur.execute("EXPLAIN VERBOSE " + q)
        shipped[k] = sum("Remote SQL" in r[0] and "churn.score_columns" in r[0] for r in cur.fetchall())
    for k, (t, rows) in res.items():
        base = res["one, at risk, serial" if "at risk" in k else "one, every score back, serial"][0]
        print(f"{k:<40} {t:8.2f} s  {n / t / 1e6:5.2f}M rows/s  {base / t:5.2f}x one serial", flush=True)
    counts = {k: v[1][0][0] for k, v in res.items() if "at risk" in k}
    print(f"customers at risk: {sorted(set(counts.values()))}; scoring in the Remote SQL of {shipped} shard scans")


try:
    main()
finally:
    if os.path.exists(os.path.join(DIR, "ports")):
        subprocess.run(["sh", SCRIPT, "stop", DIR], env=ENV, capture_output=True)
    subprocess.run(["rm", "-rf", TMP])
