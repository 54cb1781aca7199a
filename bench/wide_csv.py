#!/usr/bin/python3
"""Write a wide churn CSV (many numeric and categorical columns) for
bench/wide.sh and the wide-data tests: customerID, NUM numeric columns
x0001.., CAT categorical columns c0001.. with LEVELS levels each, and a
Yes/No Churn target that depends on a few of them. Deterministic for a seed.
usage: wide_csv.py ROWS NUM CAT LEVELS [SEED] > FILE"""
import math
import random
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    rows, num, cat, levels = (int(a) for a in sys.argv[1:5])
    rnd = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    out = sys.stdout
    head = ["customerID"] + ["x%04d" % (j + 1) for j in range(num)] + ["c%04d" % (j + 1) for j in range(cat)]
    out.write(",".join(head + ["Churn"]) + "\n")
    weights = [rnd.gauss(0, 1) if j < 8 else 0.0 for j in range(num)]
    for i in range(rows):
        xs = [rnd.gauss(0, 1) for _ in range(num)]
        cs = [rnd.randrange(levels) for _ in range(cat)]
        z = sum(w * x for w, x in zip(weights, xs) if w) + (0.8 if cat and cs[0] < levels // 3 else 0.0) - 1.0
        y = "Yes" if rnd.random() < 1 / (1 + math.exp(-z)) else "No"
        row = ["C%06d" % i] + ["%.3f" % x for x in xs] + ["L%03d" % c for c in cs] + [y]
        out.write(",".join(row) + "\n")


main()
