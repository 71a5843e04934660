#!/usr/bin/env bash
# Memory forecast against measured peaks: `deeptune-cli estimate --measure --json` for a matrix of
# configurations, one line each (forecast, measured, error), then the median and largest |error|.
# usage: bench/forecast_calibration.sh DEEPTUNE_CLI PROJECT [DEVICE] [CONFIGS_FILE]
#   CONFIGS_FILE: one configuration per line, as --set arguments (default: the CPU matrix below).
#   Lines may name a Hugging Face folder with model.source=/path/to/model.
set -euo pipefail
cli=$1
project=$2
device=${3:-cpu}
configs=${4:-}
default_matrix() {
  cat <<'LIST'
model.source=preset:tiny train.batch_size=8 train.micro_batch_size=4 data.max_length=64
model.source=preset:tiny train.batch_size=8 train.micro_batch_size=8 data.max_length=256 train.precision=bf16
model.source=preset:small train.batch_size=4 train.micro_batch_size=1 data.max_length=512
model.source=preset:small train.batch_size=8 train.micro_batch_size=8 data.max_length=128 lora.dropout=0
model.source=preset:small train.batch_size=4 train.micro_batch_size=2 data.max_length=256 train.mode=full
model.source=preset:small train.batch_size=4 train.micro_batch_size=4 data.max_length=256 train.precision=bf16 lora.targets=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
model.source=preset:small train.batch_size=2 train.micro_batch_size=2 data.max_length=1024 train.label_smoothing=0.1
model.source=preset:tiny train.batch_size=16 train.micro_batch_size=16 data.max_length=128 train.mode=full train.precision=bf16
LIST
}
matrix=$( [[ -n "$configs" ]] && cat "$configs" || default_matrix )
printf '%-100s %12s %12s %8s\n' configuration forecast measured error
errors=()
while read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  args=(--device "$device" --set train.max_steps=10 --set train.warmup_steps=0)
  for kv in $line; do args+=(--set "$kv"); done
  out=$("$cli" estimate "$project" "${args[@]}" --measure --steps 3 --json)
  read -r forecast measured error < <(python3 -c '
import json,sys
d=json.load(sys.stdin); m=d["measured"]
print(d["peak_bytes"], m["peak_allocated"], m["peak_error"])' <<<"$out")
  errors+=("$error")
  python3 -c "import sys; f,m,e=map(float,sys.argv[2:]); print(f\"{sys.argv[1]:<100} {f/2**20:9.1f} MiB {m/2**20:9.1f} MiB {e*100:+7.2f}%\")" "$line" "$forecast" "$measured" "$error"
done <<<"$matrix"
python3 - "${errors[@]}" <<'PY'
import statistics, sys
e = [abs(float(x)) * 100 for x in sys.argv[1:]]
print(f"{len(e)} configurations: median |error| {statistics.median(e):.2f}%, largest {max(e):.2f}%")
PY
