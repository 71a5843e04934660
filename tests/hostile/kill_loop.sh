#!/usr/bin/env bash
# Kill loop: deeptune-cli is killed with SIGKILL at random moments while it trains, exports and
# registers a dataset; after every kill the project must pass SQLite's integrity_check, show no
# run as running or created, and the next operation must succeed, leave no temp files or .partial
# folders, and a resumed run must end with exactly the final loss of an uninterrupted run.
#   tests/hostile/kill_loop.sh DEEPTUNE_CLI [KILLS] [SEED]
# CTest runs a short loop (tests/CMakeLists.txt); the review ran 60 kills during training.
set -euo pipefail

cli=${1:?usage: kill_loop.sh DEEPTUNE_CLI [KILLS] [SEED]}
kills=${2:-6}
seed=${3:-20261129}  # fixed: a failure names the seed and iteration and replays the same way
RANDOM=$seed
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project=$work/kill.dtproj
"$cli" init "$project" --sample >/dev/null

fail() {
  echo "FAIL (seed $seed, iteration $iteration): $*" >&2
  exit 1
}

# The same small run every time: LoRA with dropout (the generator state matters on resume).
run_args=(--set model.source=preset:tiny --set data.dataset=dates --set train.max_steps=24
  --set data.max_length=48 --set train.batch_size=8 --set train.micro_batch_size=8
  --set train.checkpoint_every=4 --set train.eval_every=0 --set lora.dropout=0.1 --set device=cpu)

final_loss() {  # final train loss of a completed run, as the project recorded it
  "$cli" runs "$project" --json | python3 -c '
import json, sys
run = next(r for r in json.load(sys.stdin) if r["name"] == sys.argv[1])
print(run["status"], repr(run["final_metrics"]["train_loss"]) if run["final_metrics"] else "-")
' "$1"
}

check_project() {  # integrity, no live-looking runs, no leftovers after the next operation
  python3 - "$project" <<'EOF' || fail "project check failed"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
if ok != "ok":
    sys.exit(f"integrity_check: {ok}")
EOF
  local json
  json=$("$cli" runs "$project" --json) || fail "runs failed after a kill"
  if grep -q '"status": "running"\|"status": "created"\|"status": "paused"' <<<"$json"; then
    fail "a run still looks alive after its process was killed: $json"
  fi
}

iteration=0
"$cli" train "$project" --name reference "${run_args[@]}" >/dev/null 2>&1 || fail "reference run"
reference=$(final_loss reference)
[[ $reference == completed* ]] || fail "reference run did not complete: $reference"

start_and_kill() {  # start "$@" in the background, SIGKILL it after a random 0..2.5 s
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", r / 32767 * 2.5 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

for ((iteration = 1; iteration <= kills; iteration++)); do
  name=k$iteration
  # Training, killed; then resumed (or, killed before it was claimed, gone and started again).
  start_and_kill "$cli" train "$project" --name "$name" "${run_args[@]}"
  check_project
  if "$cli" runs "$project" --json | grep -q "\"name\": \"$name\""; then
    status=$(final_loss "$name" | cut -d' ' -f1)
    if [[ $status != completed ]]; then
      "$cli" resume "$project" "$name" >/dev/null 2>&1 || fail "resume of $name ($status) failed"
    fi
  else
    "$cli" train "$project" --name "$name" "${run_args[@]}" >/dev/null 2>&1 || fail "retrain $name"
  fi
  got=$(final_loss "$name")
  [[ $got == "$reference" ]] || fail "resumed $name ended '$got', uninterrupted '$reference'"
  leftovers=$(find "$work" -name '*.partial' -o -name '*.tmp-*')
  [[ -z $leftovers ]] || fail "leftovers after resume: $leftovers"

  # Export, killed; the next export to the same folder completes and cleans up.
  out=$work/export-$iteration
  start_and_kill "$cli" export "$project" "$name" --format hf --out "$out"
  check_project
  "$cli" export "$project" "$name" --format hf --out "$out" >/dev/null 2>&1 || fail "export"
  leftovers=$(find "$out" -name '*.tmp-*')
  [[ -z $leftovers ]] || fail "export leftovers: $leftovers"

  # Dataset registration, killed: afterwards the dataset is there whole or not at all.
  start_and_kill "$cli" data add "$project" "$work/sample-data/dates.jsonl" --name "data-$iteration"
  check_project
  "$cli" data list "$project" --json | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    if d["name"] == sys.argv[1] and (d["rows"] != 2000 or not d["sha256"]):
        sys.exit(f"half-registered dataset: {d}")
' "data-$iteration" || fail "dataset registration left a partial record"
  echo "iteration $iteration: ok"
done
echo "kill loop: $kills iterations, every resumed run ended at train_loss ${reference#completed }"
