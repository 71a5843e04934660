#!/usr/bin/env bash
# The proof of issue 9 on the GPU machine, in one device call (carry [".carry"]):
#   bash tests/interop/exports_on_device.sh
# Builds the CLI and the export/generation suites against that machine's LibTorch and runs them;
# for each architecture (llama with llama3 RoPE, mistral, qwen2, qwen3, and a preset) trains a LoRA
# run on the GPU and exports it as peft, hf and gguf F16 / Q8_0 — every export checked by
# DeepTune's own check, then peft and hf reloaded in transformers/peft (check_export.py) and the
# GGUF files read by an independent reader into transformers (check_gguf.py). Then a 1.1B bf16
# checkpoint: GGUF export time and peak memory, and greedy generation tokens/s against Hugging
# Face `generate` on the same shapes. Logs land in $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/deeptune-exports}
mkdir -p "$OUT"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deb=/tmp/deeptune-deb
status=0
step() { echo; echo "=== $* === ($SECONDS s)"; }
# Runs a command and reports its wall time and the peak resident memory of its process tree.
measure() { python3 -c '
import resource, subprocess, sys, time
t = time.monotonic(); code = subprocess.call(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
print(f"[measure] {time.monotonic() - t:.1f} s, peak RSS {peak:.2f} GiB, exit {code}", file=sys.stderr)
sys.exit(code)' "$@"; }

{
  step "machine"
  nvidia-smi -L
  python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "| transformers", transformers.__version__, "| peft", peft.__version__)'
  python3 -c 'import gguf; print("gguf package", gguf.__version__)' 2>/dev/null || echo "gguf package: not installed"

  step "unpack Debian packages into $deb"
  mkdir -p "$deb"
  for f in .carry/debs/*.deb; do dpkg -x "$f" "$deb"; done
  export LD_LIBRARY_PATH=$deb/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

  step "configure and build"
  export TORCH_CUDA_ARCH_LIST=9.0
  torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPTUNE_BUILD_GUI=OFF \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deb/usr/lib/x86_64-linux-gnu/cmake;$deb/usr" \
    -DSQLite3_INCLUDE_DIR=$deb/usr/include \
    -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -n 1) \
    -DCMAKE_CUDA_COMPILER=$(command -v nvcc) > "$OUT/configure.log" 2>&1 || { status=1; tail -n 30 "$OUT/configure.log"; }
  targets="deeptune-cli tst_export_check tst_generate tst_gguf tst_safetensors"
  [ "${SPEED_ONLY:-0}" = 1 ] && targets=deeptune-cli
  ninja -C build-gpu -k 0 -j "$(nproc)" $targets \
    > "$OUT/build.log" 2>&1 || { status=1; grep -E "error|FAILED" "$OUT/build.log" | head -n 30; }

  # SPEED_ONLY=1: only the 1.1B generation comparison (a second call when the first ran out of time).
  speed_only=${SPEED_ONLY:-0}
  step "suites"
  [ $speed_only = 1 ] || (cd build-gpu && ctest --output-on-failure -R "tst_(export_check|generate|gguf|safetensors)") || status=1

  cli=$root/build-gpu/engine/deeptune-cli
  w=/tmp/deeptune-x
  rm -rf $w && mkdir -p $w
  python3 -c 'import json
with open("/tmp/deeptune-x/d.jsonl","w") as f:
    for i in range(64): f.write(json.dumps({"prompt": "Count %d: " % i, "response": "%d %d %d" % (i+1, i+2, i+3)})+"\n")'
  p=$w/p.dtproj
  $cli init $p > /dev/null && $cli data add $p $w/d.jsonl --name d --prompt prompt --response response > /dev/null

  fixtures=$root/tests/interop/fixtures/models
  models="preset llama_untied_llama3rope mistral qwen2_sharded qwen3"
  [ $speed_only = 1 ] && models=""
  for m in $models; do
    step "$m: LoRA on the GPU, then peft / hf / gguf F16 / gguf Q8_0"
    src=$fixtures/$m
    [ $m = preset ] && src=preset:tiny
    $cli train $p --name $m --set model.source=$src --set device=cuda --set train.max_steps=40 \
      --set train.warmup_steps=2 --set data.max_length=64 > /dev/null || { status=1; continue; }
    $cli export $p $m --format peft --out $w/$m-peft | tail -n 2 || status=1
    $cli export $p $m --format hf --out $w/$m-hf | tail -n 2 || status=1
    for q in F16 Q8_0; do
      $cli export $p $m --format gguf --quant $q --out $w/$m-$q.gguf --json > $w/$m-$q.json || status=1
      python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["check"]
print("ours:", sys.argv[2], "passed" if c["passed"] else "FAILED", "max|dlogit| %.3g (allowed %.3g), top-1 %.1f%%, worst tensor %s" % (c["max_abs_diff"], c["tolerance"], 100*c["top1_agreement"], max(c["tensors"], key=lambda t: t["max_error"]/t["bound"] if t["bound"] else 0)["name"]), "|", c["tokenizer"][:90], c["failures"])' $w/$m-$q.json $q
      python3 tests/interop/check_gguf.py $cli $p $m $w/$m-hf $w/$m-$q.gguf $q || status=1
    done
    if [ $m != preset ]; then
      $cli generate $p $m --prompt "Count 7: " --device cpu --max-tokens 8 --json > $w/$m-ours.json 2>/dev/null || status=1
      python3 tests/interop/check_export.py causal $w/$m-peft $w/$m-hf $w/$m-ours.json || status=1
    fi
  done

  step "1.1B bf16 (TinyLlama's shape, synthetic weights): GGUF export and generation speed"
  python3 bench/make_checkpoint.py /tmp/tl-bf16 --shape tinyllama --dtype bf16 > /dev/null
  $cli train $p --name tl --set model.source=/tmp/tl-bf16 --set device=cuda --set train.precision=bf16 \
    --set train.max_steps=4 --set train.warmup_steps=0 --set train.batch_size=4 --set train.micro_batch_size=4 \
    --set data.max_length=64 > /dev/null || status=1
  if [ $speed_only = 1 ]; then
    $cli export $p tl --format hf --no-check --out $w/tl-hf | tail -n 1 || status=1
  else
    for q in Q8_0 F16; do
      measure $cli export $p tl --format gguf --quant $q --out $w/tl-$q.gguf | tail -n 4 || status=1
    done
    measure $cli export $p tl --format hf --out $w/tl-hf | tail -n 3 || status=1
    measure $cli export $p tl --format gguf --quant Q8_0 --no-check --out $w/tl-nocheck.gguf | tail -n 2 || status=1
    ls -la $w/*.gguf | awk '{print $5, $9}'
    python3 tests/interop/check_gguf.py $cli $p tl $w/tl-hf $w/tl-Q8_0.gguf Q8_0 || status=1
  fi
  for n in 128 512; do
    python3 tests/interop/bench_generate_hf.py $cli $p tl $w/tl-hf --new $n --prompt-tokens 64 --repeat 3 || status=1
  done

  step "done: status $status"
} 2>&1 | tee "$OUT/exports.log"
exit $status
