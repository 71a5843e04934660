#!/usr/bin/env python3
"""Writes a Hugging Face checkpoint of a real model's shape with synthetic weights, for timing
model loading and the first training step without downloading anything (no torch, no numpy).

  make_checkpoint.py OUT [--shape tinyllama|llama-8b] [--dtype bf16|f32] [--shard-gb N]

The weights repeat one block of random small values (|w| < 0.06), so the forward pass stays
finite; they carry no knowledge. Tokenizer files come from tests/interop/fixtures/tokenizers.
"""
import argparse
import json
import os
import random
import shutil
import struct

SHAPES = {
    # hidden, intermediate, layers, heads, kv heads, vocab, context
    "tinyllama": (2048, 5632, 22, 32, 4, 32000, 2048),
    "llama-8b": (4096, 14336, 32, 32, 8, 128256, 8192),
}


def tensors(shape):
    h, i, layers, heads, kv, vocab, _ = shape
    hd = h // heads
    yield "model.embed_tokens.weight", [vocab, h]
    for n in range(layers):
        p = f"model.layers.{n}."
        yield p + "input_layernorm.weight", [h]
        yield p + "self_attn.q_proj.weight", [heads * hd, h]
        yield p + "self_attn.k_proj.weight", [kv * hd, h]
        yield p + "self_attn.v_proj.weight", [kv * hd, h]
        yield p + "self_attn.o_proj.weight", [h, heads * hd]
        yield p + "post_attention_layernorm.weight", [h]
        yield p + "mlp.gate_proj.weight", [i, h]
        yield p + "mlp.up_proj.weight", [i, h]
        yield p + "mlp.down_proj.weight", [h, i]
    yield "model.norm.weight", [h]
    yield "lm_head.weight", [vocab, h]


def block(dtype, nbytes):
    rng = random.Random(7)
    if dtype == "f32":
        vals = [struct.pack("<f", rng.uniform(-0.06, 0.06)) for _ in range(nbytes // 4)]
    else:  # bf16: the top half of an f32
        vals = [struct.pack("<f", rng.uniform(-0.06, 0.06))[2:] for _ in range(nbytes // 2)]
    return b"".join(vals)


def write_file(path, items, dtype, pattern):
    size = 2 if dtype == "bf16" else 4
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in items:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16" if dtype == "bf16" else "F32", "shape": shape,
                        "data_offsets": [offset, offset + n * size]}
        offset += n * size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in items:
            left = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            while left:
                chunk = pattern[:left]
                f.write(chunk)
                left -= len(chunk)
    return offset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", default="tinyllama", choices=SHAPES)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    ap.add_argument("--shard-gb", type=float, default=0, help="shard size; 0 = one file")
    a = ap.parse_args()
    shape = SHAPES[a.shape]
    h, i, layers, heads, kv, vocab, ctx = shape
    os.makedirs(a.out, exist_ok=True)
    pattern = block(a.dtype, 1 << 20)
    items = list(tensors(shape))
    size = 2 if a.dtype == "bf16" else 4
    shards, current, current_bytes = [], [], 0
    limit = a.shard_gb * 1e9 if a.shard_gb > 0 else float("inf")
    for name, shp in items:
        n = size
        for d in shp:
            n *= d
        if current and current_bytes + n > limit:
            shards.append(current)
            current, current_bytes = [], 0
        current.append((name, shp))
        current_bytes += n
    shards.append(current)
    total = 0
    if len(shards) == 1:
        total = write_file(os.path.join(a.out, "model.safetensors"), shards[0], a.dtype, pattern)
    else:
        weight_map = {}
        for k, shard in enumerate(shards):
            fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
            total += write_file(os.path.join(a.out, fname), shard, a.dtype, pattern)
            weight_map.update({name: fname for name, _ in shard})
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
                  open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": h,
              "intermediate_size": i, "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv, "vocab_size": vocab, "max_position_embeddings": ctx,
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
              "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
              "torch_dtype": "bfloat16" if a.dtype == "bf16" else "float32"}
    json.dump(config, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    here = os.path.dirname(os.path.abspath(__file__))
    tok = os.path.join(here, "..", "tests", "interop", "fixtures", "tokenizers", "llama2_sp")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok, f), a.out)
    print(f"{a.out}: {a.shape} {a.dtype}, {total / 1e9:.2f} GB in {len(shards)} file(s)")


if __name__ == "__main__":
    main()
