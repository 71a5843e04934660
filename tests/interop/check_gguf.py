#!/usr/bin/env python3
"""Checks a DeepTune GGUF export outside DeepTune (run on the GPU machine, which has transformers).

Reads the file with a small reader written here from the GGUF spec (not DeepTune's), dequantises
every tensor, undoes llama.cpp's q/k row permutation for the `llama` architecture, loads the
weights into the transformers model of the merged export's config.json, and compares its
next-token logits with DeepTune's own (`deeptune-cli logits PROJECT:RUN`). When the `gguf` Python
package is installed, its GGUFReader must read the file too.

  check_gguf.py CLI PROJECT RUN MERGED_DIR GGUF_FILE TYPE
      TYPE: F32, F16, BF16 or Q8_0 — F16 must agree within 1e-2, Q8_0 on the top-1 token at 99%
      of the positions; every type's tokens, token types and special ids are compared with the
      merged export's tokenizer.
Prints one JSON line; exits 1 when a check fails.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

PROMPTS = ["The quick brown fox jumps over the lazy dog. " * 3,
           "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1)",
           "Question: What is the capital of France?\nAnswer: Paris. Question: And of Italy?"]


class Gguf:
    """GGUF v3: header, key/values, tensor infos, aligned data (ggml docs/gguf.md)."""
    SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
               11: "<q", 12: "<d"}

    def __init__(self, path):
        self.buf = open(path, "rb").read()
        self.pos = 0
        assert self.buf[:4] == b"GGUF", "bad magic"
        self.pos = 4
        version, n_tensors, n_kv = self.take("<I"), self.take("<Q"), self.take("<Q")
        assert version == 3, version
        self.kv = {}
        for _ in range(n_kv):
            key = self.string()
            self.kv[key] = self.value(self.take("<I"))
        self.infos = []
        for _ in range(n_tensors):
            name = self.string()
            dims = [self.take("<Q") for _ in range(self.take("<I"))]
            self.infos.append((name, dims[::-1], self.take("<I"), self.take("<Q")))
        align = self.kv.get("general.alignment", 32)
        self.data = (self.pos + align - 1) // align * align

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(self.SCALARS[t])

    def tensor(self, name):
        for n, shape, t, off in self.infos:
            if n != name:
                continue
            count = int(np.prod(shape))
            at = self.data + off
            if t == 0:
                x = np.frombuffer(self.buf, np.float32, count, at)
            elif t == 1:
                x = np.frombuffer(self.buf, np.float16, count, at).astype(np.float32)
            elif t == 30:
                x = (np.frombuffer(self.buf, np.uint16, count, at).astype(np.uint32) << 16).view(np.float32)
            elif t == 8:
                blocks = np.frombuffer(self.buf, np.uint8, count // 32 * 34, at).reshape(-1, 34)
                d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
                q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
                x = (q * d).reshape(-1)
            else:
                raise ValueError(f"{name}: type {t}")
            return torch.from_numpy(x.copy()).reshape(shape)
        raise KeyError(name)


def unpermute(w, heads):
    rows = w.shape[0]
    d = rows // heads
    return w.reshape(heads, d // 2, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def hf_state(g, cfg):
    arch = g.kv["general.architecture"]
    permuted = arch == "llama"
    out = {"model.embed_tokens.weight": g.tensor("token_embd.weight"),
           "model.norm.weight": g.tensor("output_norm.weight")}
    names = {n for n, *_ in g.infos}
    if "output.weight" in names:
        out["lm_head.weight"] = g.tensor("output.weight")
    for i in range(cfg.num_hidden_layers):
        b, l = f"blk.{i}.", f"model.layers.{i}."
        pairs = {"attn_norm.weight": "input_layernorm.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
                 "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
                 "attn_output.weight": "self_attn.o_proj.weight", "attn_output.bias": "self_attn.o_proj.bias",
                 "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
                 "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
                 "ffn_down.weight": "mlp.down_proj.weight"}
        for gn, hn in pairs.items():
            if b + gn in names:
                out[l + hn] = g.tensor(b + gn)
        for gn, hn, heads in (("attn_q", "q_proj", cfg.num_attention_heads), ("attn_k", "k_proj", cfg.num_key_value_heads)):
            for kind in ("weight", "bias"):
                if f"{b}{gn}.{kind}" in names:
                    w = g.tensor(f"{b}{gn}.{kind}")
                    out[f"{l}self_attn.{hn}.{kind}"] = unpermute(w, heads) if permuted else w
    return out


def main():
    cli, project, run, merged, path, qtype = sys.argv[1:7]
    g = Gguf(path)
    result = {"file": os.path.basename(path), "type": qtype, "architecture": g.kv["general.architecture"],
              "tensors": len(g.infos), "failures": []}
    fail = result["failures"].append
    try:
        import gguf as gguf_package  # the llama.cpp project's reader, when installed
        reader = gguf_package.GGUFReader(path)
        result["gguf_package"] = f"read {len(reader.tensors)} tensors, {len(reader.fields)} fields"
    except ImportError:
        result["gguf_package"] = "not installed"
    except Exception as e:  # noqa: BLE001 - any error of the reference reader is a failure
        fail(f"gguf package: {e}")

    cfg = AutoConfig.from_pretrained(merged)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
    state = hf_state(g, cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not (m == "lm_head.weight" and cfg.tie_word_embeddings)]
    if missing or unexpected:
        fail(f"state dict: missing {missing[:3]}, unexpected {unexpected[:3]}")

    tok = AutoTokenizer.from_pretrained(merged) if os.path.exists(os.path.join(merged, "tokenizer.json")) else None
    if tok is not None:
        tokens = g.kv["tokenizer.ggml.tokens"]
        vocab = tok.get_vocab()
        wrong = [t for t, i in vocab.items() if i < len(tokens) and tokens[i] != t]
        if wrong:
            fail(f"{len(wrong)} tokens differ from tokenizer.json, e.g. {wrong[:3]}")
        if tok.eos_token_id is not None and g.kv.get("tokenizer.ggml.eos_token_id") != tok.eos_token_id:
            fail("eos id differs")
        if tok.bos_token_id is not None and g.kv.get("tokenizer.ggml.bos_token_id") != tok.bos_token_id:
            fail("bos id differs")
        ids_list = [tok(p)["input_ids"] for p in PROMPTS]
    else:
        # A preset's byte tokenizer: BOS (257) + the UTF-8 bytes.
        ids_list = [[257] + list(p.encode()) for p in PROMPTS]

    worst, agree, total = 0.0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for ids in ids_list:
            out = os.path.join(tmp, "l.safetensors")
            subprocess.run([cli, "logits", f"{project}:{run}", "--tokens", ",".join(map(str, ids)), "--out", out],
                           check=True, stdout=subprocess.DEVNULL)
            ours = load_file(out)["logits"]
            with torch.no_grad():
                theirs = model(torch.tensor([ids])).logits[0].float()
            worst = max(worst, float((theirs - ours).abs().max()))
            agree += int((theirs.argmax(-1) == ours.argmax(-1)).sum())
            total += len(ids)
    result.update(max_abs_logit_diff=worst, top1_agreement=agree / total, positions=total)
    if qtype in ("F32",) and worst > 1e-4:
        fail(f"F32 logits differ by {worst}")
    if qtype == "F16" and worst > 1e-2:
        fail(f"F16 logits differ by {worst} > 1e-2")
    if qtype == "Q8_0" and agree / total < 0.99:
        fail(f"Q8_0 top-1 agreement {agree / total:.3f} < 0.99")
    result["passed"] = not result["failures"]
    print(json.dumps(result))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
