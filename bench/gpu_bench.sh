#!/usr/bin/env bash
# Training speed and GPU memory of deeptune-cli against Hugging Face transformers + PEFT, side by
# side, in one device call (carry [".carry"]; bench/NOTES.md says how to read the numbers):
#   bash bench/gpu_bench.sh
# Builds deeptune-cli as tests/gpu/run_on_device.sh does, then for each configuration runs the
# reference (bench/hf_peft_step.py) and ours (`deeptune-cli bench`), each in its own process, one
# after the other, while a sampler reads the process's memory from nvidia-smi every 100 ms.
# Writes $OUT/bench.json (every raw result), $OUT/bench_table.md, $OUT/bench.log, $OUT/build.log.
#
# Environment (all optional):
#   BENCH_CONFIGS  "SHAPE:B:T[:ckpt] ..." (default: the five below); ckpt = full recomputation
#   BENCH_IMPLS    "hf ours" (default), or one of them
#   BENCH_STEPS, BENCH_WARMUP   timed and warm-up steps (20, 5)
#   BENCH_TOTAL_S  the whole script's budget, build included (540: the device allows 600 a call)
#   BENCH_RUN_S    the most one implementation may take on one configuration (120)
#   BENCH_SKIP_BUILD=1          use build-gpu/engine/deeptune-cli as it is
#   BENCH_TARGETS  what to build (default deeptune-cli), e.g. "deeptune-cli tst_gpu_cuda"
#   BENCH_AFTER_BUILD  a command run after a good build, before the benchmark (e.g. the GPU
#                  tests); its output goes to $OUT/after_build.log, its failures and QINFO lines
#                  to the log
# Nothing here stops the script: a failed, out-of-memory or timed-out run is a row of the table.
set -uo pipefail
OUT=${OUT:-/tmp/deeptune-bench}
mkdir -p "$OUT"
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

configs=${BENCH_CONFIGS:-"tinyllama:8:1024 tinyllama:8:1024:ckpt tinyllama:4:4096 llama110m:16:512 llama8b:1:2048"}
impls=${BENCH_IMPLS:-"hf ours"}
steps=${BENCH_STEPS:-20}
warmup=${BENCH_WARMUP:-5}
total_s=${BENCH_TOTAL_S:-540}
run_s=${BENCH_RUN_S:-120}
min_run_s=25  # below this a model build plus a few steps cannot finish: skip instead
work=/tmp/deeptune-bench-work
cli=build-gpu/engine/deeptune-cli
deb=/tmp/deeptune-deb
lora=(--r 16 --alpha 32 --targets q_proj,v_proj)
step() { echo; echo "=== $* === ($SECONDS s)"; }

# Polls nvidia-smi every 100 ms until SIGTERM; keeps the largest used_memory (MiB) of the process
# tree under PID, and of all compute processes together (the fallback if PIDs do not match, e.g.
# in a PID namespace). argv: PID JSON_FILE
read -r -d '' SAMPLER <<'PY'
import json, os, signal, subprocess, sys, time
root, path = int(sys.argv[1]), sys.argv[2]
state = {"pid_max_mib": 0, "all_max_mib": 0, "samples": 0, "matched_samples": 0, "errors": 0}
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
def tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    seen, todo = {root}, [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen
def save():
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)
save()
while not stop:
    t0 = time.monotonic()
    try:
        rows = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                               "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=5).stdout
    except Exception:
        state["errors"] += 1
        rows = ""
    pids = tree(root)
    mine = everyone = 0
    for line in rows.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            everyone += int(parts[1])
            if int(parts[0]) in pids:
                mine += int(parts[1])
    state["samples"] += 1
    state["matched_samples"] += mine > 0
    if mine > state["pid_max_mib"] or everyone > state["all_max_mib"]:
        state["pid_max_mib"] = max(mine, state["pid_max_mib"])
        state["all_max_mib"] = max(everyone, state["all_max_mib"])
        save()
    time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
save()
PY

