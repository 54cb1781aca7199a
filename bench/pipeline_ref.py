#!/usr/bin/python3
"""Reference pipeline for bench/pipeline.sh: the reference design's Python
stack doing the same work as `churn run` (data pipeline + ML pipeline).

usage: /usr/bin/python3 bench/pipeline_ref.py SRC.csv WORKDIR [--no-figures] [--no-importance] [--json]

Stages, each timed with time.perf_counter() (imports are timed from the
interpreter's start):
  imports    pandas, numpy, scikit-learn, joblib (+ matplotlib/seaborn with figures)
  read       pandas.read_csv of the source, copied to data/raw/ like `churn fetch`
  profile    describe, missing counts, category levels -> reports/summary.json|csv
  prep       SimpleImputer + OneHotEncoder + StandardScaler in a ColumnTransformer,
             processed data -> data/processed/churn.parquet (pyarrow) or .csv + .pkl
  eda        Pearson correlation of the encoded features, churn rate per level with
             chi-square / Cramer's V, histograms by churn, Kaplan-Meier by contract,
             RandomForestClassifier (50 trees, depth 8, on at most 50,000 rows,
             as the libchurn pipeline's EDA forest) impurity importance +
             permutation importance per raw column (ROC AUC drop, one shuffle
             on at most 2,000 rows) -> reports/eda.json
  figures    the figures `churn run` draws, matplotlib (Agg) + seaborn, 1200x800 PNG:
             correlation heatmap, one histogram per numeric column, churn rate per
             level for each categorical, feature importance, Kaplan-Meier, and for
             the models ROC, PR, confusion (one per model), lift
  fit        stratified 70/30 split; LogisticRegression (C=1) and
             GradientBoostingClassifier (100 trees, depth 3, lr 0.1,
             min_samples_leaf 20: libchurn's gbm defaults)
  metrics    accuracy, precision, recall, f1, roc_auc, average precision, log loss,
             brier per model; joblib dumps of the models + preprocessor; metrics.json,
             model_run_metadata.json, run_metadata.json
--no-importance skips the forest and its figure (like churn's pipeline.importance=false).
Prints one line per stage (or one JSON document with --json).
"""
import time

T0 = time.perf_counter()
import json
import os
import pickle
import shutil
import sys

import numpy as np
import pandas as pd
import joblib
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, confusion_matrix, f1_score,
                             log_loss, precision_recall_curve, precision_score, recall_score, roc_auc_score,
                             roc_curve)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from scipy import stats as sstats

args = [a for a in sys.argv[1:] if not a.startswith("--")]
FIGURES = "--no-figures" not in sys.argv
AS_JSON = "--json" in sys.argv
IMPORTANCE = "--no-importance" not in sys.argv
if len(args) != 2:
    sys.exit("usage: pipeline_ref.py SRC.csv WORKDIR [--no-figures] [--no-importance] [--json]")
SRC, WD = args
if FIGURES:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    sns.set_theme(style="whitegrid", palette="colorblind")

TARGET, ID, POS, SEED = "Churn", "customerID", "Yes", 42
W, H, DPI = 12, 8, 100  # 1200 x 800 px like libchurn's eda.fig_width/height
times = {"imports": time.perf_counter() - T0}
_t = [time.perf_counter()]


def lap(name):
    now = time.perf_counter()
    times[name] = times.get(name, 0.0) + now - _t[0]
    _t[0] = now


def path(*p):
    f = os.path.join(WD, *p)
    os.makedirs(os.path.dirname(f), exist_ok=True)
    return f


def dump_json(obj, *p):
    f = path(*p)
    with open(f + ".tmp", "w") as fp:
        json.dump(obj, fp, indent=1, default=float)
    os.replace(f + ".tmp", f)


def savefig(fig, name):
    fig.savefig(path("reports", "figures", name + ".png"), dpi=DPI, facecolor="white")
    plt.close(fig)


