#!/usr/bin/python3
"""Replace string literals that are params keys ("gbm.n_trees") by their
identifiers (CHURN_KEY_GBM_N_TREES, include/churn/param-keys.h) in the given
C files. A one-off tool kept for new code: tests/check-param-keys.sh fails on
any literal it would replace.
usage: scripts/use-param-keys.py [--check] libchurn/params-keys.def FILE.c..."""
import re
import sys

check = sys.argv[1] == "--check"
args = sys.argv[2:] if check else sys.argv[1:]
keys = re.findall(r'^\s*CH_PARAM\("([a-z0-9_.]+)"', open(args[0], encoding="utf-8").read(), re.M)
ident = {k: "CHURN_KEY_" + re.sub(r"[^A-Za-z0-9]", "_", k).upper() for k in keys}
lit = re.compile(r'"(' + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + r')"')
bad = 0
for path in args[1:]:
    text = open(path, encoding="utf-8").read()
    out = []
    for no, line in enumerate(text.split("\n"), 1):
        if lit.search(line):
            if check:
                print(f"{path}:{no}: params key as a string literal; use its CHURN_KEY_ identifier: {line.strip()}")
                bad += 1
            line = lit.sub(lambda m: ident[m.group(1)], line)
        out.append(line)
    if not check:
        new = "\n".join(out)
        if new != text:
            open(path, "w", encoding="utf-8").write(new)
sys.exit(1 if bad else 0)
