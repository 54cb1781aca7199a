#!/usr/bin/python3
"""The PostgreSQL extension (postgresql/) against a throwaway cluster.

usage: test-postgresql.py CHURN_CLI EXTENSION_SO SOURCE_DIR

The cluster is tests/pgcluster.py's: a private copy of the server's tree
with the extension added (nothing is installed as root), run as `nobody`
when the test runs as root, stopped on every way out.

Checks: the pg_regress-style script tests/postgresql/churn.sql against
tests/postgresql/churn.out; every row of a synthetic CSV (and of Telco when
CHURN_TELCO_CSV is set), loaded into a table made the ordinary way (lower-case
names, TotalCharges as text), scored in SQL through the record and the
jsonb forms equals `churn predict` to 1e-12, labels and reasons too; a
parallel plan launches workers; malformed records give errors, never a
crash; a model reloaded in another session is noticed by a running backend.
Exit 77 (skip) when PostgreSQL, psycopg2 or the extension is absent.
"""
import csv
import json
import os
import random
import re
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
    skip("the extension is built with -fsanitize=%s but the PostgreSQL server is not instrumented (its backend "
         "would die at the first call); the normal build runs this test" % os.environ["CHURN_PG_SANITIZED"])
why = pgcluster.missing(MODULE)
if why:
    skip(why)
import psycopg2  # noqa: E402

CL = pgcluster.Cluster(MODULE, SRC)
PORT, LOG, PG_BIN, TMP = CL.port, CL.log, CL.bin, CL.tmp
free_port = pgcluster.free_port
connect = CL.connect
print(f"# cluster on 127.0.0.1:{PORT} in {CL.data}")


def churn(*args):
    return subprocess.run([CHURN] + list(args), check=True, capture_output=True, text=True).stdout


def train(csv_path, out, models):
    churn("train", "--input", csv_path, "--models", models, "--out", out, "--quiet")
    return os.path.join(out, "artifacts", "models")


def load_table(cur, name, csv_path):
    """A table made the ordinary way from the CSV: unquoted (lower-case) names, numbers as numeric, TotalCharges
    (which has blanks) as text; loaded with COPY."""
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


def predict(model_file, csv_path):
    doc = json.loads(churn("predict", "--model", model_file, "--input", csv_path, "--json", "--quiet"))
    return {p["id"]: p for p in doc["predictions"]}


def compare_all(cur, table, model, model_file, csv_path, what):
    want = predict(model_file, csv_path)
    cur.execute(f"SELECT customerid, churn.score(%s, c), churn.score(%s, to_jsonb(c)), churn.label(%s, c), "
                f"churn.explain(%s, c)::text, churn.explain(%s, to_jsonb(c))::text FROM {table} c",
                (model,) * 5)
    got = cur.fetchall()
    worst, bad = 0.0, []
    for cid, p_rec, p_json, label, ex_rec, ex_json in got:
        w = want[cid]
        d = max(abs(p_rec - w["probability"]), abs(p_json - w["probability"]))
        worst = max(worst, d)
        ex_rec, ex_json = json.loads(ex_rec), json.loads(ex_json)
        if (d > 1e-12 or label != w["churn"] or ex_rec != ex_json or ex_rec["label"] != w["label"] or
                [r["feature"] for r in ex_rec["reasons"]] != [r["feature"] for r in w["reasons"]] or
                any(abs(a["contribution"] - b["contribution"]) > 1e-12
                    for a, b in zip(ex_rec["reasons"], w["reasons"]))):
            bad.append(cid)
    check(len(got) == len(want) and not bad,
          f"{what}: {len(got)} rows scored in SQL (record and jsonb) equal churn predict "
          f"(max |diff| {worst:.1e}; {len(bad)} differ{': ' + ', '.join(bad[:5]) if bad else ''})")


