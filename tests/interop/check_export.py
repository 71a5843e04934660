#!/usr/bin/env python3
"""Checks DeepTune's exports in Python's transformers and PEFT (run on the GPU machine, which has them).

Given a PEFT adapter folder, a merged HF folder and the JSON that `deeptune-cli generate --json`
printed for a prompt, loads (1) base + adapter with PeftModel and (2) the merged checkpoint with
AutoModelForCausalLM, and compares with DeepTune's numbers: the logits of the first generated token
(max |difference|) and the greedy continuation (token ids). Exits 1 when they disagree.

usage: check_export.py ADAPTER_DIR MERGED_DIR OURS_JSON
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

TOLERANCE = 1e-4  # fp32 on the CPU on both sides: differences are summation order only


def greedy(model, prompt_ids, max_new, eos):
    ids = list(prompt_ids)
    out = []
    first = None
    with torch.no_grad():
        for _ in range(max_new):
            logits = model(torch.tensor([ids])).logits[0, -1].float()
            if first is None:
                first = logits
            nxt = int(logits.argmax())
            if nxt == eos:
                break
            ids.append(nxt)
            out.append(nxt)
    return first, out


def main():
    adapter_dir, merged_dir, ours_path = sys.argv[1:4]
    ours = json.load(open(ours_path))
    ours_logits = torch.tensor(ours["first_logits"])
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    results = {}
    base = AutoModelForCausalLM.from_pretrained(cfg["base_model_name_or_path"], dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, adapter_dir).eval()
    merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32).eval()
    eos = merged.config.eos_token_id
    ok = True
    for name, model in (("peft", peft_model), ("merged", merged)):
        first, out = greedy(model, ours["prompt_ids"], len(ours["output_ids"]) + 1, eos)
        diff = float((first - ours_logits).abs().max())
        same = out == ours["output_ids"]
        results[name] = {"max_abs_logit_diff": diff, "same_greedy_ids": same,
                         "text": bytes(i for i in out if i < 256).decode("utf-8", "replace")}
        ok = ok and diff < TOLERANCE and same
    results["ours_text"] = ours["text"]
    results["ok"] = ok
    print(json.dumps(results, ensure_ascii=False, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
