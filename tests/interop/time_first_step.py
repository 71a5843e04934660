#!/usr/bin/env python3
"""Runs a deeptune-cli command that prints JSON lines and reports the seconds from its start to the
first step event, its total time and the peak resident memory of the process (ru_maxrss).

  time_first_step.py CLI ARGS...
"""
import json
import resource
import subprocess
import sys
import time

start = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
first = None
for line in proc.stdout:
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if first is None and event.get("event") == "step":
        first = time.monotonic() - start
code = proc.wait()
total = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
print(f"first step after {first if first is not None else float('nan'):.2f} s, total {total:.2f} s, "
      f"peak host RSS {peak:.2f} GiB, exit {code}")
sys.exit(code)
