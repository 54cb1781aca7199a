#!/usr/bin/python3
"""Peers for bench/gbm.sh: XGBoost hist and scikit-learn GradientBoostingClassifier
on the matrices written by gbm_bench (same prepared features, same 70/30 split).
Usage: gbm_peer.py PREFIX NFEATURES {xgb|sklearn} NTHREADS  -> one JSON line."""
import json, sys, time
import numpy as np
from sklearn.metrics import roc_auc_score

prefix, nf, which, nth = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def load(part):
    x = np.fromfile(f"{prefix}.{part}.x", dtype=np.float64).reshape(-1, nf)
    y = np.fromfile(f"{prefix}.{part}.y", dtype=np.uint8)
    return x, y
xtr, ytr = load("train")
xte, yte = load("test")
if which == "xgb":
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, tree_method="hist",
                          max_bin=255, n_jobs=nth)
elif which == "sklearn":
    from sklearn.ensemble import GradientBoostingClassifier
    m = GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, random_state=0)
else:
    sys.exit("unknown peer " + which)
t0, c0 = time.perf_counter(), time.process_time()
m.fit(xtr, ytr)
fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
t0 = time.perf_counter()
p = m.predict_proba(xte)[:, 1]
pred = time.perf_counter() - t0
print(json.dumps({"model": which, "fit_s": round(fit, 4), "fit_cpu_s": round(fit_cpu, 4), "predict_s": round(pred, 4),
                  "auc": round(float(roc_auc_score(yte, p)), 6)}))