# ---------------------------------------------------------------- read
raw = path("data", "raw", os.path.basename(SRC))
shutil.copyfile(SRC, raw)
df = pd.read_csv(raw)
# blanks in numeric-looking columns (Telco's TotalCharges): numeric with missing values
for c in df.columns:
    if df[c].dtype == object and c not in (TARGET, ID):
        conv = pd.to_numeric(df[c].str.strip().replace("", np.nan), errors="coerce")
        if conv.notna().sum() >= 0.95 * df[c].str.strip().replace("", np.nan).notna().sum():
            df[c] = conv
lap("read")

# ---------------------------------------------------------------- profile
y_all = (df[TARGET].astype(str).str.lower() == POS.lower()).astype(np.int8).to_numpy()
feat = df.drop(columns=[c for c in (TARGET, ID) if c in df.columns])
num_cols = [c for c in feat.columns if pd.api.types.is_numeric_dtype(feat[c])]
cat_cols = [c for c in feat.columns if c not in num_cols]
desc = df[num_cols].describe().T
missing = df.isna().sum()
cols = []
for c in df.columns:
    e = {"name": c, "missing": int(missing[c])}
    if c in num_cols:
        d = desc.loc[c]
        e.update(type="numeric", count=int(d["count"]), mean=d["mean"], std=d["std"], min=d["min"], p25=d["25%"],
                 p50=d["50%"], p75=d["75%"], max=d["max"])
    else:
        vc = df[c].value_counts()
        e.update(type="categorical" if len(vc) <= 100 else "text",
                 levels=[{"value": str(k), "count": int(v)} for k, v in vc.head(100).items()])
    cols.append(e)
dump_json({"rows": len(df), "columns": cols,
           "target": {"name": TARGET, "positive": POS, "positive_count": int(y_all.sum()), "rate": y_all.mean()}},
          "reports", "summary.json")
summary = df.describe(include="all").T
summary["missing"] = missing
summary.to_csv(path("reports", "summary.csv"))
lap("profile")

# ---------------------------------------------------------------- prep
pre = ColumnTransformer([
    ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num_cols),
    ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                      ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), cat_cols),
])
X = pre.fit_transform(feat)
names = [n.split("__", 1)[1] for n in pre.get_feature_names_out()]
proc = pd.DataFrame(X, columns=names)
proc[TARGET] = y_all
try:
    import pyarrow  # noqa: F401
    proc.to_parquet(path("data", "processed", "churn.parquet"))
except ImportError:
    with open(path("data", "processed", "churn.pkl"), "wb") as fp:
        pickle.dump(proc, fp, protocol=pickle.HIGHEST_PROTOCOL)
proc.to_csv(path("data", "processed", "churn.csv"), index=False)
lap("prep")

# ---------------------------------------------------------------- eda statistics
eda = {}
corr = proc.corr(method="pearson")
eda["correlation"] = {"features": list(corr.columns), "matrix": corr.to_numpy().round(6).tolist()}
assoc = {}
for c in cat_cols:
    tab = pd.crosstab(df[c], y_all)
    chi2, p, _, _ = sstats.chi2_contingency(tab)
    n = tab.to_numpy().sum()
    v = np.sqrt(chi2 / (n * (min(tab.shape) - 1))) if min(tab.shape) > 1 else 0.0
    g = pd.DataFrame({"n": tab.sum(axis=1), "churned": tab.get(1, 0)})
    g["rate"] = g["churned"] / g["n"]
    half = 1.96 * np.sqrt(g["rate"] * (1 - g["rate"]) / g["n"])
    g["lo"], g["hi"] = (g["rate"] - half).clip(0, 1), (g["rate"] + half).clip(0, 1)
    assoc[c] = {"chi2_p": p, "cramers_v": v, "levels": g.reset_index().to_dict(orient="records")}
eda["categorical"] = assoc
hists = {}
for c in num_cols:
    v = df[c].dropna()
    edges = np.histogram_bin_edges(v, bins=20)
    hists[c] = {"edges": edges.tolist(),
                "retained": np.histogram(df.loc[y_all == 0, c].dropna(), edges)[0].tolist(),
                "churned": np.histogram(df.loc[y_all == 1, c].dropna(), edges)[0].tolist()}
