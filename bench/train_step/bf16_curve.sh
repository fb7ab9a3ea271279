#!/usr/bin/env bash
# The recorded BF16 check on the real Gemma 3 270M (not a CI test: ~10 minutes of a 2-core CPU):
# `bf16: true` (tuna's BF16 products) against PEFT + the HF Trainer with bf16=True on the CPU.
# 1. tools/reference/bf16_real_model_check.py (reference venv, tools/reference/setup_venv.sh):
#    20 LoRA steps (r 8, alpha 16, all seven projections; batch 4, lr 1e-3 cosine, warmup 2,
#    clipping 1.0, adamw_torch_fused) over examples/data/quickstart_fish.jsonl under the HF
#    Trainer, bf16=True and F32, from one PEFT init adapter; writes OUT_DIR.
# 2. build/bin/bf16_curve replays the run in tuna (bf16 and F32) from that init adapter, prints
#    the per-step relative differences (a) HF bf16 vs F32, (b) tuna bf16 vs HF bf16, (c) tuna F32
#    vs HF bf16 and the greedy answers on 8 held-out prompts; writes OUT_DIR/tuna_result.json.
# Both sides run at `nice -n 10` with THREADS threads. Needs AVX512-BF16. Build first:
#   cmake --build build --target bf16_curve
#   usage: bench/train_step/bf16_curve.sh [out_dir=~/.cache/tuna/bf16_curve] [threads=2]
#                                         [model=models/gemma-3-270m-q4_k_m.gguf]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$HOME/.cache/tuna/bf16_curve}" threads="${2:-2}"
model="${3:-$root/models/gemma-3-270m-q4_k_m.gguf}"
bin="$root/build/bin/bf16_curve"
[[ -x "$bin" ]] || { echo "bf16_curve.sh: $bin missing (hint: cmake --build build --target bf16_curve)" >&2; exit 2; }
[[ -f "$model" ]] || { echo "bf16_curve.sh: $model missing (hint: scripts/setup.sh fetches it)" >&2; exit 2; }
venv="$("$root/tools/reference/setup_venv.sh")"
mkdir -p "$out"
echo "== peer: PEFT + HF Trainer, bf16=True and F32 ($threads threads) -> $out" >&2
OMP_NUM_THREADS="$threads" nice -n 10 "$venv/bin/python" "$root/tools/reference/bf16_real_model_check.py" \
  "$model" "$out" --threads "$threads"
echo "== tuna: the same 20 steps, bf16 and F32, then greedy answers" >&2
nice -n 10 "$bin" "$out" "$model" "$threads" 32
