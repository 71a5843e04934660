#!/usr/bin/env bash
# DeepTune Workbench — one script for the README's two commands, on Debian 12.
#   installer/setup.sh run    install what is missing, build, and open the workbench on the sample
#                             project (with no display: run the sample headless instead)
#   installer/setup.sh test   install what is missing, build, and run every test (CTest)
#   installer/setup.sh deps | build
# Idempotent: packages already installed are not touched, builds are incremental.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${DEEPTUNE_BUILD_DIR:-$root/build}
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=sudo; fi

# Debian 12 packages only (plus the CUDA toolkit in /usr/local/cuda when present).
packages=(
  build-essential cmake ninja-build pkg-config ccache python3
  libtorch-dev libopenblas0-pthread       # LibTorch 1.13 (CPU); OpenBLAS instead of the reference BLAS
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqcustomplot-dev libgl1-mesa-dev
  libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libpcre2-dev libutf8proc-dev            # tokenizer.json: pre-tokenizer regexes, NFC normalisation
  libzstd-dev                             # attention maps are stored zstd-compressed
  xvfb xauth                              # GUI tests and screenshots without a display
  fonts-wqy-microhei                      # CJK glyphs for the 简体中文 interface
)

install_deps() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
}

build() {
  # ccache across clones of the repo (CI builds a fresh clone each time).
  export CCACHE_BASEDIR=$root
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${DEEPTUNE_BUILD_TYPE:-RelWithDebInfo} >/dev/null
  local start=$SECONDS
  cmake --build "$build_dir" -j "$(nproc)"
  echo "setup: build finished in $((SECONDS - start)) s"
}

run_sample() {
  local cli=$build_dir/engine/deeptune-cli
  local dir=${DEEPTUNE_SAMPLE_DIR:-$HOME/DeepTune}
  local project=$dir/sample.dtproj
  mkdir -p "$dir"
  [ -f "$project" ] || "$cli" init "$project" --sample
  if ! "$cli" runs "$project" --json | grep -q '"name": "base"'; then
    echo "== 1/2: pretraining the base model on English dates (full fine-tune, preset:tiny) =="
    "$cli" train "$project" --config pretrain --name base
  fi
  local gui=$build_dir/workbench/deeptune
  if [ -x "$gui" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${DEEPTUNE_HEADLESS:-}" ]; then
    echo "== opening the workbench on $project (the 'default' preset: LoRA to French dates) =="
    exec "$gui" "$project"
  fi
  echo "setup: no display (DISPLAY and WAYLAND_DISPLAY are unset): running the sample headless"
  echo "== 2/2: LoRA — adapting the base to French dates =="
  "$cli" train "$project"
  local run
  run=$("$cli" runs "$project" --json | grep '"name"' | tail -n 1 | sed 's/.*"name": "\(.*\)".*/\1/')
  echo "== what the LoRA run '$run' learned =="
  "$cli" generate "$project" "$run" --prompt "Écris 2024-03-01 en toutes lettres : "
  "$cli" generate "$project" "$run" --prompt "Date 1999-12-25 en lettres : "
  echo "project: $project   (deeptune-cli runs|metrics|export $project ...)"
}

run_tests() {
  cd "$build_dir"
  ctest --output-on-failure -j "$(nproc)"
}

case "${1:-run}" in
  deps) install_deps ;;
  build) install_deps; build ;;
  run) install_deps; build; run_sample ;;
  test) install_deps; build; run_tests ;;
  *) echo "usage: $0 run|test|deps|build" >&2; exit 2 ;;
esac
