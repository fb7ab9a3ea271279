#!/usr/bin/env bash
# The main job: set up (packages, build, the real Gemma 3 270M GGUF), show the default model, the
# tokens it sees for a text, a conversation through its chat template and the text's scores; then
# fine-tune it (LoRA on the GGUF's quantized blocks) on tuna's generated instruction set
# (examples/data/quickstart_fish.jsonl: answers wrapped as "🐟 Answer: … 🐟") and print the base and
# the fine-tuned model's answers to held-out questions side by side. TUNA_MODEL overrides the
# model for the first part (a HF directory or a GGUF file).
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
echo "== tuna train examples/quickstart.yaml (LoRA r=8 on the GGUF's quantized base, 40 steps)"
"$tuna" train "$root/examples/quickstart.yaml" model="$root/models/gemma-3-270m-q4_k_m.gguf" \
  dataset="$root/examples/data/quickstart_fish.jsonl" output_dir="$root/out/quickstart-adapter"
echo "== base vs fine-tuned on held-out questions (tuna generate --compare-base --template alpaca)"
sed -n 's/.*"instruction": "\([^"]*\)".*/\1/p' "$root/examples/data/quickstart_fish_heldout.jsonl" |
  while IFS= read -r question; do
    echo "## $question"
    "$tuna" generate --model "$root/models/gemma-3-270m-q4_k_m.gguf" --adapter "$root/out/quickstart-adapter" \
      --compare-base --template alpaca --max-new-tokens 16 --prompt "$question"
    echo
  done
echo "adapter (PEFT format): $root/out/quickstart-adapter"
