#!/usr/bin/env bash
# The main job: set up (packages, build, the real Gemma 3 270M GGUF), then show the default model
# and score a token sequence with it (per-token log-probs and perplexity). TUNA_MODEL overrides
# the model (a HF directory or a GGUF file).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
model="${TUNA_MODEL:-$root/models/gemma-3-270m-q4_k_m.gguf}"
tuna="$root/build/bin/tuna"
echo "== tuna info $model"
"$tuna" info "$model"
echo "== tuna score --model $model --ids examples/quickstart_ids.txt"
mkdir -p "$root/out"
"$tuna" score --model "$model" --ids "$root/examples/quickstart_ids.txt" --out "$root/out/quickstart_score.json"
