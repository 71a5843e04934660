#!/usr/bin/env bash
# Proves the GPU build on the GPU machine (device tool), in one call: builds the engine,
# deeptune-cli and the engine tests against that machine's LibTorch (PyTorch 2.x + CUDA), runs
# every test, trains the sample on the GPU, and checks the PEFT and merged exports in Python's
# transformers + PEFT. Logs land in $OUT.
#
# The machine has no Qt and no sqlite3.h: Debian's packages travel unpacked in .carry/debs
# (tests/gpu/prepare_carry.sh fetches them here), so call the device with carry [".carry"] and:
#   bash tests/gpu/run_on_device.sh
set -uo pipefail
OUT=${OUT:-/tmp/deeptune-gpu}
mkdir -p "$OUT"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deb=/tmp/deeptune-deb
status=0
step() { echo; echo "=== $* ==="; }

{
  step "machine"
  nvidia-smi -L
  nvcc --version | tail -n 1
  python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__, "| peft", peft.__version__)'

  step "unpack Debian packages (Qt Core/Test, sqlite3.h) into $deb"
  mkdir -p "$deb"
  for f in .carry/debs/*.deb; do dpkg -x "$f" "$deb"; done
  export LD_LIBRARY_PATH=$deb/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

  step "configure"
  export TORCH_CUDA_ARCH_LIST=9.0   # Hopper; LibTorch ignores CMAKE_CUDA_ARCHITECTURES
  torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPTUNE_BUILD_GUI=OFF \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deb/usr/lib/x86_64-linux-gnu/cmake;$deb/usr" \
    -DSQLite3_INCLUDE_DIR=$deb/usr/include \
    -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -n 1) \
    -DCMAKE_CUDA_COMPILER=$(command -v nvcc) || status=1

  step "build"
  start=$SECONDS
  ninja -C build-gpu -k 0 -j "$(nproc)" || status=1
  echo "clean build: $((SECONDS - start)) s on $(nproc) cores"

  step "tests"
  if ! (cd build-gpu && ctest --output-on-failure -j 4); then
    status=1
    # No gdb on that machine; cuda-gdb debugs host code too: a backtrace of each failed suite.
    for t in $(cd build-gpu && ctest --rerun-failed -N | sed -n 's/.*Test *#[0-9]*: \(tst_[a-z_]*\).*/\1/p'); do
      exe=$(find build-gpu/tests -name "$t" -type f | head -n 1)
      echo "--- backtrace of $t"
      cuda-gdb -batch -ex run -ex bt "$exe" 2>&1 | tail -n 40
    done
  fi

  step "benchmark: gradient norm, LibTorch vs fused kernel"
  build-gpu/tests/gpu/bench_grad_norm || status=1

  step "sample on the GPU"
  cli=build-gpu/engine/deeptune-cli
  p=/tmp/deeptune-sample/demo.dtproj
  rm -rf /tmp/deeptune-sample
  $cli init $p --sample
  time $cli train $p --config pretrain --name base --set device=cuda || status=1
  time $cli train $p --name lora-fr --set device=cuda || status=1
  time $cli train $p --name lora-fr-bf16 --set device=cuda --set train.precision=bf16 || status=1
  $cli runs $p
  $cli generate $p lora-fr --prompt "Écris 2024-03-01 en toutes lettres : " || status=1

  step "exports in transformers + PEFT"
  s=/tmp/deeptune-sample
  # check RUN MODE ARGS...: export RUN as PEFT and merged, then compare in transformers + PEFT.
  check() {
    local run=$1 mode=$2
    shift 2
    $cli export $p $run --format peft --out $s/$run-peft || status=1
    $cli export $p $run --format hf --out $s/$run-merged || status=1
    if [ "$mode" = causal ]; then
      $cli generate $p $run --prompt "$1" --device cpu --json > $s/$run-ours.json || status=1
      python3 tests/interop/check_export.py causal $s/$run-peft $s/$run-merged $s/$run-ours.json || status=1
    else
      local i=0 files=()
      for text in "$@"; do
        i=$((i + 1))
        $cli classify $p $run --text "$text" --json > $s/$run-ours-$i.json || status=1
        files+=($s/$run-ours-$i.json)
      done
      python3 tests/interop/check_export.py seq-cls $s/$run-peft $s/$run-merged "${files[@]}" || status=1
    fi
  }
  check lora-fr causal "Date 1999-12-25 en lettres : "
  # Temperature attention is not a transformers feature: the export folds 1/T into q_proj.
  $cli train $p --name lora-temperature --set device=cuda --set train.max_steps=150 \
    --set attention.kind=temperature --set attention.temperature=0.7 || status=1
  check lora-temperature causal "Écris 2024-03-01 en toutes lettres : "
  # Classification: PEFT's SEQ_CLS adapter with the score head as modules_to_save.
  $cli train $p --config tickets-classifier --name tickets --set device=cuda || status=1
  check tickets seq-cls "My package never arrived" "I was charged twice this month" \
    "The app crashes when I log in" "Please change the email on my account"
  cp $s/lora-fr-peft/adapter_config.json "$OUT/" 2>/dev/null

  step "Hugging Face models: logits, LoRA, PEFT and merged exports against transformers"
  python3 tests/interop/check_models.py check $cli tests/interop/fixtures/models /tmp/deeptune-models \
    || status=1

  step "Hugging Face tokenizers: fixtures made afresh here, compared by tst_tokenizer"
  python3 tests/interop/make_tokenizer_fixtures.py /tmp/deeptune-tok > /dev/null \
    && diff -r -q /tmp/deeptune-tok tests/interop/fixtures/tokenizers && echo "fixtures reproduce"
  build-gpu/tests/engine/bench_tokenizer tests/interop/fixtures/tokenizers 2>&1 | tail -n 12

  step "1.1B bf16 checkpoint: time from 'deeptune-cli train' to step 1, peak host memory"
  python3 bench/make_checkpoint.py /tmp/tl-bf16 --shape tinyllama --dtype bf16
  tp=/tmp/deeptune-tl/p.dtproj
  rm -rf /tmp/deeptune-tl && mkdir -p /tmp/deeptune-tl
  python3 -c 'import json
with open("/tmp/deeptune-tl/d.jsonl","w") as f:
    for i in range(64): f.write(json.dumps({"text": "maintenance note %d: " % i + "pump seal " * 60})+"\n")'
  $cli init $tp && $cli data add $tp /tmp/deeptune-tl/d.jsonl --name d
  for precision in bf16 fp32; do
    python3 tests/interop/time_first_step.py $cli train $tp --name tl-$precision --json \
      --set model.source=/tmp/tl-bf16 --set device=cuda --set train.precision=$precision \
      --set train.max_steps=3 --set train.warmup_steps=0 --set train.batch_size=8 --set train.micro_batch_size=8 \
      --set data.max_length=512 || status=1
  done

  step "done: status $status"
} 2>&1 | tee "$OUT/gpu.log"
exit $status
