#!/usr/bin/env python3
"""Checks DeepTune's exports in Python's transformers and PEFT (run on the GPU machine, which has them).

Loads (1) base + adapter with PeftModel and (2) the merged checkpoint with transformers, and
compares with DeepTune's own numbers for the same input. Exits 1 when they disagree.

  check_export.py causal ADAPTER_DIR MERGED_DIR OURS_JSON
      OURS_JSON: what `deeptune-cli generate --json` printed. Compares the logits of the first
      generated token (max |difference|) and the greedy continuation (token ids).
  check_export.py seq-cls ADAPTER_DIR MERGED_DIR OURS_JSON [OURS_JSON ...]
      OURS_JSON: what `deeptune-cli classify --json` printed, one per text. Compares the class
      logits (max |difference|) and the label, through AutoModelForSequenceClassification and a
      PEFT adapter of task type SEQ_CLS (the classification head saved as modules_to_save).
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

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


def load_pair(auto_class, adapter_dir, merged_dir):
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    base = auto_class.from_pretrained(cfg["base_model_name_or_path"], dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, adapter_dir).eval()
    merged = auto_class.from_pretrained(merged_dir, dtype=torch.float32).eval()
    return cfg, (("peft", peft_model), ("merged", merged))


def check_causal(adapter_dir, merged_dir, ours_path):
    ours = json.load(open(ours_path))
    ours_logits = torch.tensor(ours["first_logits"])
    _, models = load_pair(AutoModelForCausalLM, adapter_dir, merged_dir)
    eos = models[1][1].config.eos_token_id
    results, ok = {}, True
    for name, model in models:
        first, out = greedy(model, ours["prompt_ids"], len(ours["output_ids"]) + 1, eos)
        diff = float((first - ours_logits).abs().max())
        # Ours may end at max tokens where this loop runs one step further.
        if ours.get("stop_reason") == "length":
            out = out[:len(ours["output_ids"])]
        same = out == ours["output_ids"]
        results[name] = {"max_abs_logit_diff": diff, "same_greedy_ids": same,
                         "text": bytes(i for i in out if i < 256).decode("utf-8", "replace")}
        ok = ok and diff < TOLERANCE and same
    results["ours_text"] = ours["text"]
    return results, ok


def check_seq_cls(adapter_dir, merged_dir, ours_paths):
    cfg, models = load_pair(AutoModelForSequenceClassification, adapter_dir, merged_dir)
    results = {"task_type": cfg["task_type"], "modules_to_save": cfg["modules_to_save"]}
    ok = cfg["task_type"] == "SEQ_CLS"
    for name, model in models:
        worst, agree = 0.0, 0
        id2label = model.config.id2label
        for path in ours_paths:
            ours = json.load(open(path))
            with torch.no_grad():
                logits = model(torch.tensor([ours["input_ids"]])).logits[0].float()
            worst = max(worst, float((logits - torch.tensor(ours["logits"])).abs().max()))
            agree += id2label[int(logits.argmax())] == ours["label"]
        results[name] = {"max_abs_logit_diff": worst, "same_label": f"{agree}/{len(ours_paths)}"}
        ok = ok and worst < TOLERANCE and agree == len(ours_paths)
    return results, ok


def main():
    mode, adapter_dir, merged_dir, *ours = sys.argv[1:]
    if mode == "causal":
        results, ok = check_causal(adapter_dir, merged_dir, ours[0])
    elif mode == "seq-cls":
        results, ok = check_seq_cls(adapter_dir, merged_dir, ours)
    else:
        sys.exit(f"unknown mode {mode!r}; see the usage at the top of this file")
    results["ok"] = ok
    print(json.dumps({"mode": mode, **results}, ensure_ascii=False, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
