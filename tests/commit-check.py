#!/usr/bin/env python3
"""The published set of a workdir is one run's (tests/test-commit.sh).

  commit-check.py save WD OUT.json          manifest of WD's published files
  commit-check.py same A.json B.json OUT    files equal in two manifests
  commit-check.py check WD A.json SAME.json NEWSHA
      checks that what a reader sees in WD is one data run's outputs with the
      one ML run made from them: the run ids in data/processed/source.json and
      reports/metrics.json have succeeded records, the records, the model
      artifacts, their records and eda.json agree on them, and every file is
      either the reference run A's (byte for byte, when the run ids are A's)
      or, when they are not and the data is the new run's (sha256 NEWSHA),
      none is left from A (bar the files that SAME.json lists as equal in A
      and a clean new run). The model registry (artifacts/registry.json and
      the versions artifacts/models/<name>/v<N>.json, which accumulate over
      runs) is A's in state A; in state B it is checked instead: every
      listed version's file with its sha256, this ML run's models among the
      versions, its decision the last. Prints A or B.
  commit-check.py records WD A.json         the published set is A's and its
      model records too; run_metadata.json has A's runs plus failed ones only
"""
import hashlib
import json
import os
import re
import sys

TOPS = ("reports", "artifacts", "data/processed")
RECORDS = ("reports/run_metadata.json", "reports/alerts.json")  # records: failed runs append to them


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(b)
    return h.hexdigest()


def files(wd):
    out = {}
    for top in TOPS:
        base = os.path.join(wd, top)
        for root, dirs, names in os.walk(base):
            for n in names:
                p = os.path.join(root, n)
                rel = os.path.relpath(p, wd)
                if rel in RECORDS:
                    continue
                out[rel] = sha(p)
    return out


REGISTRY = re.compile(r"^artifacts/(registry\.json|models/[a-z0-9_-]+/v[0-9]+\.json)$")


def registry_check(wd, m, errors):
    """The registry one generation holds agrees with itself and with ML run m."""
    reg = load(wd, "artifacts/registry.json")
    refs = {v["ref"] for v in reg["versions"]}
    for v in reg["versions"]:
        path = os.path.join(wd, "artifacts/models/%s/v%d.json" % (v["name"], v["version"]))
        if not os.path.exists(path) or sha(path) != v["sha256"]:
            errors.append("registry version %s: its file is missing or not the listed one" % v["ref"])
    for alias, ref in reg["aliases"].items():
        if ref is not None and ref not in refs:
            errors.append("registry alias %s names %s, not a listed version" % (alias, ref))
    mine = [r for r in load(wd, "reports/model_run_metadata.json")["runs"] if r["run_id"] == m]
    for r in mine:
        v = [x for x in reg["versions"] if x["ref"] == r.get("version")]
        if not v or v[0]["sha256"] != r["artifact"]["sha256"]:
            errors.append("registry: the model %s of run %s is not its version %s" % (r["model"], m, r.get("version")))
    runs = [h for h in reg["history"] if h["action"] in ("first", "evaluate")]
    if not runs or runs[-1]["run_id"] != m:
        errors.append("registry: the last decision is of run %s, the metrics of run %s" % (runs[-1]["run_id"] if runs else None, m))


def load(wd, rel):
    with open(os.path.join(wd, rel)) as f:
        return json.load(f)


def ids(wd):
    src = load(wd, "data/processed/source.json")
    met = load(wd, "reports/metrics.json")
    return src["run_id"], met["run_id"], src["sha256"]


