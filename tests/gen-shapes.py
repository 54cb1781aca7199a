#!/usr/bin/python3
"""Churn CSVs of other shapes than Telco, for the tests of "any churn CSV"
(small, seeded, written to stdout).
usage: gen-shapes.py SHAPE [ROWS]
  bank   a bank's customers (after the public bank churn data sets): a row
         number and a customer number (identifiers), a surname code, numeric
         and categorical features, a Complain column computed from the
         target (a leak), target Exited as 0/1."""
import math
import random
import sys


def bank(n):
    rnd = random.Random(5)
    print("RowNumber,CustomerId,Surname,CreditScore,Geography,Gender,Age,Tenure,Balance,NumOfProducts,"
          "IsActiveMember,EstimatedSalary,Complain,Exited")
    ids = rnd.sample(range(15565701, 15815690), n)
    for i in range(n):
        age = rnd.randint(18, 80)
        active = rnd.random() < 0.5
        products = rnd.choice([1, 1, 2, 2, 3, 4])
        geo = rnd.choice(["France", "Spain", "Germany"])
        z = -2.2 + 0.05 * (age - 40) - 0.9 * active + (1.2 if products >= 3 else 0) + (0.6 if geo == "Germany" else 0)
        exited = rnd.random() < 1 / (1 + math.exp(-z))
        complain = int(rnd.random() < 0.998) if exited else int(rnd.random() < 0.002)
        balance = rnd.choice([0.0, round(rnd.uniform(1e4, 2.5e5), 2)])
        print(f"{i + 1},{ids[i]},Name{rnd.randint(1, 900)},{rnd.randint(350, 850)},{geo},"
              f"{rnd.choice(['Male', 'Female'])},{age},{rnd.randint(0, 10)},{balance},{products},{int(active)},"
              f"{round(rnd.uniform(1e3, 2e5), 2)},{complain},{int(exited)}")


SHAPES = {"bank": bank}
if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    SHAPES[sys.argv[1]](int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