eda["histograms"] = hists


def kaplan_meier(t, e):
    """Product-limit estimate with Greenwood 95% band (simple implementation)."""
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    times_u, idx = np.unique(t, return_index=True)
    deaths = np.add.reduceat(e, idx)
    n_at = len(t) - idx
    s = np.cumprod(1 - deaths / n_at)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n_at > deaths, deaths / (n_at * (n_at - deaths)), 0))
    half = 1.96 * s * np.sqrt(gw)
    return times_u, s, np.clip(s - half, 0, 1), np.clip(s + half, 0, 1)


km = {}
if "tenure" in df.columns:
    km["all"] = kaplan_meier(df["tenure"].to_numpy(float), y_all.astype(float))
    if "Contract" in df.columns:
        for lvl, g in df.groupby("Contract"):
            km[lvl] = kaplan_meier(g["tenure"].to_numpy(float), y_all[g.index].astype(float))
eda["kaplan_meier"] = {k: {"t": v[0].tolist(), "s": v[1].tolist()} for k, v in km.items()}
Xf = proc[names].to_numpy()
imp = None
if IMPORTANCE:
    # As the pipeline: 50 trees of depth 8 on at most 50,000 rows; importance per raw
    # column (one-hot levels summed for impurity, shuffled together for permutation).
    rf = RandomForestClassifier(n_estimators=50, max_depth=8, n_jobs=-1, random_state=SEED)
    nf = min(len(Xf), 50000)
    fit_rows = (np.arange(nf) * len(Xf) // nf).astype(int)
    rf.fit(Xf[fit_rows], y_all[fit_rows])
    ns = min(len(Xf), 2000)
    rows = (np.arange(ns) * len(Xf) // ns).astype(int)
    Xs, ys = Xf[rows], y_all[rows]
    base = roc_auc_score(ys, rf.predict_proba(Xs)[:, 1])
    src = [n.split("=", 1)[0] if "=" in n else n for n in names]
    for c in cat_cols:  # OneHotEncoder names levels "col_level"
        src = [c if n.startswith(c + "_") else s for n, s in zip(names, src)]
    groups = list(dict.fromkeys(src))
    rng = np.random.default_rng(SEED)
    rows_imp = []
    for g in groups:
        cols = [j for j, s in enumerate(src) if s == g]
        Xp = Xs.copy()
        Xp[:, cols] = Xs[rng.permutation(len(Xs))][:, cols]
        drop = base - roc_auc_score(ys, rf.predict_proba(Xp)[:, 1])
        rows_imp.append({"feature": g, "impurity": float(rf.feature_importances_[cols].sum()), "permutation": drop})
    imp = pd.DataFrame(rows_imp).sort_values("impurity", ascending=False)
    eda["importance"] = imp.to_dict(orient="records")
dump_json(eda, "reports", "eda.json")
lap("eda")

# ---------------------------------------------------------------- figures (data)
if FIGURES:
    fig, ax = plt.subplots(figsize=(W, H))
    sns.heatmap(corr, ax=ax, cmap="RdBu_r", vmin=-1, vmax=1, square=False, cbar_kws={"label": "Pearson r"},
                xticklabels=True, yticklabels=True)
    ax.tick_params(labelsize=6)
    ax.set_title("Correlation of encoded features")
    fig.tight_layout()
    savefig(fig, "correlation_heatmap")
    # The same grids `churn run` draws: one figure of histograms, one of churn rates.
    ncol = 2
    nrow = (len(num_cols) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(W * 1.5, H * 1.2), squeeze=False)
    for ax, c in zip(axes.flat, num_cols):
        e = hists[c]["edges"]
        sns.histplot(data=pd.DataFrame({c: df[c], "Churn": np.where(y_all == 1, "Churned", "Retained")}), x=c,
                     hue="Churn", bins=e, multiple="dodge", shrink=0.9, ax=ax)
        ax.set_title(f"{c} by churn")
        ax.set_ylabel("Customers (count)")
    for ax in list(axes.flat)[len(num_cols):]:
        ax.axis("off")
    fig.tight_layout()
    savefig(fig, "histogram_numeric_columns")
    ncol = 3
    nrow = (len(cat_cols) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(W * 1.5, H * 1.3), squeeze=False)
    for ax, c in zip(axes.flat, cat_cols):
        lv = pd.DataFrame(assoc[c]["levels"]).sort_values("rate")
        ax.barh(lv[c].astype(str), lv["rate"] * 100, xerr=[(lv["rate"] - lv["lo"]) * 100, (lv["hi"] - lv["rate"]) * 100],
                color=sns.color_palette()[0])
        for i, (r, hi, n) in enumerate(zip(lv["rate"], lv["hi"], lv["n"])):
            ax.text(hi * 100 + 1, i, f"{r * 100:.1f}% n={n}", va="center", fontsize=7)
        ax.set_xlim(0, 100)
        ax.set_title(c, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(cat_cols):]:
        ax.axis("off")
    fig.suptitle("Churn rate by level (%, 95% interval)")
    fig.tight_layout()
    savefig(fig, "churn_rate_categories")
    if imp is not None:
        top = imp.head(20)[::-1]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(W, H), sharey=True)
        a1.barh(top["feature"], top["impurity"])
        a1.set_xlabel("Impurity decrease (share)")
        a2.barh(top["feature"], top["permutation"], color=sns.color_palette()[1])
        a2.set_xlabel("Permutation ROC AUC drop")
        fig.suptitle("Random forest feature importance (top 20)")
        fig.tight_layout()
        savefig(fig, "feature_importance")
    if km:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(W, H), sharey=True)
        for ax, keys in ((a1, ["all"]), (a2, [k for k in km if k != "all"])):
            for k in keys:
                t, s, lo, hi = km[k]
                ax.step(t, s * 100, where="post", label=k)
                ax.fill_between(t, lo * 100, hi * 100, step="post", alpha=0.25)
            ax.set_xlabel("tenure (months)")
            ax.legend()
        a1.set_ylabel("Share of customers retained (%)")
        fig.suptitle("Kaplan-Meier retention over tenure (event: churn; shaded: 95% band)")
        savefig(fig, "km_retention")
    lap("figures")

