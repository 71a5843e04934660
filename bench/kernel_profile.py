#!/usr/bin/env python3
"""Where a training step's GPU time goes, from a Chrome trace of LibTorch's profiler.

    python3 bench/kernel_profile.py TRACE.json --steps 3 [--top 25]

`deeptune-cli bench ... --profile TRACE.json` writes the trace (3 steps after the timed ones).
Prints the GPU kernel time per step by family (matrix products, attention, elementwise, ...) and
the kernels that take the most, each with its share of the step's kernel time and its launches
per step; and the GPU's idle share (the step's span minus kernel time), which launch overhead
and host synchronisation cost.
"""
import argparse
import collections
import json
import re
import sys

FAMILIES = [  # first match wins: cuDNN's attention kernels also carry "sm90_" in their names
    ("attention", re.compile(r"flash|fmha|attention|sdpa", re.I)),
    ("matrix products", re.compile(r"gemm|nvjet|xmma|cutlass|cublas|sm90_|sm80_|splitK", re.I)),
    ("optimizer", re.compile(r"adam|multi_tensor", re.I)),
    ("reductions", re.compile(r"reduce|norm|softmax|logsumexp|max_|sum_", re.I)),
    ("copies and casts", re.compile(r"copy|cast|convert|fill|memset|cat|index", re.I)),
    ("elementwise", re.compile(r"elementwise|vectorized|unrolled|pointwise", re.I)),
]


def family(name):
    for label, pattern in FAMILIES:
        if pattern.search(name):
            return label
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    with open(a.trace) as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    kernels = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy",
                                                                              "gpu_memset")]
    if not kernels:
        sys.exit(f"{a.trace}: no GPU kernels in the trace")
    start = min(e["ts"] for e in kernels)
    end = max(e["ts"] + e["dur"] for e in kernels)
    busy = sum(e["dur"] for e in kernels)
    by_name = collections.defaultdict(lambda: [0.0, 0])
    by_family = collections.defaultdict(float)
    for e in kernels:
        name = e["name"]
        by_name[name][0] += e["dur"]
        by_name[name][1] += 1
        by_family[family(name)] += e["dur"]
    n = a.steps
    span = (end - start) / n
    print(f"{len(kernels) / n:.0f} kernels a step; GPU span {span / 1e3:.1f} ms a step, "
          f"kernel time {busy / n / 1e3:.1f} ms ({100 * busy / (end - start):.1f}% busy, "
          f"{100 * (1 - busy / (end - start)):.1f}% idle)")
    print()
    print(f"{'family':<20} {'ms/step':>9} {'share':>7}")
    for label, us in sorted(by_family.items(), key=lambda kv: -kv[1]):
        print(f"{label:<20} {us / n / 1e3:>9.2f} {100 * us / busy:>6.1f}%")
    print()
    print(f"{'ms/step':>8} {'share':>6} {'calls':>6}  kernel")
    for name, (us, calls) in sorted(by_name.items(), key=lambda kv: -kv[1][0])[: a.top]:
        short = name if len(name) <= 110 else name[:107] + "..."
        print(f"{us / n / 1e3:>8.2f} {100 * us / busy:>5.1f}% {calls / n:>6.0f}  {short}")


if __name__ == "__main__":
    main()
