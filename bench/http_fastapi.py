#!/usr/bin/python3
"""The reference design's stack for bench/http.sh: a FastAPI app served by
uvicorn that answers the same two endpoints as churn-httpd from the same
workdir.

  GET  /api/metrics  reports/metrics.json (the file's bytes, re-read only when
                     its mtime changes, so the figure is FastAPI's, not disk's)
  POST /api/predict  one raw customer record -> probability, label and the top
                     three reasons: a scikit-learn pipeline (one-hot + scaling +
                     LogisticRegression) fitted at start-up on the workdir's
                     raw CSV, scored through pandas as a typical service does.

usage: http_fastapi.py WORKDIR PORT [WORKERS]
"""
import glob
import os
import sys

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

WORKDIR = os.environ.get("BENCH_WORKDIR") or sys.argv[1]
app = FastAPI()
_metrics = {"mtime": None, "body": b""}


@app.get("/api/metrics")
def metrics():
    path = os.path.join(WORKDIR, "reports/metrics.json")
    m = os.stat(path).st_mtime_ns
    if m != _metrics["mtime"]:
        with open(path, "rb") as fh:
            _metrics["body"] = fh.read()
        _metrics["mtime"] = m
    return Response(_metrics["body"], media_type="application/json")


def _fit():
    csv = sorted(glob.glob(os.path.join(WORKDIR, "data/raw/*.csv")))[0]
    df = pd.read_csv(csv)
    y = df.pop("Churn").astype(str).str.lower().isin(["yes", "true", "1"]).astype(int)
    df = df.drop(columns=["customerID"], errors="ignore")
    if "TotalCharges" in df:
        df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce").fillna(0.0)
    num = [c for c in df.columns if df[c].dtype.kind in "if"]
    cat = [c for c in df.columns if c not in num]
    pipe = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), num),
                                                 ("cat", OneHotEncoder(handle_unknown="ignore"), cat)],
                                                sparse_threshold=0)),
                     ("model", LogisticRegression(max_iter=1000))])
    pipe.fit(df, y)
    return pipe, list(df.columns), num


PIPE, COLUMNS, NUMERIC = _fit()
NAMES = PIPE.named_steps["prep"].get_feature_names_out()
COEF = PIPE.named_steps["model"].coef_[0]


@app.post("/api/predict")
async def predict(request: Request):
    rec = await request.json()
    row = pd.DataFrame([{c: rec.get(c) for c in COLUMNS}])
    for c in NUMERIC:
        row[c] = pd.to_numeric(row[c], errors="coerce").fillna(0.0)
    x = PIPE.named_steps["prep"].transform(row)[0]
    p = float(PIPE.named_steps["model"].predict_proba(x.reshape(1, -1))[0, 1])
    contrib = x * COEF
    top = np.argsort(-np.abs(contrib))[:3]
    reasons = [{"feature": str(NAMES[j]), "value": float(x[j]), "contribution": float(contrib[j])} for j in top]
    return JSONResponse({"model": "sklearn-logreg", "threshold": 0.5, "count": 1,
                         "predictions": [{"id": rec.get("customerID"), "probability": p,
                                          "label": "Yes" if p >= 0.5 else "No", "churn": p >= 0.5,
                                          "reasons": reasons}]})


if __name__ == "__main__":
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if workers > 1:
        os.environ["BENCH_WORKDIR"] = WORKDIR
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        uvicorn.run("http_fastapi:app", host="127.0.0.1", port=int(sys.argv[2]), workers=workers,
                    log_level="warning", access_log=False)
    else:
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
