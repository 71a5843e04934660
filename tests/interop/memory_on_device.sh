#!/usr/bin/env bash
# The GPU proof of issue 10 (memory), in one device call (carry [".carry"]):
#   bash tests/interop/memory_on_device.sh
# Builds the CLI and tst_gpu_cuda against that machine's LibTorch, then:
#  - tst_gpu_cuda: the forecast against the caching allocator's peak for nine configurations
#    (presets up to TinyLlama-1.1B's shape, micro-batch 1-32, sequence 256-4096, fp32/bf16,
#    recomputation off/full/selective, LoRA and full training: each within 3%, median within 1.5%),
#    and a real CUDA out-of-memory that halves the micro-batch and trains on;
#  - bench/forecast_calibration.sh on CUDA (forecast, measured, error per configuration);
#  - nvidia-smi's per-process total beside the allocator's reserved, for the outside_torch
#    and allocator_cache categories.
# Logs land in $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/deeptune-memory}
mkdir -p "$OUT"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deb=/tmp/deeptune-deb
status=0
step() { echo; echo "=== $* === ($SECONDS s)"; }
{
  step "machine"
  nvidia-smi -L
  python3 -c 'import torch; print("torch", torch.__version__)'

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
  ninja -C build-gpu -k 0 -j "$(nproc)" deeptune-cli tst_gpu_cuda tst_memory_forecast \
    > "$OUT/build.log" 2>&1 || { status=1; grep -E "error|FAILED" "$OUT/build.log" | head -n 30; }

  step "tst_gpu_cuda (forecast within 3%, real out-of-memory)"
  build-gpu/tests/gpu/tst_gpu_cuda -o "$OUT/tst_gpu_cuda.txt,txt" || status=1
  grep -E "QINFO|PASS|FAIL|SKIP|Loc" "$OUT/tst_gpu_cuda.txt"
  step "tst_memory_forecast on the GPU machine's CPU (LibTorch 2.x kernels)"
  build-gpu/tests/engine/tst_memory_forecast 2>&1 | grep -E "QINFO|PASS|FAIL|Loc" || status=1

  step "calibration table (CUDA)"
  w=/tmp/deeptune-mem && rm -rf $w && mkdir -p $w
  build-gpu/engine/deeptune-cli init $w/p.dtproj > /dev/null
  cat > $w/matrix.txt <<'LIST'
model.source=preset:small train.batch_size=4 train.micro_batch_size=4 data.max_length=48
model.source=preset:medium train.batch_size=16 train.micro_batch_size=16 data.max_length=512 train.precision=bf16
model.source=preset:medium train.batch_size=8 train.micro_batch_size=8 data.max_length=1024 train.mode=full
model.source=preset:tinyllama-1.1b train.batch_size=4 train.micro_batch_size=4 data.max_length=1024 train.precision=bf16
model.source=preset:tinyllama-1.1b train.batch_size=1 train.micro_batch_size=1 data.max_length=4096 train.precision=bf16
model.source=preset:tinyllama-1.1b train.batch_size=8 train.micro_batch_size=8 data.max_length=2048 train.gradient_checkpointing=full
model.source=preset:tinyllama-1.1b train.batch_size=16 train.micro_batch_size=16 data.max_length=512 train.precision=bf16 train.gradient_checkpointing=selective
model.source=preset:tinyllama-1.1b train.batch_size=32 train.micro_batch_size=32 data.max_length=256 train.precision=bf16
model.source=preset:tinyllama-1.1b train.batch_size=2 train.micro_batch_size=2 data.max_length=512 train.precision=bf16 train.mode=full
LIST
  bash bench/forecast_calibration.sh build-gpu/engine/deeptune-cli $w/p.dtproj cuda $w/matrix.txt \
    | tee "$OUT/calibration.txt" || status=1

  step "device total vs allocator (one 1.1B step, nvidia-smi sampled while it runs)"
  build-gpu/engine/deeptune-cli estimate $w/p.dtproj --device cuda --set model.source=preset:tinyllama-1.1b \
    --set train.batch_size=4 --set train.micro_batch_size=4 --set data.max_length=1024 \
    --set train.precision=bf16 --measure --steps 6 --json > "$OUT/estimate_1b.json" &
  pid=$!
  peak=0
  while kill -0 $pid 2>/dev/null; do
    used=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F', ' -v p=$pid '$1==p {print $2}')
    [ -n "$used" ] && [ "$used" -gt "$peak" ] && peak=$used
    sleep 0.2
  done
  wait $pid || status=1
  echo "nvidia-smi peak for the process: $peak MiB"
  cat "$OUT/estimate_1b.json"
} 2>&1 | tee "$OUT/memory_on_device.log"
exit $status