# ---------------------------------------------------------------- models
Xtr, Xte, ytr, yte = train_test_split(Xf, y_all, test_size=0.3, stratify=y_all, random_state=SEED)
models = {"logreg": LogisticRegression(C=1.0, max_iter=1000),
          "gbm": GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_depth=3, min_samples_leaf=20,
                                            random_state=SEED)}
fit_s = {}
for k, m in models.items():
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    fit_s[k] = time.perf_counter() - t
lap("fit")

metrics, probs, model_runs = {}, {}, []
for k, m in models.items():
    p = m.predict_proba(Xte)[:, 1]
    probs[k] = p
    yhat = (p >= 0.5).astype(int)
    tn, fp, fn, tp = confusion_matrix(yte, yhat).ravel()
    metrics[k] = {"accuracy": accuracy_score(yte, yhat), "precision": precision_score(yte, yhat),
                  "recall": recall_score(yte, yhat), "f1": f1_score(yte, yhat), "roc_auc": roc_auc_score(yte, p),
                  "pr_auc": average_precision_score(yte, p), "log_loss": log_loss(yte, p),
                  "brier": brier_score_loss(yte, p), "threshold": 0.5,
                  "confusion": {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)},
                  "fit_seconds": fit_s[k]}
    art = path("artifacts", "models", k + ".joblib")
    joblib.dump({"model": m, "preprocessor": pre, "features": names}, art)
    model_runs.append({"model": k, "params": m.get_params(), "metrics": metrics[k],
                       "artifact": {"path": art, "bytes": os.path.getsize(art)},
                       "train_rows": len(ytr), "test_rows": len(yte)})
