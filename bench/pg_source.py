#!/usr/bin/python3
"""Benchmark: `churn run` reading its rows from PostgreSQL 15 (--source
postgresql://...?table=) against the same rows from a CSV file, same run.

usage: bench/pg_source.py CHURN_CLI SOURCE_DIR DATA_CSV [REPEATS]

DATA_CSV is loaded into a table made the ordinary way (lower-case names,
TotalCharges as text) in tests/pgcluster.py's throwaway cluster (no
extension). "The same rows" is the table's rows in the order it gives them
under the CSV's header (a heap does not keep insertion order), so both runs
train on identical data and their metrics are checked equal. Figures: best
of REPEATS wall seconds and the churn process's CPU seconds (user + sys) of
`churn fetch` (the source alone) and `churn run --no-figures`, fresh
workdirs; the PostgreSQL backend's CPU seconds of the COPY (/proc).
"""
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

CHURN, SRC, DATA = (os.path.abspath(a) for a in sys.argv[1:4])
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
sys.path.insert(0, os.path.join(SRC, "tests"))
import pgcluster  # noqa: E402

why = pgcluster.missing(None)
if why:
    sys.exit(f"bench: {why}")
TICK = os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def backend_cpu(cl):
    """CPU seconds of the cluster's processes: the postmaster's children, ended ones included (cutime)."""
    pm = int(open(os.path.join(cl.data, "postmaster.pid")).readline())
    v = open(f"/proc/{pm}/stat").read().rsplit(")", 1)[1].split()
    total = (int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])) / TICK
    for pid in os.listdir("/proc"):
        try:
            v = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split() if pid.isdigit() else None
            if v and int(v[1]) == pm:
                total += (int(v[11]) + int(v[12])) / TICK
        except OSError:
            pass
    return total


def run(args):
    c0, b0, t0 = children_cpu(), backend_cpu(CL), time.perf_counter()
    r = subprocess.run([CHURN] + args, capture_output=True, text=True)
    t, c, b = time.perf_counter() - t0, children_cpu() - c0, backend_cpu(CL) - b0
    if r.returncode:
        sys.exit(f"bench: churn {' '.join(args)}: {r.stderr}")
    return t, c, b


def best(label, make_args):
    rows = []
    for k in range(REPS):
        d = tempfile.mkdtemp(prefix="churn-bench-pgsrc-")
        rows.append(run(make_args(d)))
        shutil.rmtree(d)
    w, c, b = min(rows)
    print(f"{label:<44} {w:8.3f} s wall  {c:7.3f} s CPU  (server {b:.3f} s CPU)", flush=True)
    return w, c


CL = pgcluster.Cluster(None, SRC)
tmp = tempfile.mkdtemp(prefix="churn-bench-pgsrc-data-")
try:
    conn = CL.connect()
    cur = conn.cursor()
    with open(DATA, newline="") as f:
        header = next(csv.reader(f))
        sample = [r for _, r in zip(range(20000), csv.reader(f))]
    cols = []
    for j, h in enumerate(header):
        def num(v):
            try:
                float(v)
                return True
            except ValueError:
                return False
        typ = "numeric" if all(num(r[j]) for r in sample) else "text"
        cols.append(f"{h} {'integer' if h in ('tenure', 'SeniorCitizen') and typ == 'numeric' else typ}")
    cur.execute(f"CREATE TABLE customers ({', '.join(cols)})")
    t0 = time.perf_counter()
    with open(DATA) as f:
        cur.copy_expert("COPY customers FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute("VACUUM ANALYZE customers")
    cur.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('customers')) FROM customers")
    n, size = cur.fetchone()
    print(f"# {n} rows of {os.path.basename(DATA)} in PostgreSQL 15 ({size}; loaded in {time.perf_counter() - t0:.1f} s)")
    src = f"postgresql://postgres@127.0.0.1:{CL.port}/postgres?table=public.customers"
    same = os.path.join(tmp, "same-rows.csv")
    subprocess.run([CHURN, "fetch", "--source", src, "--out", same + ".pg", "--quiet"], check=True, capture_output=True)
    with open(same + ".pg") as g, open(same, "w") as out:
        out.write(",".join(header) + "\n")
        g.readline()
        shutil.copyfileobj(g, out)
    print(f"# {os.path.getsize(same)} bytes of CSV; best of {REPS}; load average {os.getloadavg()[0]:.1f}")
    fp = best("churn fetch --source postgresql://...?table=", lambda d: ["fetch", "--source", src, "--out", d + "/a.csv"])
    ff = best("churn fetch --source FILE (same rows)", lambda d: ["fetch", "--source", same, "--out", d + "/a.csv"])
    metrics = {}

    def run_args(source, key):
        def make(d):
            metrics[key] = os.path.join(d, "reports", "metrics.json")
            return ["run", "--workdir", d, "--source", source, "--no-figures", "--quiet"]
        return make
    rp = best("churn run --no-figures, source postgresql://", run_args(src, "pg"))
    rf = best("churn run --no-figures, source FILE (same rows)", run_args(same, "csv"))
    print(f"# ratios PostgreSQL / file: fetch {fp[0] / ff[0]:.2f}x wall, {fp[1] / max(ff[1], 1e-9):.2f}x CPU; "
          f"run {rp[0] / rf[0]:.2f}x wall, {rp[1] / rf[1]:.2f}x CPU; run difference {rp[0] - rf[0]:+.3f} s wall")
    # the metrics of both sources, on one more pair of runs kept for the comparison
    outs = {}
    for key, source in (("pg", src), ("csv", same)):
        d = os.path.join(tmp, key)
        run(["run", "--workdir", d, "--source", source, "--no-figures", "--quiet"])
        m = json.load(open(os.path.join(d, "reports", "metrics.json")))
        outs[key] = {k: {q: v[q] for q in ("roc_auc", "f1", "log_loss")} for k, v in m["models"].items()}
    print(f"# metrics equal: {outs['pg'] == outs['csv']} ({json.dumps(outs['pg'])})")
finally:
    CL.stop()
    shutil.rmtree(tmp, ignore_errors=True)
