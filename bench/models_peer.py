#!/usr/bin/python3
"""Peers for bench/models.sh (Debian's python3-sklearn / python3-xgboost via /usr/bin/python3).

models_peer.py fit PREFIX NFEATURES MODEL NTHREADS REPEATS
    Fit MODEL on the matrices bench/gbm_bench.c wrote (PREFIX.train.x/.y,
    PREFIX.test.x/.y: libchurn's prepared features, the same 70/30 split),
    REPEATS times, and evaluate each fit on the test rows (predict_proba plus
    the usual metrics). One JSON line: best fit and eval wall / CPU seconds,
    test ROC AUC. MODEL: logreg (LogisticRegression, C=1, lbfgs),
    gbc (GradientBoostingClassifier) or xgb (XGBoost hist); gbc and xgb with
    100 trees, depth 3, learning rate 0.1.

models_peer.py pipeline CSV MODEL[,MODEL] NTHREADS
    What a Python user runs: pandas read_csv, the same preprocessing as
    libchurn's prep (drop customerID, TotalCharges as a number with median
    imputation, standard-scaled numerics, one-hot categoricals with yes/no
    pairs as one 0/1 column), stratified 70/30 split, fit and evaluate each
    model. One JSON line with the stage times; the caller times the process.
"""
import json
import sys
import time


def metrics(y, p):
    from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, f1_score,
                                 log_loss, precision_score, recall_score, roc_auc_score)
    lab = (p >= 0.5).astype(int)
    return {"auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p)),
            "log_loss": float(log_loss(y, p)), "brier": float(brier_score_loss(y, p)),
            "accuracy": float(accuracy_score(y, lab)), "precision": float(precision_score(y, lab, zero_division=0)),
            "recall": float(recall_score(y, lab)), "f1": float(f1_score(y, lab))}


def make(model, nth):
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(C=1.0, max_iter=1000)
    if model == "gbc":
        from sklearn.ensemble import GradientBoostingClassifier
        return GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, random_state=0)
    if model == "xgb":
        import xgboost as xgb
        return xgb.XGBClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, tree_method="hist",
                                 max_bin=255, n_jobs=nth)
    sys.exit("models_peer: unknown model " + model)


def fit_mode(prefix, nf, model, nth, reps):
    import numpy as np

    def load(part):
        x = np.fromfile(f"{prefix}.{part}.x", dtype=np.float64).reshape(-1, nf)
        y = np.fromfile(f"{prefix}.{part}.y", dtype=np.uint8).astype(int)
        return x, y
    xtr, ytr = load("train")
    xte, yte = load("test")
    best = None
    for _ in range(reps):
        m = make(model, nth)
        t0, c0 = time.perf_counter(), time.process_time()
        m.fit(xtr, ytr)
        fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        met = metrics(yte, m.predict_proba(xte)[:, 1])
        ev, ev_cpu = time.perf_counter() - t0, time.process_time() - c0
        r = {"model": model, "fit_s": fit, "fit_cpu_s": fit_cpu, "eval_s": ev, "eval_cpu_s": ev_cpu,
             "auc": met["auc"], "fit_all_s": [], "train_rows": int(len(ytr)), "features": nf}
        if model == "logreg":
            r["iterations"] = int(m.n_iter_[0])
        if best is None:
            best = r
        for k in ("fit_s", "fit_cpu_s", "eval_s", "eval_cpu_s"):
            best[k] = min(best[k], r[k])
        best["fit_all_s"].append(round(fit, 4))
    print(json.dumps(best))


def pipeline_mode(path, models, nth):
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split
    t_import = time.perf_counter()
    df = pd.read_csv(path)
    t_read = time.perf_counter()
    y = (df.pop("Churn").astype(str).str.lower() == "yes").astype(int).to_numpy()
    df = df.drop(columns=[c for c in ["customerID"] if c in df.columns])
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
    num = [c for c in df.columns if df[c].dtype.kind in "if" and df[c].nunique() > 2 or c == "SeniorCitizen"]
    cat = [c for c in df.columns if c not in num]
    idx = np.arange(len(df))
    tr, te = train_test_split(idx, test_size=0.3, random_state=42, stratify=y)
    med = df.iloc[tr][num].median()
    x_num = df[num].fillna(med)
    mu, sd = x_num.iloc[tr].mean(), x_num.iloc[tr].std(ddof=0).replace(0, 1)
    parts = [(x_num - mu) / sd]
    for c in cat:
        d = pd.get_dummies(df[c].astype(str), prefix=c, prefix_sep="=", dtype=float)
        levels = sorted(df[c].astype(str).unique())
        if len(levels) == 2 and {v.lower() for v in levels} in ({"yes", "no"}, {"true", "false"}, {"1", "0"}):
            d = d[[k for k in d.columns if k.split("=", 1)[1].lower() in ("yes", "true", "1")]]
        parts.append(d)
    x = pd.concat(parts, axis=1).to_numpy(dtype=float)
    t_prep = time.perf_counter()
    out = {"rows": int(len(df)), "features": int(x.shape[1]), "import_s": t_import - t0,
           "read_s": t_read - t_import, "prep_s": t_prep - t_read, "models": {}}
    for model in models.split(","):
        m = make(model, nth)
        t1 = time.perf_counter()
        m.fit(x[tr], y[tr])
        t2 = time.perf_counter()
        met = metrics(y[te], m.predict_proba(x[te])[:, 1])
        out["models"][model] = {"fit_s": t2 - t1, "eval_s": time.perf_counter() - t2, "auc": met["auc"]}
    out["total_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "fit":
        fit_mode(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif len(sys.argv) == 5 and sys.argv[1] == "pipeline":
        pipeline_mode(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
