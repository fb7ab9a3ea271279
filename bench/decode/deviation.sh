#!/usr/bin/env bash
# The decoding fast path's deviation from the exact F32 path, beside llama.cpp's on the same
# inputs (issue 13 item 2): greedy agreement over NEW tokens for each prompt of PROMPTS (one per
# line; default bench/decode/prompts20.txt, 20 prompts) and max / mean |Δ log-prob| of the exact
# continuation under teacher forcing. Prints both JSON lines.
#   bench/decode/deviation.sh [MODEL] [PROMPTS] [NEW=64] [THREADS=2]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
model="${1:-$root/models/gemma-3-270m-q4_k_m.gguf}"
prompts="${2:-$root/bench/decode/prompts20.txt}"
new="${3:-64}"
threads="${4:-2}"
build="${BUILD_DIR:-$root/build}"
[ -x "$build/bin/bench_deviation" ] || cmake --build "$build" --target bench_deviation
venv="$("$root/tools/reference/setup_venv.sh")"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$build/bin/bench_deviation" "$model" "$prompts" "$out" "$new" "$threads" 2>/dev/null
"$venv/bin/python" "$root/tools/reference/deviation_peer.py" "$model" "$out" --threads "$threads" \
  2>/dev/null
