#!/usr/bin/env bash
# The main job: set up (packages + build), then show the default model and score a token
# sequence with it. Until the real Gemma 3 270M lands (GGUF issue), the default model is the
# committed tiny Gemma 3 in tests/golden/models/gemma3.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
model="${TUNA_MODEL:-$root/tests/golden/models/gemma3}"
tuna="$root/build/bin/tuna"
echo "== tuna info $model"
"$tuna" info "$model"
echo "== tuna score --model $model --ids examples/quickstart_ids.txt"
mkdir -p "$root/out"
"$tuna" score --model "$model" --ids "$root/examples/quickstart_ids.txt" --out "$root/out/quickstart_score.json"
