#!/usr/bin/env python3
"""Hugging Face models in DeepTune, checked against transformers and PEFT (GPU machine's Python).

  check_models.py make-fixtures TOKENIZERS OUT
      transformers creates and saves small random models of every architecture we support (tied
      and untied embeddings, grouped-query attention, q/k/v biases, q/k norms, head_dim != H/nh,
      each RoPE scaling type, BF16 weights, sharded files), each with a tokenizer from TOKENIZERS
      (tests/interop/fixtures/tokenizers), and records transformers' fp32 logits for a probe
      sequence (expected_logits.safetensors, probe.json). The CPU suite tst_hf_models_interop
      compares our forward pass with these files.
  check_models.py check CLI FIXTURES WORK
      For every fixture: our logits (deeptune-cli logits) against transformers' (max abs diff
      <= 1e-4); then a few LoRA steps in DeepTune on the model, and PEFT-on-transformers and
      transformers-on-the-merged-export must reproduce our logits. Prints one table row per model
      and exits non-zero on any failure.
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

PROBE = [3, 17, 42, 99, 7, 256, 511, 12, 5, 64, 128, 300, 1, 2, 77, 600, 33, 250, 8, 90]

# name: (transformers class prefix, tokenizer family, config overrides, save options)
BASE = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
            rope_theta=10000.0, initializer_range=0.05)
VARIANTS = {
    "llama_tied": ("Llama", "llama2_sp", dict(tie_word_embeddings=True), {}),
    "llama_untied_llama3rope": ("Llama", "llama3", dict(
        tie_word_embeddings=False, num_key_value_heads=1,
        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                          high_freq_factor=4.0, original_max_position_embeddings=32)), {}),
    "llama_biases_linear_hd": ("Llama", "llama2_sp", dict(
        attention_bias=True, mlp_bias=True, head_dim=32,
        rope_scaling=dict(rope_type="linear", factor=2.0)), {}),
    "mistral": ("Mistral", "mistral_sp", dict(head_dim=16, sliding_window=None,
                                                  tie_word_embeddings=False), {}),
    "qwen2_yarn": ("Qwen2", "qwen2", dict(
        tie_word_embeddings=True,
        rope_scaling=dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=32)), {}),
    "qwen3": ("Qwen3", "qwen2", dict(head_dim=32, tie_word_embeddings=False,
                                     rope_theta=1000000.0), {}),
    "llama_bf16": ("Llama", "llama3", dict(tie_word_embeddings=False), dict(dtype=torch.bfloat16)),
    "qwen2_sharded": ("Qwen2", "deepseek_v3", dict(tie_word_embeddings=False),
                      dict(max_shard_size="60KB")),
}


def vocab_size(tokenizer_dir):
    tok = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8"))
    ids = list(tok["model"]["vocab"].values()) + [a["id"] for a in tok.get("added_tokens", [])]
    return max(ids) + 1


def make_config(prefix, overrides, vocab):
    import transformers
    cls = getattr(transformers, prefix + "Config")
    kwargs = dict(BASE)
    kwargs.update(overrides)
    kwargs["vocab_size"] = vocab
    rope = kwargs.pop("rope_scaling", None)
    if rope is not None:
        try:  # transformers 5 nests RoPE settings in rope_parameters
            params = dict(rope)
            params["rope_theta"] = kwargs["rope_theta"]
            cfg = cls(rope_parameters=params, **kwargs)
        except TypeError:
            cfg = cls(rope_scaling=rope, **kwargs)
    else:
        cfg = cls(**kwargs)
    return cfg


def make_fixtures(tokenizers, out):
    import transformers
    torch.manual_seed(1234)
    os.makedirs(out, exist_ok=True)
    for name, (prefix, family, overrides, save) in VARIANTS.items():
        folder = os.path.join(out, name)
        shutil.rmtree(folder, ignore_errors=True)
        tok_dir = os.path.join(tokenizers, family)
        cfg = make_config(prefix, overrides, vocab_size(tok_dir))
        model = getattr(transformers, prefix + "ForCausalLM")(cfg).eval()
        with torch.no_grad():  # random norms and biases too, so a missed one shows in the logits
            for n, p in model.named_parameters():
                if n.endswith("norm.weight"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                elif n.endswith("bias"):
                    p.copy_(0.1 * torch.randn_like(p))
        dtype = save.get("dtype", torch.float32)
        model.to(dtype)
        kwargs = {"max_shard_size": save["max_shard_size"]} if "max_shard_size" in save else {}
        model.save_pretrained(folder, safe_serialization=True, **kwargs)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(tok_dir, f), folder)
        # The reference: transformers in fp32 (eager attention) on the weights as saved.
        ref = getattr(transformers, prefix + "ForCausalLM").from_pretrained(
            folder, dtype=torch.float32, attn_implementation="eager").eval()
        probe = [t % cfg.vocab_size for t in PROBE]
        with torch.no_grad():
            logits = ref(torch.tensor([probe])).logits[0].float().contiguous()
        save_file({"logits": logits}, os.path.join(folder, "expected_logits.safetensors"))
        json.dump({"tokens": probe, "transformers": transformers.__version__},
                  open(os.path.join(folder, "probe.json"), "w"))
        files = sorted(os.listdir(folder))
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in files)
        print(f"{name}: {prefix}, vocab {cfg.vocab_size}, {size // 1024} KB, files {files}")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return r.stdout


def our_logits(cli, model, tokens, out, adapter=None):
    cmd = [cli, "logits", model, "--tokens", ",".join(map(str, tokens)), "--out", out]
    if adapter:
        cmd += ["--adapter", adapter]
    run(cmd)
    return load_file(out)["logits"]


def check(cli, fixtures, work):
    import transformers
    from peft import PeftModel
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for i in range(64):
            f.write(json.dumps({"text": f"Sample {i}: the quick brown fox jumps over {i * 7} lazy "
                                        f"dogs. 日本語とテキスト {i}."}, ensure_ascii=False) + "\n")
    failures = 0
    rows = []
    for name in sorted(os.listdir(fixtures)):
        folder = os.path.join(fixtures, name)
        if not os.path.exists(os.path.join(folder, "probe.json")):
            continue
        probe = json.load(open(os.path.join(folder, "probe.json")))["tokens"]
        expected = load_file(os.path.join(folder, "expected_logits.safetensors"))["logits"]
        row = {"model": name}
        try:
            ours = our_logits(cli, folder, probe, os.path.join(work, name + "-base.safetensors"))
            row["base_vs_transformers"] = (ours - expected).abs().max().item()
            proj = os.path.join(work, name, "p.dtproj")
            shutil.rmtree(os.path.dirname(proj), ignore_errors=True)
            os.makedirs(os.path.dirname(proj))
            run([cli, "init", proj])
            run([cli, "data", "add", proj, data, "--name", "d", "--text", "text"])
            run([cli, "train", proj, "--name", "lora", "--set", "model.source=" + folder,
                 "--set", "data.dataset=d", "--set", "train.max_steps=6",
                 "--set", "train.batch_size=8", "--set", "train.micro_batch_size=8",
                 "--set", "train.warmup_steps=0", "--set", "train.lr=0.01",
                 "--set", "data.max_length=64", "--set", "lora.dropout=0",
                 "--set", "lora.targets=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"])
            tuned = our_logits(cli, proj + ":lora", probe, os.path.join(work, name + "-tuned.st"))
            row["adapter_changed"] = (tuned - ours).abs().max().item()
            peft_dir, merged_dir = os.path.join(work, name, "peft"), os.path.join(work, name, "hf")
            run([cli, "export", proj, "lora", "--format", "peft", "--out", peft_dir])
            run([cli, "export", proj, "lora", "--format", "hf", "--out", merged_dir])
            cls = getattr(transformers, "AutoModelForCausalLM")
            base = cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
            peft = PeftModel.from_pretrained(base, peft_dir).eval()
            with torch.no_grad():
                p = peft(torch.tensor([probe])).logits[0].float()
            row["peft_vs_ours"] = (p - tuned).abs().max().item()
            merged = cls.from_pretrained(merged_dir, dtype=torch.float32,
                                         attn_implementation="eager").eval()
            with torch.no_grad():
                m = merged(torch.tensor([probe])).logits[0].float()
            row["merged_vs_ours"] = (m - tuned).abs().max().item()
            row["merged_dtype"] = json.load(open(os.path.join(merged_dir, "config.json"))).get(
                "torch_dtype")
            bf16 = row["merged_dtype"] == "bfloat16"
            ok = (row["base_vs_transformers"] <= 1e-4 and row["peft_vs_ours"] <= 1e-4 and
                  row["merged_vs_ours"] <= (5e-2 if bf16 else 1e-4) and row["adapter_changed"] > 1e-3)
        except Exception as e:  # one model's failure must not hide the others'
            row["error"] = str(e)
            ok = False
        row["ok"] = ok
        failures += not ok
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| model | ours vs transformers | adapter changed | PEFT vs ours | merged vs ours | ok |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        f = lambda k: f"{r[k]:.2e}" if isinstance(r.get(k), float) else str(r.get(k, "-"))
        print(f"| {r['model']} | {f('base_vs_transformers')} | {f('adapter_changed')} | "
              f"{f('peft_vs_ours')} | {f('merged_vs_ours')} ({r.get('merged_dtype', '-')}) | "
              f"{'yes' if r['ok'] else 'NO ' + r.get('error', '')[:200]} |")
    print(f"{len(rows) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make-fixtures":
        make_fixtures(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        print(__doc__)
        sys.exit(2)
