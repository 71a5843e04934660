#!/usr/bin/env python3
"""The reference for bench/gpu_bench.sh: LoRA training steps of a randomly initialised Llama in
Hugging Face transformers + PEFT, timed with CUDA events, one JSON line on stdout.

  hf_peft_step.py --shape tinyllama --batch 8 --seq 1024 [--steps 20] [--warmup 5]
                  [--r 16] [--alpha 32] [--targets q_proj,v_proj] [--checkpointing]
                  [--no-autocast] [--loss-trace N] [--seed S]
  hf_peft_step.py --write-config DIR --shape S   # DIR/config.json, the folder deeptune-cli reads
  hf_peft_step.py --flops --shape S --batch B --seq T   # the FLOP count the MFU uses, no GPU

The recipe is what a user of transformers' Trainer gets with a bf16 checkpoint and bf16=True:
bf16 weights, autocast to bf16 (PEFT keeps LoRA weights in fp32), SDPA attention, fused AdamW.
Dimension names: B batch, T sequence, h hidden, V vocabulary, L layers, r LoRA rank.
Left out: data loading, tokenisation, padding, gradient accumulation and clipping, schedulers;
the batches are random token ids (labels = input ids), drawn before the timed loop.
The model-building and training code needs torch; --write-config and --flops do not.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

# One definition of each shape, shared with deeptune-cli through --write-config.
SHAPES = {
    # TinyLlama-1.1B; max_position 4096 so that the 4 x 4096 configuration fits.
    "tinyllama": dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32,
                      num_key_value_heads=4, intermediate_size=5632, vocab_size=32000,
                      rope_theta=10000.0, rms_norm_eps=1e-5, max_position_embeddings=4096,
                      bos_token_id=1, eos_token_id=2),
    # The llama2.c "110M" model's shape with Llama 2's vocabulary.
    "llama110m": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                      num_key_value_heads=12, intermediate_size=2048, vocab_size=32000,
                      rope_theta=10000.0, rms_norm_eps=1e-5, max_position_embeddings=4096,
                      bos_token_id=1, eos_token_id=2),
    # Llama-3-8B (no rope scaling: Llama 3.0, not 3.1).
    "llama8b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                    num_key_value_heads=8, intermediate_size=14336, vocab_size=128256,
                    rope_theta=500000.0, rms_norm_eps=1e-5, max_position_embeddings=8192,
                    bos_token_id=128000, eos_token_id=128001),
}

# The H200's bf16 dense matrix rate as measured on this workplace's machines (KINDS.md,
# nvidia-h200: an 8192^3 bf16 product through PyTorch ran at 788 TFLOP/s, and 769-798 on
# Firecracker), not the datasheet's 990: MFU against what a matrix product reaches there.
PEAK_FLOPS = 790e12


def config_dict(shape):
    s = SHAPES[shape]
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **s,
            "head_dim": s["hidden_size"] // s["num_attention_heads"], "hidden_act": "silu",
            "attention_bias": False, "mlp_bias": False, "initializer_range": 0.02,
            "tie_word_embeddings": False, "torch_dtype": "bfloat16"}


def write_config(folder, shape):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config_dict(shape), f, indent=2)
        f.write("\n")


def module_dims(s):
    """(in, out) features of each Linear of one decoder layer."""
    h, i = s["hidden_size"], s["intermediate_size"]
    hd = h // s["num_attention_heads"]
    q, kv = s["num_attention_heads"] * hd, s["num_key_value_heads"] * hd
    return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
            "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}


def flops_per_token(shape, seq, r, targets):
    """Model FLOPs of one LoRA training step per token (multiply-add = 2 FLOPs).

    forward  = 2 * (matmul weights of the layers + lm_head)       frozen, bf16
             + L * 4 * T * h / 2                                  QK^T and PV, causal half
             + L * sum over targets of 2 * r * (in + out)         LoRA A and B
    backward = 1 x the frozen matmuls (input gradients only: frozen weights get no weight gradient)
             + 2 x attention (dQ, dK, dV need four products of the forward's size)
             + 2 x LoRA (input and weight gradients)
    Recomputation (gradient checkpointing, flash attention's backward) is not model work and is
    not counted. The embedding is a lookup: no FLOPs. Norms, RoPE, SiLU, softmax: elementwise,
    left out (well under 1%).
    """
    s = SHAPES[shape]
    L, h, V = s["num_hidden_layers"], s["hidden_size"], s["vocab_size"]
    dims = module_dims(s)
    matmul = 2 * (L * sum(a * b for a, b in dims.values()) + h * V)
    attention = L * 4 * seq * h / 2
    lora = L * sum(2 * r * (dims[t][0] + dims[t][1]) for t in targets)
    forward = matmul + attention + lora
    backward = matmul + 2 * attention + 2 * lora
    return {"forward_matmul": matmul, "forward_attention": attention, "forward_lora": lora,
            "forward": forward, "backward": backward, "total": forward + backward}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--targets", default="q_proj,v_proj")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--checkpointing", action="store_true",
                    help="full recomputation of each decoder layer (non-reentrant)")
    ap.add_argument("--no-autocast", dest="autocast", action="store_false",
                    help="bf16 weights without autocast: PEFT then runs LoRA in fp32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loss-trace", type=int, default=0, metavar="N",
                    help="only train N steps from the seed and print their losses")
    ap.add_argument("--profile", metavar="TRACE",
                    help="after the timed steps, write a Chrome trace of 3 more steps "
                         "(bench/kernel_profile.py reads it)")
    ap.add_argument("--write-config", metavar="DIR", help="write DIR/config.json and exit")
    ap.add_argument("--flops", action="store_true", help="print the FLOP count and exit")
    a = ap.parse_args(argv)
    a.targets = [t for t in a.targets.split(",") if t]
    unknown = set(a.targets) - set(module_dims(SHAPES[a.shape]))
    if unknown:
        ap.error(f"--targets: no such Llama module: {','.join(sorted(unknown))}")
    if a.seq > SHAPES[a.shape]["max_position_embeddings"]:
        ap.error(f"--seq {a.seq} exceeds {a.shape}'s max_position_embeddings")
    if min(a.batch, a.seq, a.steps) < 1 or a.warmup < 0:
        ap.error("--batch, --seq and --steps must be at least 1, --warmup at least 0")
    return a


def build_model(a, torch):
    import peft
    import transformers

    cfg = transformers.LlamaConfig.from_dict(config_dict(a.shape))
    # The effective rope theta: transformers 5 keeps it in rope_parameters.
    theta = getattr(cfg, "rope_theta", None)
    if theta is None:
        theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta")
    if theta != SHAPES[a.shape]["rope_theta"]:
        raise RuntimeError(f"LlamaConfig dropped rope_theta: got {theta}")
    torch.manual_seed(a.seed)
    # Built on the GPU: an 8B model's random init on the CPU would take minutes.
    with torch.device("cuda"):
        try:  # transformers >= 4.56 names it dtype; older ones torch_dtype
            model = transformers.AutoModelForCausalLM.from_config(
                cfg, dtype=torch.bfloat16, attn_implementation="sdpa")
        except TypeError:
            model = transformers.AutoModelForCausalLM.from_config(
                cfg, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
    # No-ops where the arguments and the device context took effect, as they should.
    model.to(device="cuda", dtype=torch.bfloat16)
    attn = getattr(model.config, "_attn_implementation", None)
    if attn != "sdpa":
        raise RuntimeError(f"model built with attention {attn}, not sdpa")
    model.config.use_cache = False
    if a.checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        # Only the reentrant variant needs it; kept so a switch of variant stays correct.
        model.enable_input_require_grads()
    lora = peft.LoraConfig(r=a.r, lora_alpha=a.alpha, target_modules=a.targets, lora_dropout=0.0,
                           bias="none", task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lora)
    model.train()
    return model


def batches(a, vocab, count, torch):
    # Drawn on the CPU from a seeded generator: the same tokens whatever the GPU.
    g = torch.Generator().manual_seed(a.seed + 1)
    ids = torch.randint(0, vocab, (count, a.batch, a.seq), generator=g)  # (count, B, T)
    return ids.cuda()


def train(a):
    import torch
    import peft
    import transformers

    model = build_model(a, torch)
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    lora_dtypes = sorted({str(p.dtype) for p in params})
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0, fused=True)
    weights_bytes = torch.cuda.memory_allocated()

    count = a.loss_trace if a.loss_trace else a.warmup + a.steps + (3 if a.profile else 0)
    data = batches(a, SHAPES[a.shape]["vocab_size"], count, torch)

    def step(ids):  # ids: (B, T)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.autocast):
            # Only the loss is kept, as Trainer does: the bf16 logits are freed before backward.
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    if a.loss_trace:
        losses = [step(data[k]) for k in range(count)]
        print(json.dumps({"impl": "hf+peft", "shape": a.shape, "batch": a.batch, "seq": a.seq,
                          "seed": a.seed, "loss_trace": [float(x) for x in losses]}))
        return

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()  # peaks from here: weights + warm-up + timed steps
    for k in range(a.warmup):
        step(data[k])
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(a.steps)]
    losses = []
    wall = time.perf_counter()
    for k, (start, end) in enumerate(events):
        start.record()
        losses.append(step(data[a.warmup + k]))
        end.record()
    torch.cuda.synchronize()  # no host sync inside the loop: the GPU runs the steps back to back
    wall = time.perf_counter() - wall
    step_ms = [s.elapsed_time(e) for s, e in events]
    if a.profile:
        activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
        with torch.profiler.profile(activities=activities) as prof:
            for k in range(3):
                step(data[a.warmup + a.steps + k])
            torch.cuda.synchronize()
        prof.export_chrome_trace(a.profile)
    median_ms = statistics.median(step_ms)
    tokens = a.batch * a.seq
    flops = flops_per_token(a.shape, a.seq, a.r, a.targets)
    tokens_per_s = tokens / (median_ms / 1e3)
    losses = [float(x) for x in losses]
    result = {
        "impl": "hf+peft", "shape": a.shape, "batch": a.batch, "seq": a.seq, "steps": a.steps,
        "warmup": a.warmup, "checkpointing": a.checkpointing, "autocast": a.autocast,
        "r": a.r, "alpha": a.alpha, "targets": a.targets,
        "tokens_per_s": tokens_per_s, "step_ms": median_ms, "step_ms_all": step_ms,
        "wall_tokens_per_s": tokens * a.steps / wall,
        "peak_bytes": torch.cuda.max_memory_allocated(),
        "reserved_peak_bytes": torch.cuda.max_memory_reserved(),
        "peak_scope": "weights + warm-up + timed steps (peak reset after the model was built)",
        "weights_bytes": weights_bytes,
        "flops_per_token": flops["total"], "peak_flops": PEAK_FLOPS,
        "mfu": flops["total"] * tokens_per_s / PEAK_FLOPS,
        "trainable_params": trainable, "trainable_dtypes": lora_dtypes,
        "base_dtype": str(model.get_input_embeddings().weight.dtype),
        "attn_implementation": model.config._attn_implementation,
        "losses": losses, "finite": all(math.isfinite(x) for x in losses),
        "device": torch.cuda.get_device_name(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "peft": peft.__version__, "cuda": torch.version.cuda},
    }
    print(json.dumps(result))


def main(argv=None):
    a = parse_args(argv)
    if a.write_config:
        write_config(a.write_config, a.shape)
        return 0
    if a.flops:
        f = flops_per_token(a.shape, a.seq, a.r, a.targets)
        tokens = a.batch * a.seq
        print(json.dumps({"shape": a.shape, "batch": a.batch, "seq": a.seq, "per_token": f,
                          "per_step_total": f["total"] * tokens,
                          "ideal_step_ms": f["total"] * tokens / PEAK_FLOPS * 1e3}))
        return 0
    train(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
