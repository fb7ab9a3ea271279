#!/usr/bin/env bash
# bench/prompt: prompt processing (tokens/s) on the real Gemma 3 270M GGUF, tuna vs llama.cpp
# (llama-cpp-python from the reference toolchain), same threads, same prompt length, in one run.
# Two modes: last (logits of the last position only: llama.cpp's prompt processing) and all
# (logits at every position: scoring). Prints the JSON lines and the ratios (tuna ÷ llama.cpp).
#   usage: bench/prompt/run.sh [tokens=512] [threads=2] [repeat=3]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tokens="${1:-512}" threads="${2:-2}" repeat="${3:-3}"
venv="$("$root/tools/reference/setup_venv.sh")"
py="$venv/bin/python"
model="$("$root/scripts/fetch_model.sh")"
for mode in last all; do
  t="$(OMP_NUM_THREADS="$threads" "${TUNA_BENCH_BIN:-$root/build/bin/bench_forward}" "$model" 1 "$tokens" "$repeat" "$threads" "$mode")"
  p="$("$py" "$root/tools/reference/bench_prompt_peer.py" "$model" --tokens "$tokens" --threads "$threads" \
        --repeat "$repeat" --logits "$mode")"
  echo "$t"
  echo "$p"
  "$py" - "$t" "$p" <<'PY'
import json, sys
t, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "prompt", "logits": t["logits"],
                  "speed_ratio_tuna_over_llamacpp": round(t["tokens_per_second"] / p["tokens_per_second"], 3),
                  "memory_ratio_tuna_over_llamacpp": round(t["peak_rss_mb"] / p["peak_rss_mb"], 3)}))
PY
done