joblib.dump(pre, path("artifacts", "prep.joblib"))
# Monthly revenue at risk: every customer scored by the best model (as churn ml does).
best = max(metrics, key=lambda k: metrics[k]["roc_auc"])
p_all = models[best].predict_proba(proc[names].to_numpy())[:, 1]
risk = pd.DataFrame({"seg": df["Contract"], "charges": df["MonthlyCharges"], "at_risk": p_all >= 0.5})
rev = risk.assign(r=risk.charges * risk.at_risk).groupby("seg").agg(revenue=("charges", "sum"),
                                                                     at_risk=("r", "sum"),
                                                                     customers=("at_risk", "sum"))
eda["revenue_at_risk"] = {"model": best, "monthly_revenue_at_risk": float(rev.at_risk.sum()),
                          "by_segment": rev.reset_index().to_dict(orient="records")}
dump_json(eda, "reports", "eda.json")
dump_json({"models": metrics}, "reports", "metrics.json")
dump_json({"runs": model_runs}, "reports", "model_run_metadata.json")
lap("metrics")

if FIGURES:
    fig, ax = plt.subplots(figsize=(W, H))
    for k, p in probs.items():
        fpr, tpr, _ = roc_curve(yte, p)
        ax.plot(fpr, tpr, label=f"{k} (AUC {metrics[k]['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curves")
    ax.legend()
    savefig(fig, "roc_curve")
    fig, ax = plt.subplots(figsize=(W, H))
    for k, p in probs.items():
        pr, rc, _ = precision_recall_curve(yte, p)
        ax.plot(rc, pr, label=f"{k} (AP {metrics[k]['pr_auc']:.3f})")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curves")
    ax.legend()
    savefig(fig, "pr_curve")
    for k in probs:
        c = metrics[k]["confusion"]
        fig, ax = plt.subplots(figsize=(W, H))
        sns.heatmap([[c["tn"], c["fp"]], [c["fn"], c["tp"]]], annot=True, fmt="d", cmap="Blues", ax=ax,
                    xticklabels=["Retained", "Churned"], yticklabels=["Retained", "Churned"])
        ax.set(xlabel="Predicted", ylabel="Actual", title=f"Confusion matrix: {k} (threshold 0.5)")
        savefig(fig, f"confusion_{k}")
    fig, ax = plt.subplots(figsize=(W, H))
    for k, p in probs.items():
        order = np.argsort(-p)
        cum = np.cumsum(yte[order]) / yte.sum()
        share = np.arange(1, len(p) + 1) / len(p)
        dec = np.arange(1, 11) / 10
        ax.plot(dec * 100, np.interp(dec, share, cum) / dec, marker="o", label=k)
    ax.axhline(1, ls="--", color="grey")
    ax.set(xlabel="Customers targeted, highest scores first (%)", ylabel="Lift", title="Cumulative lift")
    ax.legend()
    savefig(fig, "lift_chart")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(W, H), sharey=True)
    a1.barh(rev.index.astype(str), rev.at_risk, color=sns.color_palette()[1])
    a1.set(xlabel="Monthly revenue at risk", title="Revenue at risk by Contract")
    a2.barh(rev.index.astype(str), rev.customers, color=sns.color_palette()[0])
    a2.set(xlabel="Customers scored above 0.5", title="Customers at risk by Contract")
    fig.tight_layout()
    savefig(fig, "revenue_at_risk")
    lap("figures")

dump_json({"runs": [{"pipeline": "python-reference", "status": "succeeded", "rows": len(df),
                     "steps": [{"name": k, "duration_s": v} for k, v in times.items()]}]},
          "reports", "run_metadata.json")
lap("metrics")
times["total"] = time.perf_counter() - T0
if AS_JSON:
    print(json.dumps({"rows": len(df), "features": len(names), "figures": FIGURES, "seconds": times,
                      "fit_seconds": fit_s, "roc_auc": {k: metrics[k]["roc_auc"] for k in metrics}}))
else:
    for k, v in times.items():
        print(f"{k:10s} {v:8.3f} s")
    print("roc_auc    " + "  ".join(f"{k} {metrics[k]['roc_auc']:.4f}" for k in metrics))
