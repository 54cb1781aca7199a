"""pandas + scikit-learn peer of `churn prepare` (bench/prepare.sh).

usage: /usr/bin/python3 prepare_peer.py IN.csv OUT_PREFIX
read_csv -> ColumnTransformer(SimpleImputer(median) + StandardScaler on
numeric columns, SimpleImputer(most_frequent) + OneHotEncoder on the others)
-> to_parquet when pyarrow/fastparquet exists, else pickle. Prints one JSON
line with the stage times.
"""
import json
import sys
import time

t0 = time.perf_counter()
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

t_import = time.perf_counter() - t0
src, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
df = pd.read_csv(src)
t_read = time.perf_counter() - t
t = time.perf_counter()
y = (df.pop("Churn").astype(str).str.lower() == "yes").astype(np.int32)
ids = df.pop("customerID") if "customerID" in df.columns else None
for c in df.columns:  # TotalCharges-like columns: numbers with blanks
    if df[c].dtype == object:
        conv = pd.to_numeric(df[c], errors="coerce")
        if conv.notna().sum() >= 0.99 * df[c].notna().sum():
            df[c] = conv
num = list(df.select_dtypes(include="number").columns)
cat = [c for c in df.columns if c not in num]
try:
    ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
except TypeError:  # scikit-learn < 1.2
    ohe = OneHotEncoder(handle_unknown="ignore", sparse=False)
ct = ColumnTransformer([
    ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]), num),
    ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")), ("oh", ohe)]), cat),
])
X = ct.fit_transform(df)
names = list(ct.get_feature_names_out())
res = pd.DataFrame(X, columns=names)
if ids is not None:
    res.insert(0, "customerID", ids.values)
res["Churn"] = y.values
t_fit = time.perf_counter() - t
t = time.perf_counter()
try:
    res.to_parquet(out + ".parquet")
    kind = "parquet"
except ImportError:
    res.to_pickle(out + ".pkl")
    kind = "pickle"
t_write = time.perf_counter() - t
print(json.dumps({"tool": "pandas+sklearn", "rows": len(res), "features": len(names), "output": kind,
                  "import_s": round(t_import, 3), "read_s": round(t_read, 3), "fit_transform_s": round(t_fit, 3),
                  "write_s": round(t_write, 3)}))