# Merges one run's stdout (its last JSON line), exit status and sampler file into one record.
# argv: RECORD_FILE CONFIG IMPL RC TIMED_OUT LIMIT ELAPSED STDOUT STDERR SMI_FILE ARGS...
read -r -d '' RECORD <<'PY'
import json, sys
path, config, impl, rc, timed_out, limit, elapsed, out, err, smi = sys.argv[1:11]
rc, timed_out = int(rc), timed_out == "1"
def text(p):
    try:
        with open(p, errors="replace") as f:
            return f.read()
    except OSError:
        return ""
stdout, stderr = text(out), text(err)
result = None
for line in reversed(stdout.splitlines()):
    try:
        value = json.loads(line)
    except ValueError:
        continue
    if isinstance(value, dict):
        result = value
        break
try:
    memory = json.loads(text(smi))
except ValueError:
    memory = None
error = None
if timed_out:
    error = f"timed out after {limit} s"
elif rc != 0 or result is None or "tokens_per_s" not in result:
    lines = [l.strip() for l in (stderr + "\n" + stdout).splitlines() if l.strip()]
    oom = [l for l in lines if "out of memory" in l.lower()]
    errs = [l for l in lines if "error" in l.lower()]
    error = (oom or errs or lines or [""])[-1][:300] or f"exit status {rc}, no output"
    if rc != 0 and not error.startswith("exit"):
        error = f"exit {rc}: {error}"
record = {"config": config, "impl": impl, "cmd": sys.argv[11:], "rc": rc, "timed_out": timed_out,
          "elapsed_s": int(elapsed), "nvidia_smi": memory, "result": result, "error": error,
          "stderr_tail": stderr[-3000:] if error else stderr[-500:]}
with open(path, "w") as f:
    json.dump(record, f)
print(f"  {impl}: " + (f"error: {error}" if error else
      f"{result['tokens_per_s']:.0f} tokens/s, step {result.get('step_ms', float('nan')):.1f} ms")
      + (f", nvidia-smi peak {memory['pid_max_mib']} MiB (all processes {memory['all_max_mib']})"
         if memory else "") + f", {elapsed} s")
PY

# run_one TAG CONFIG IMPL LIMIT CMD...: runs CMD in the background under the sampler and a
# watchdog; writes $work/TAG.record.json.
run_one() {
  local tag=$1 config=$2 impl=$3 limit=$4
  shift 4
  local start=$SECONDS timed_out=0 pid spid rc
  "$@" > "$work/$tag.out" 2> "$work/$tag.err" &
  pid=$!
  python3 -c "$SAMPLER" "$pid" "$work/$tag.smi.json" &
  spid=$!
  while kill -0 "$pid" 2> /dev/null; do
    if ((SECONDS - start >= limit)); then
      timed_out=1
      kill -TERM "$pid" 2> /dev/null
      for _ in 1 2 3 4 5 6; do kill -0 "$pid" 2> /dev/null && sleep 0.5; done
      kill -KILL "$pid" 2> /dev/null
      break
    fi
    sleep 0.5
  done
  wait "$pid"
  rc=$?
  kill -TERM "$spid" 2> /dev/null
  wait "$spid"
  python3 -c "$RECORD" "$work/$tag.record.json" "$config" "$impl" "$rc" "$timed_out" "$limit" \
    "$((SECONDS - start))" "$work/$tag.out" "$work/$tag.err" "$work/$tag.smi.json" "$@"
}

# skip TAG CONFIG IMPL REASON: a record for a run that did not start.
skip() {
  python3 -c 'import json, sys
json.dump({"config": sys.argv[2], "impl": sys.argv[3], "skipped": True, "error": sys.argv[4],
           "result": None, "nvidia_smi": None}, open(sys.argv[1], "w"))' \
    "$work/$1.record.json" "$2" "$3" "$4"
  echo "  $3: skipped: $4"
}

