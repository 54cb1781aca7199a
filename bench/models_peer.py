#!/usr/bin/python3
"""Peer timing for bench/models.sh: scikit-learn LogisticRegression on the same
CSV, same preprocessing as libchurn's prep (drop customerID, TotalCharges as a
number with median imputation, standard-scaled numerics, one-hot categoricals
with yes/no pairs as one 0/1 column), same stratified 70/30 split idea.
Prints one JSON object: read/prep/fit seconds, total, test ROC AUC."""
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

path = sys.argv[1]
t_start = time.perf_counter()
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
X_num = df[num].fillna(med)
mu, sd = X_num.iloc[tr].mean(), X_num.iloc[tr].std(ddof=0).replace(0, 1)
X_num = (X_num - mu) / sd
parts = [X_num]
for c in cat:
    d = pd.get_dummies(df[c].astype(str), prefix=c, prefix_sep="=", dtype=float)
    levels = sorted(df[c].astype(str).unique())
    if len(levels) == 2 and {l.lower() for l in levels} in ({"yes", "no"}, {"true", "false"}, {"1", "0"}):
        d = d[[k for k in d.columns if k.split("=", 1)[1].lower() in ("yes", "true", "1")]]
    parts.append(d)
X = pd.concat(parts, axis=1).to_numpy(dtype=float)
t_prep = time.perf_counter()
m = LogisticRegression(C=1.0, max_iter=1000)
m.fit(X[tr], y[tr])
t_fit = time.perf_counter()
auc = roc_auc_score(y[te], m.predict_proba(X[te])[:, 1])
t_end = time.perf_counter()
print(json.dumps({"rows": int(len(df)), "features": int(X.shape[1]), "read_s": t_read - t_start,
                  "prep_s": t_prep - t_read, "fit_s": t_fit - t_prep, "total_s": t_end - t0,
                  "n_iter": int(m.n_iter_[0]), "roc_auc": auc}))