def check(wd, a, same, newsha, errors):
    # One generation behind the documented directories (when they are links).
    gens = set()
    for top in TOPS:
        if os.path.islink(os.path.join(wd, top)):
            real = os.path.realpath(os.path.join(wd, top))
            gens.add(real[:-len(top) - 1] if real.endswith("/" + top) else real)
    if len(gens) > 1:
        errors.append("documented directories in different generations: %s" % sorted(gens))
    d, m, data_sha = ids(wd)
    runs = load(wd, "reports/run_metadata.json")["runs"]
    mruns = load(wd, "reports/model_run_metadata.json")["runs"]
    drec = [r for r in runs if r["run_id"] == d]
    mrec = [r for r in runs if r["run_id"] == m]
    if len(drec) != 1 or drec[0]["pipeline"] != "data" or drec[0]["status"] != "succeeded":
        errors.append("processed data of run %s, which has no succeeded data record (%s)" %
                      (d, [(r["pipeline"], r["status"], r.get("error")) for r in drec]))
    elif drec[0]["sha256"] != data_sha:
        errors.append("data record sha256 differs from source.json's")
    if len(mrec) != 1 or mrec[0]["pipeline"] != "ml" or mrec[0]["status"] != "succeeded":
        errors.append("metrics of run %s, which has no succeeded ml record (%s)" %
                      (m, [(r["pipeline"], r["status"], r.get("error")) for r in mrec]))
    elif mrec[0]["sha256"] != data_sha:
        errors.append("metrics of ml run %s trained on %s..., processed data is %s..." %
                      (m, mrec[0]["sha256"][:12], data_sha[:12]))
    eda = load(wd, "reports/eda.json")
    rr = eda.get("revenue_at_risk") or {}
    if rr.get("run_id") != m:
        errors.append("eda.json revenue at risk of run %s, metrics.json of run %s" % (rr.get("run_id"), m))
    if os.path.exists(os.path.join(wd, "reports/drift.json")):
        dr = load(wd, "reports/drift.json")
        perf = dr.get("performance") or {}
        if dr.get("run_id") != d or perf.get("run_id") != m:
            errors.append("drift.json of data run %s with performance of run %s, published runs %s and %s" %
                          (dr.get("run_id"), perf.get("run_id"), d, m))
    models = sorted(load(wd, "reports/metrics.json")["models"])
    mdir = os.path.join(wd, "artifacts/models")
    arts = sorted(n[:-5] for n in os.listdir(mdir) if n.endswith(".json"))
    if models != arts:
        errors.append("metrics.json models %s, artifacts %s" % (models, arts))
    for name in arts:
        path = os.path.join(mdir, name + ".json")
        art = json.load(open(path))
        if art.get("data_sha256") != data_sha:
            errors.append("artifacts/models/%s.json trained on other data than the processed data" % name)
        rec = [r for r in mruns if r["run_id"] == m and r["model"] == name]
        if len(rec) != 1:
            errors.append("no model record of run %s for %s" % (m, name))
        elif rec[0]["artifact"]["sha256"] != sha(path):
            errors.append("artifacts/models/%s.json is not the one its record of run %s describes" % (name, m))
    cur = files(wd)
    if (d, m) == (a["d"], a["m"]):
        state = "A"
        for rel in sorted(set(cur) | set(a["files"])):
            if cur.get(rel) != a["files"].get(rel):
                errors.append("state A but %s is %s" % (rel, "missing" if rel not in cur else
                                                         "extra" if rel not in a["files"] else "not A's"))
    elif data_sha == newsha:
        state = "B"
        registry_check(wd, m, errors)
        cur = {k: v for k, v in cur.items() if not REGISTRY.match(k)}
        a = dict(a, files={k: v for k, v in a["files"].items() if not REGISTRY.match(k)})
        extra = set(cur) - set(a["files"])
        # A's run was a workdir's first (no model to compare with): B's data run compared, and drew the figure
        fig = "reports/figures/drift_psi.png"
        if fig in extra and load(wd, "reports/drift.json").get("status") == "compared":
            extra.discard(fig)
        if set(a["files"]) - set(cur) or extra:
            errors.append("files %s missing, %s extra" % (sorted(set(a["files"]) - set(cur)), sorted(extra)))
        for rel in sorted(set(cur) & set(a["files"])):
            if rel not in same and cur[rel] == a["files"][rel]:
                errors.append("state B but %s is still A's" % rel)
    else:
        state = "?"
        errors.append("runs %s, %s: neither A's nor on the new run's data" % (d, m))
    return state


def main():
    cmd = sys.argv[1]
    if cmd == "save":
        wd = sys.argv[2]
        d, m, s = ids(wd)
        man = {"d": d, "m": m, "sha256": s, "files": files(wd),
               "runs": load(wd, "reports/run_metadata.json")["runs"]}
        json.dump(man, open(sys.argv[3], "w"))
        return 0
    if cmd == "same":
        a, b = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
        json.dump(sorted(k for k in a["files"] if b["files"].get(k) == a["files"][k]), open(sys.argv[4], "w"))
        return 0
    if cmd == "check":
        wd, a = sys.argv[2], json.load(open(sys.argv[3]))
        same = set(json.load(open(sys.argv[4])))
        errors = []
        try:
            state = check(wd, a, same, sys.argv[5], errors)
        except Exception as e:  # a missing or unreadable file is a failure too
            state = "?"
            errors.append("%s: %s" % (type(e).__name__, e))
        print(state)
        for e in errors[:12]:
            print("  " + e)
        return 1 if errors else 0
    if cmd == "records":
        wd, a = sys.argv[2], json.load(open(sys.argv[3]))
        errors = []
        try:
            runs = load(wd, "reports/run_metadata.json")["runs"]
            if runs[:len(a["runs"])] != a["runs"]:
                errors.append("run_metadata.json lost or changed A's runs")
            for r in runs[len(a["runs"]):]:
                if r["status"] != "failed":
                    errors.append("run %s recorded as %s" % (r["run_id"], r["status"]))
            cur = files(wd)
            if cur != a["files"]:
                errors.append("published files changed: %s" %
                              sorted(k for k in set(cur) | set(a["files"]) if cur.get(k) != a["files"].get(k)))
        except Exception as e:
            errors.append("%s: %s" % (type(e).__name__, e))
        for e in errors[:12]:
            print("  " + e)
        return 1 if errors else 0
    print("unknown command", cmd)
    return 2


sys.exit(main())