{
  step "machine"
  nvidia-smi -L
  nvidia-smi --query-gpu=memory.used,memory.total,clocks.sm,clocks.max.sm --format=csv
  python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__, "| peft", peft.__version__)'
  rm -rf "$work" && mkdir -p "$work/models"

  built=1
  if [[ " $impls " == *" ours "* && ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    step "unpack Debian packages, configure and build deeptune-cli (log: build.log)"
    mkdir -p "$deb"
    for f in .carry/debs/*.deb; do dpkg -x "$f" "$deb"; done
    export LD_LIBRARY_PATH=$deb/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export TORCH_CUDA_ARCH_LIST=9.0  # Hopper; LibTorch ignores CMAKE_CUDA_ARCHITECTURES
    torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
    start=$SECONDS
    {
      cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPTUNE_BUILD_GUI=OFF \
        -DCMAKE_PREFIX_PATH="$torch_prefix;$deb/usr/lib/x86_64-linux-gnu/cmake;$deb/usr" \
        -DSQLite3_INCLUDE_DIR=$deb/usr/include \
        -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -n 1) \
        -DCMAKE_CUDA_COMPILER=$(command -v nvcc) &&
        ninja -C build-gpu -j "$(nproc)" ${BENCH_TARGETS:-deeptune-cli}
    } > "$OUT/build.log" 2>&1 || {
      built=0
      grep -E "error|FAILED|Error" "$OUT/build.log" | head -n 30
    }
    echo "build: $((SECONDS - start)) s on $(nproc) cores, $([[ $built == 1 ]] && echo ok || echo FAILED)"
  elif [[ " $impls " == *" ours "* ]]; then
    export LD_LIBRARY_PATH=$deb/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  if [[ -n ${BENCH_AFTER_BUILD:-} && $built == 1 ]]; then
    step "after the build: $BENCH_AFTER_BUILD (log: after_build.log)"
    bash -c "$BENCH_AFTER_BUILD" > "$OUT/after_build.log" 2>&1
    echo "exit $?"
    grep -E "^(FAIL|QINFO|SKIP|Totals)|QWARN" "$OUT/after_build.log" | tail -n 40
  fi
  [[ -x $cli ]] || built=0

  n=0
  for config in $configs; do
    n=$((n + 1))
    IFS=: read -r shape batch seq extra <<< "$config"
    ckpt_hf=() ckpt_ours=()
    if [[ ${extra:-} == ckpt ]]; then
      ckpt_hf=(--checkpointing)
      ckpt_ours=(--set train.gradient_checkpointing=full)
    fi
    step "$config: $batch x $seq tokens, $warmup warm-up + $steps timed steps"
    model=$work/models/$shape
    [[ -f $model/config.json ]] || python3 bench/hf_peft_step.py --write-config "$model" --shape "$shape"
    for impl in $impls; do
      tag=$(printf '%02d-%s' "$n" "$impl")
      left=$((total_s - SECONDS))
      if ((left < min_run_s + 5)); then
        skip "$tag" "$config" "$impl" "time budget: $left s left of $total_s"
        continue
      fi
      limit=$((left - 5 < run_s ? left - 5 : run_s))
      if [[ $impl == hf ]]; then
        run_one "$tag" "$config" hf "$limit" python3 bench/hf_peft_step.py --shape "$shape" \
          --batch "$batch" --seq "$seq" --steps "$steps" --warmup "$warmup" "${lora[@]}" \
          "${ckpt_hf[@]}"
      elif [[ $built != 1 ]]; then
        skip "$tag" "$config" ours "deeptune-cli was not built (see build.log)"
      else
        run_one "$tag" "$config" ours "$limit" "$cli" bench --model "$model" --batch "$batch" \
          --seq "$seq" --steps "$steps" --warmup "$warmup" --set lora.r=16 --set lora.alpha=32 \
          --set lora.targets=q_proj,v_proj --set lora.dropout=0 --set train.precision=bf16 "${ckpt_ours[@]}" --json
      fi
    done
  done

  step "table"
  python3 - "$work" "$OUT" "$total_s" <<'PY'
import glob, json, os, sys
sys.path.insert(0, "bench")
from hf_peft_step import PEAK_FLOPS, flops_per_token

work, out, total_s = sys.argv[1], sys.argv[2], sys.argv[3]
records = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "*.record.json")))]
configs = list(dict.fromkeys(r["config"] for r in records))
for r in records:  # one FLOP count for both sides, whatever each reports
    shape, batch, seq = r["config"].split(":")[:3]
    if r["result"] and r["result"].get("tokens_per_s"):
        f = flops_per_token(shape, int(seq), 16, ["q_proj", "v_proj"])["total"]
        r["mfu_common"] = f * r["result"]["tokens_per_s"] / PEAK_FLOPS

def label(config):
    shape, batch, seq, *extra = config.split(":")
    return f"{shape} {batch}x{seq}" + (" ckpt" if extra else "")

def value(r, key):
    """A run's number, or the word that stands in for it."""
    if r is None:
        return "-"
    if r.get("error"):
        return "skipped" if r.get("skipped") else "error"
    if key == "smi":  # the process's own row; if its PID never matched, every process (marked *)
        m = r.get("nvidia_smi") or {}
        if m.get("pid_max_mib"):
            return m["pid_max_mib"] * 2**20
        return Starred(m["all_max_mib"] * 2**20) if m.get("all_max_mib") else "-"
    if key == "mfu_common":
        return r.get(key, "-")
    if key == "mean_loss":
        losses = r["result"].get("losses") or []
        if any(x is None for x in losses):  # NaN / inf: JSON has no word for them
            return "not finite"
        return sum(losses) / len(losses) if losses else "-"
    v = r["result"].get(key)
    return "-" if v is None else v

class Starred(float):
    """nvidia-smi's total over every compute process: the process's own PID never matched."""

def show(v, kind):
    if isinstance(v, str):
        return v
    if isinstance(v, Starred):
        return show(float(v), kind) + "*"
    return {"bytes": f"{v / 2**30:.2f} GiB", "mfu": f"{100 * v:.1f}%", "loss": f"{v:.3f}",
            "count": f"{v:,.0f}"}[kind]

def ratio(a, b):
    ok = all(isinstance(v, (int, float)) and v > 0 for v in (a, b))
    return f"{b / a:.2f}" if ok else "-"

head = ["configuration", "hf tokens/s", "ours tokens/s", "ratio", "hf peak nvidia-smi", "ours",
        "ratio", "hf allocator peak", "ours", "ratio", "hf MFU", "ours MFU", "hf loss", "ours loss"]
rows, notes = [], []
for c in configs:
    hf = next((r for r in records if r["config"] == c and r["impl"] == "hf"), None)
    ours = next((r for r in records if r["config"] == c and r["impl"] == "ours"), None)
    for name, r in (("hf", hf), ("ours", ours)):
        if r and r.get("error"):
            notes.append(f"- {label(c)}, {name}: {r['error']}")
    row = [label(c)]
    for key, kind in (("tokens_per_s", "count"), ("smi", "bytes"), ("peak_bytes", "bytes")):
        a, b = value(hf, key), value(ours, key)
        row += [show(a, kind), show(b, kind), ratio(a, b)]
    row += [show(value(r, "mfu_common"), "mfu") for r in (hf, ours)]
    row += [show(value(r, "mean_loss"), "loss") for r in (hf, ours)]
    rows.append(row)

table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
table += ["| " + " | ".join(r) + " |" for r in rows]
text = "\n".join(table)
text += ("\n\nratio = ours / hf (tokens/s: above 1 is faster; memory: below 1 is smaller). "
         "nvidia-smi: the process's largest used_memory, sampled every 100 ms. Allocator peak: "
         "torch.cuda.max_memory_allocated (hf: weights + warm-up + timed steps). MFU: one formula "
         f"for both (bench/NOTES.md) over {PEAK_FLOPS / 1e12:.0f} TFLOP/s. Loss: mean of the timed "
         "steps on random tokens (ln V is 10.37 for V = 32000, 11.76 for 128256). "
         "* = nvidia-smi never listed the process's PID: every compute process together.\n")
if notes:
    text += "\n" + "\n".join(notes) + "\n"
print(text)
with open(os.path.join(out, "bench_table.md"), "w") as f:
    f.write(text)
with open(os.path.join(out, "bench.json"), "w") as f:
    json.dump({"total_budget_s": int(total_s), "records": records}, f, indent=1)
PY
  step "done"
} 2>&1 | tee "$OUT/bench.log"