def regress(model_file):
    """pg_regress style: tests/postgresql/churn.sql run by psql -a, output compared with churn.out."""
    sqldir = os.path.join(SRC, "tests", "postgresql")
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(PORT), PGUSER="postgres", PGDATABASE="regress",
               PGOPTIONS="-c client_min_messages=warning", PGTZ="UTC")
    c = connect()
    c.cursor().execute("DROP DATABASE IF EXISTS regress")
    c.cursor().execute("CREATE DATABASE regress")
    c.close()
    artifact = open(model_file).read()
    r = subprocess.run([PG_BIN + "/psql", "-X", "-a", "-q", "-v", "artifact=" + artifact, "-f",
                        os.path.join(sqldir, "churn.sql")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    out = "\n".join(re.sub(r"^psql:[^:]*:[0-9]+: ", "", l) for l in r.stdout.splitlines()) + "\n"
    expected = open(os.path.join(sqldir, "churn.out")).read()
    if out != expected:
        with open(os.path.join(tempfile.gettempdir(), "churn-pg-regress.out"), "w") as f:
            f.write(out)
        import difflib
        sys.stdout.writelines("# " + l for l in difflib.unified_diff(expected.splitlines(True), out.splitlines(True),
                                                                        "expected", "got"))
    check(out == expected, "pg_regress-style script tests/postgresql/churn.sql gives churn.out")


def parallel_plan(cur, table):
    cur.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
                "SET max_parallel_workers_per_gather = 2")
    cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(churn.score('gbm', c)) FROM {table} c")
    plan = json.dumps(cur.fetchone()[0])
    launched = [int(x.split(":")[1].split(",")[0].strip(" }]")) for x in plan.split('"Workers Launched"')[1:]]
    check(bool(launched) and max(launched) > 0, f"a parallel scoring query launches workers ({launched})")
    cur.execute(f"SELECT sum(churn.score('gbm', c)) FROM {table} c")
    par = cur.fetchone()[0]
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute(f"SELECT sum(churn.score('gbm', c)) FROM {table} c")
    check(abs(cur.fetchone()[0] - par) < 1e-9, "the parallel sum equals the serial one")


def junk_value(rng):
    return rng.choice([None, True, False, 0, -1, 1e308, -1e308, 3.5, "", " ", "NaN", "abc", "Yes", "DSL",
                       "\u00e9t\u00e9", "x" * 300, [1, 2], {"a": 1}, [], {}, 12345678901234567890])


def malformed(cur, table):
    rng = random.Random(12)
    cur.execute(f"SELECT to_jsonb(c) FROM {table} c LIMIT 20")
    base = [r[0] for r in cur.fetchall()]
    errors = ok = 0
    docs = ["[]", "1", '"x"', "null", "[{}]", "{}", '{"tenure": {"a": 1}}', '{"seniorcitizen": [1]}']
    for i in range(600):
        d = dict(rng.choice(base))
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(list(d.keys()) + ["unknown", "TENURE", "Churn", "churn", "ten\u00fcre"])
            d[key] = junk_value(rng)
        docs.append(json.dumps(d))
    for doc in docs:
        for fn in ("score", "label", "explain"):
            try:
                cur.execute(f"SELECT churn.{fn}('gbm', %s::jsonb)", (doc,))
                cur.fetchall()
                ok += 1
            except psycopg2.OperationalError:
                raise
            except psycopg2.Error:
                errors += 1
    # the record form: a table whose columns hold hostile values
    cur.execute("DROP TABLE IF EXISTS bad; CREATE TABLE bad (tenure numeric, monthlycharges float8, "
                "totalcharges text, contract varchar(40), seniorcitizen bool, paperlessbilling char(5), extra int)")
    cur.execute("INSERT INTO bad VALUES ('NaN', 'Infinity', 'abc', 'x', true, 'Yes', 1), (1e300, -1, '', NULL, "
                "false, 'No   ', 2), (12, 'NaN', ' ', 'One year', NULL, NULL, 3), (-5, 1e308, '1e999', '', true, '', 4)")
    # score and label of a table's row go through the column form (the planner's rewrite), explain through the
    # row value; then the column form called directly with hostile arguments
    calls = [(f"SELECT churn.{fn}('gbm', b) FROM bad b WHERE extra = %s", (row,))
             for row in range(1, 5) for fn in ("score", "label", "explain")]
    calls += [(sql, None) for sql in (
        "SELECT churn._score_fields('gbm', 'tenure')", "SELECT churn._score_fields('gbm', NULL::text, 1)",
        "SELECT churn._score_fields('gbm', 1, 1)", "SELECT churn._score_fields('gbm', 'tenure', ARRAY[1, 2])",
        "SELECT churn._score_fields('gbm', 'contract', point(1, 2))", "SELECT churn._score_fields('gbm', 'nope', 3)",
        "SELECT churn._label_fields('gbm', 'tenure', 'x'::text)", "SELECT churn._score_fields(NULL, 'tenure', 3)",
        "SELECT churn._score_fields('gbm', t.n, 3) FROM (VALUES ('tenure'), ('TENURE'), ('nope'), (NULL)) t(n)",
        "SELECT churn._score_fields('gbm', 'tenure', 3, 'Tenure', 4)",
        "SELECT churn._score_fields('gbm', " + ", ".join(f"'c{i}', {i}" for i in range(49)) + ")")]
    for sql, args in calls:
        try:
            cur.execute(sql, args)
            cur.fetchall()
            ok += 1
        except psycopg2.OperationalError:
            raise
        except psycopg2.Error:
            errors += 1
    cur.execute("SELECT 1")
    log = open(LOG).read()
    check("terminated by signal" not in log and "server process" not in log,
          f"{len(docs) * 3 + len(calls)} malformed calls: {errors} errors, {ok} answers, no backend crashed")
    for name, sql in (("unknown model", "SELECT churn.score('nope', '{}'::jsonb)"),
                      ("not an object", "SELECT churn.score('gbm', '[1]'::jsonb)"),
                      ("wrong type", "SELECT churn.score('gbm', '{\"tenure\": \"twelve\"}'::jsonb)")):
        try:
            cur.execute(sql)
            check(False, f"{name}: an error")
        except psycopg2.OperationalError:
            raise
        except psycopg2.Error as e:
            check(e.pgerror.startswith("ERROR:  churn:"), f"{name}: {e.pgerror.splitlines()[0]}")


def reload_noticed(models_dir, table):
    a, b = connect(), connect()
    ca, cb = a.cursor(), b.cursor()
    gbm = open(os.path.join(models_dir, "gbm.json")).read()
    logreg = open(os.path.join(models_dir, "logreg.json")).read()
    cb.execute("SELECT churn.load_model('live', %s::jsonb)", (gbm,))
    q = f"SELECT churn.score('live', c) FROM {table} c ORDER BY customerid LIMIT 3"
    ca.execute(q)
    first = ca.fetchall()
    ca.execute(f"SELECT churn.score('gbm', c) FROM {table} c ORDER BY customerid LIMIT 3")
    check(ca.fetchall() == first, "model 'live' (a copy of gbm) scores as gbm")
    cb.execute("SELECT churn.load_model('live', %s::jsonb)", (logreg,))
    ca.execute(q)
    second = ca.fetchall()
    ca.execute(f"SELECT churn.score('logreg', c) FROM {table} c ORDER BY customerid LIMIT 3")
    check(second != first and second == ca.fetchall(), "a reload in another session is noticed by a running backend")
    cb.execute("SELECT version, sha256 FROM churn.models WHERE name = 'live' ORDER BY version")
    check([v for v, _ in cb.fetchall()] == [1, 2], "load_model adds versions 1, 2")
    a.close()
    b.close()


def publish_cli(models_dir):
    conninfo = f"host=127.0.0.1 port={PORT} user=postgres dbname=postgres"
    model = os.path.join(models_dir, "gbm.json")
    r = subprocess.run([CHURN, "publish", "--db", conninfo, "--model", model, "--name", "pub", "--json"],
                       capture_output=True, text=True)
    doc = json.loads(r.stdout) if r.returncode == 0 else {}
    check(doc.get("name") == "pub" and doc.get("version") == 1 and len(doc.get("sha256", "")) == 64,
          f"churn publish stores version 1 ({r.stdout.strip() or r.stderr.strip()})")
    r = subprocess.run([CHURN, "publish", "--db", conninfo, "--model", model], capture_output=True, text=True)
    check(r.returncode == 0 and "published gbm version" in r.stdout, "churn publish names the model by its kind")
    cur = connect().cursor()
    cur.execute("SELECT (SELECT artifact FROM churn.models WHERE name = 'pub') = "
                "(SELECT artifact FROM churn.models WHERE name = 'gbm' ORDER BY version DESC LIMIT 1)")
    check(cur.fetchone()[0], "the published artifact is the file's")
    bad = os.path.join(TMP, "work", "not-a-model.json")
    with open(bad, "w") as f:
        f.write('{"format": "something else"}')
    cur.execute("DROP DATABASE IF EXISTS bare")
    cur.execute("CREATE DATABASE bare")
    for args, code, what in (
            (["--db", f"host=127.0.0.1 port={free_port()} user=postgres password=s3cret connect_timeout=3",
              "--model", model], 69, "an unreachable database"),
            (["--db", f"host=127.0.0.1 port={PORT} user=postgres dbname=bare", "--model", model], 69,
             "a database without the extension"),
            (["--db", conninfo, "--model", bad], 65, "a file that is not a model"),
            (["--db", conninfo, "--model", bad + ".missing"], 66, "a missing file"),
            (["--model", model], 64, "no --db")):
        r = subprocess.run([CHURN, "publish"] + args, capture_output=True, text=True)
        check(r.returncode == code and "s3cret" not in r.stderr and r.stderr.count("\n") == 1,
              f"churn publish, {what}: exit {r.returncode} (want {code}): {r.stderr.strip()}")


def main():
    work = os.path.join(TMP, "work")
    os.makedirs(work)
    synth = os.path.join(work, "synth.csv")
    churn("synth", "--rows", "600", "--seed", "7", "--out", synth)
    models = train(synth, os.path.join(work, "synth-out"), "gbm,logreg")
    regress(os.path.join(models, "gbm.json"))
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION churn")
    for m in ("gbm", "logreg"):
        cur.execute("SELECT churn.load_model(%s, %s::jsonb)", (m, open(os.path.join(models, m + ".json")).read()))
    load_table(cur, "synth", synth)
    compare_all(cur, "synth", "gbm", os.path.join(models, "gbm.json"), synth, "synthetic 600 rows, gbm")
    compare_all(cur, "synth", "logreg", os.path.join(models, "logreg.json"), synth, "synthetic 600 rows, logreg")
    telco = os.environ.get("CHURN_TELCO_CSV")
    table = "synth"
    if telco and os.path.exists(telco):
        tm = train(telco, os.path.join(work, "telco-out"), "gbm,logreg")
        for m in ("gbm", "logreg"):
            cur.execute("SELECT churn.load_model(%s, %s::jsonb)", (m, open(os.path.join(tm, m + ".json")).read()))
        n = load_table(cur, "customers", telco)
        compare_all(cur, "customers", "gbm", os.path.join(tm, "gbm.json"), telco, f"Telco {n} rows, gbm")
        compare_all(cur, "customers", "logreg", os.path.join(tm, "logreg.json"), telco, f"Telco {n} rows, logreg")
        table, models = "customers", tm
    else:
        print("# CHURN_TELCO_CSV is not set: the Telco cases are skipped")
    parallel_plan(cur, table)
    malformed(cur, table)
    reload_noticed(models, table)
    publish_cli(models)
    conn.close()
    print(f"# {len(failures)} failed")
    return 1 if failures else 0


sys.exit(main())
