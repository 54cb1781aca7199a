#!/usr/bin/python3
"""Write a copy of a churn CSV with one thing changed on purpose, for the drift tests.

usage: gen-drift.py MODE IN.csv OUT.csv
  same       the rows as they are
  contract   Contract only: about 60% of the one- and two-year rows become Month-to-month
  charges    MonthlyCharges only: every value x 1.3 (rounded to cents)
  drop COL   without column COL (a schema change: removed)
  add        with a new column "Region" (a schema change: added)
  retype COL COL's values replaced by words (a numeric column becomes categorical)
Every other cell is copied as it is, so no other column moves. Deterministic
(the rows chosen by their index), no third-party modules.
"""
import csv
import sys


def main(argv):
    mode, src, dst = argv[1], argv[-2], argv[-1]
    col = argv[2] if mode in ("drop", "retype") else None
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    if mode == "contract":
        j = head.index("Contract")
        for i, r in enumerate(body):
            if r[j] != "Month-to-month" and i % 5 < 3:
                r[j] = "Month-to-month"
    elif mode == "charges":
        j = head.index("MonthlyCharges")
        for r in body:
            if r[j].strip():
                r[j] = "%.2f" % (float(r[j]) * 1.3)
    elif mode == "drop":
        j = head.index(col)
        head = head[:j] + head[j + 1:]
        body = [r[:j] + r[j + 1:] for r in body]
    elif mode == "add":
        head = head + ["Region"]
        body = [r + [("north", "south", "east", "west")[i % 4]] for i, r in enumerate(body)]
    elif mode == "retype":
        j = head.index(col)
        for i, r in enumerate(body):
            r[j] = ("low", "mid", "high")[i % 3]
    elif mode != "same":
        sys.exit("gen-drift.py: unknown mode " + mode)
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(body)


if __name__ == "__main__":
    main(sys.argv)
