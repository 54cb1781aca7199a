"""pandas read_csv on FILE: prints '<rows> <cols> <seconds>' (read only; the
process is timed from outside by bench/parse.sh for wall time and peak RSS)."""
import sys
import time

import pandas as pd

t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1])
dt = time.perf_counter() - t0
print(len(df), len(df.columns), f"{dt:.3f}")
