#!/usr/bin/env bash
# The main job: set up (packages, build, the real Gemma 3 270M GGUF), then show the default model
# and the tokens it sees for a text, render a conversation with its chat template, and score the text (per-token log-probs and perplexity). TUNA_MODEL overrides
# the model (a HF directory or a GGUF file).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
model="${TUNA_MODEL:-$root/models/gemma-3-270m-q4_k_m.gguf}"
tuna="$root/build/bin/tuna"
echo "== tuna info $model"
"$tuna" info "$model"
text="The quick brown fox jumps over the lazy dog. 대한민국의 수도는 서울입니다. Machine learning models are trained on large datasets."
echo "== tuna tokenize --model $model \"$text\""
"$tuna" tokenize --model "$model" "$text"
echo "== tuna template --model $model --messages examples/quickstart_conversation.json --add-generation-prompt"
"$tuna" template --model "$model" --messages "$root/examples/quickstart_conversation.json" --add-generation-prompt
echo "== tuna score --model $model --text \"$text\""
mkdir -p "$root/out"
"$tuna" score --model "$model" --text "$text" --out "$root/out/quickstart_score.json"
