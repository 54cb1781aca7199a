#!/usr/bin/python3
"""Write include/churn/param-keys.h: one macro per key of the params registry
(libchurn/params-keys.def), so that code names a key by an identifier the
compiler checks ("gbm.n_trees" -> CHURN_KEY_GBM_N_TREES) instead of a string
literal where a typo silently reads the key's zero.
usage: scripts/gen-param-keys.py libchurn/params-keys.def > include/churn/param-keys.h"""
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "libchurn/params-keys.def"
keys = []
for line in open(src, encoding="utf-8"):
    m = re.match(r'\s*CH_PARAM\("([a-z0-9_.]+)",\s*(INT|DOUBLE|BOOL|STR),', line)
    if m:
        keys.append((m.group(1), m.group(2)))
if not keys:
    sys.exit(f"{src}: no CH_PARAM lines")
names = [("CHURN_KEY_" + re.sub(r"[^A-Za-z0-9]", "_", k).upper(), k, t) for k, t in keys]
if len({n for n, _, _ in names}) != len(names):
    sys.exit(f"{src}: two keys map to one identifier")
width = max(len(n) for n, _, _ in names)
print("""/*
 * The keys of churn_params as identifiers (generated from libchurn/params-keys.def
 * by scripts/gen-param-keys.py: do not edit; the `param-keys` test checks it is
 * current). Each macro expands to the key's string and its comment gives the
 * key's type: churn_params_get_int(p, CHURN_KEY_GBM_N_TREES).
 */
#ifndef CHURN_PARAM_KEYS_H
#define CHURN_PARAM_KEYS_H
""")
for n, k, t in names:
    print(f'#define {n:<{width}} "{k}" /* {t} */')
print("\n#endif /* CHURN_PARAM_KEYS_H */")
