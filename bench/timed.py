#!/usr/bin/python3
"""Run a command; write "wall user sys maxrss_kb" for it to FILE (like GNU time -f '%e %U %S %M',
with microsecond wall time instead of centiseconds). Exit with the command's status.
usage: bench/timed.py FILE -- command [args...]"""
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[3:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    f.write(f"{wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {ru.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))
