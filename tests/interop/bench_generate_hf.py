#!/usr/bin/env python3
"""Greedy generation speed, DeepTune against Hugging Face `generate`, on the same model, prompt
length and number of new tokens, in one process run after the other (GPU machine).

  bench_generate_hf.py CLI PROJECT RUN MERGED_DIR [--new 128] [--prompt-tokens 64] [--repeat 3]

DeepTune: `deeptune-cli generate PROJECT RUN` (the run's model, KV cache, on the GPU), tokens/s of
the steps after the prompt as it reports them. Hugging Face: the merged export of the same run in
bf16 on the GPU, `model.generate(..., do_sample=False, min_new_tokens=N)` with its default KV
cache, tokens/s of the same steps (the prompt's forward timed apart). Medians of --repeat runs;
prints one JSON line with both and their ratio.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import threading
import time

import torch
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("cli")
ap.add_argument("project")
ap.add_argument("run")
ap.add_argument("merged")
ap.add_argument("--new", type=int, default=128)
ap.add_argument("--prompt-tokens", type=int, default=64)
ap.add_argument("--repeat", type=int, default=3)
a = ap.parse_args()

prompt = "maintenance note: pump seal " * (a.prompt_tokens // 6 + 1)

# The device memory each process holds as nvidia-smi reports it (what users see), polled.
peak_mib = {}
polling = True


def poll():
    while polling:
        q = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True).stdout
        for line in q.splitlines():
            pid, mib = (int(x) for x in line.split(","))
            peak_mib[pid] = max(peak_mib.get(pid, 0), mib)
        time.sleep(0.1)


threading.Thread(target=poll, daemon=True).start()
ours_pids = []

ours = []
for _ in range(a.repeat):
    proc = subprocess.Popen([a.cli, "generate", a.project, a.run, "--prompt", prompt, "--max-tokens", str(a.new),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ours_pids.append(proc.pid)
    stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    p = subprocess.CompletedProcess(proc.args, 0, stdout, stderr)
    m = re.search(r"prompt: (\d+) tokens in ([\d.]+) s; (\d+) tokens at ([\d.]+) tokens/s", p.stderr)
    ours.append((float(m.group(4)), int(m.group(1)), int(m.group(3))))
prompt_ids = json.loads(p.stdout)["prompt_ids"]

model = AutoModelForCausalLM.from_pretrained(a.merged, dtype=torch.bfloat16).cuda().eval()
ids = torch.tensor([prompt_ids], device="cuda")
hf = []
with torch.no_grad():
    model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)  # warm-up
    for _ in range(a.repeat):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(ids)  # the prompt alone, to take it out of the rate as ours does
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        out = model.generate(ids, max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False)
        torch.cuda.synchronize()
        t2 = time.perf_counter()
        steps = out.shape[1] - ids.shape[1] - 1
        hf.append(steps / max(1e-9, (t2 - t1) - (t1 - t0)))

polling = False
time.sleep(0.2)
ours_med = statistics.median(r[0] for r in ours)
hf_med = statistics.median(hf)
print(json.dumps({"prompt_tokens": len(prompt_ids), "new_tokens_ours": ours[-1][2], "new_tokens_hf": a.new,
                  "ours_tokens_per_s": ours_med, "hf_tokens_per_s": hf_med,
                  "ratio_ours_over_hf": ours_med / hf_med, "runs": a.repeat,
                  "hf_peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
                  "ours_nvidia_smi_gib": max(peak_mib.get(pid, 0) for pid in ours_pids) / 1024,
                  "hf_nvidia_smi_gib": peak_mib.get(os.getpid(), 0) / 1024}))
