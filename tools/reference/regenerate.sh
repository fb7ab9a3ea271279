#!/usr/bin/env bash
# Regenerates the reference goldens (DESIGN.md §4): builds/reuses the pinned venv
# (~/.cache/tuna/reference/venv, see setup_venv.sh), then runs the generators with its python.
# Usage:
#   tools/reference/regenerate.sh                  every golden set
#   tools/reference/regenerate.sh models [--only gemma3 ...]   tiny models + transformers logits
#   tools/reference/regenerate.sh gguf             GGUF dequantization + reader goldens
#   tools/reference/regenerate.sh gguf_parity      real Gemma 3 270M vs transformers (+ llama.cpp)
#   tools/reference/regenerate.sh tokenizer        tokenizer ids/decodes vs HF
#   tools/reference/regenerate.sh chat_template    chat-template renderings + Jinja features vs transformers
#   tools/reference/regenerate.sh bnb              bitsandbytes NF4/FP4/8-bit + load_in_4bit logits
#   tools/reference/regenerate.sh optim            optimizers, LR schedules, clipping, decay names
#   tools/reference/regenerate.sh trainer          20-step PEFT LoRA loss curves under the HF Trainer
#   tools/reference/regenerate.sh trainer_bf16     the same with bf16=True on the CPU (autocast) + its F32 band
#   tools/reference/regenerate.sh optim8           bitsandbytes 8-bit AdamW trajectories
#   tools/reference/regenerate.sh grad             backward-op gradients vs torch autograd
#   tools/reference/regenerate.sh train            whole-model LoRA / full fine-tuning gradients vs PEFT
#   tools/reference/regenerate.sh lora             PEFT targets/counts, adapter files, merge/unmerge
#   tools/reference/regenerate.sh packing          TRL pack_dataset (bfd, wrapped) + SFT collator labels/positions
#   tools/reference/regenerate.sh seeds            the seeds' own Python (Trainer / TRL SFTTrainer) on rows
#                                                  in each seed's shape: token ids + trained-token masks
#   tools/reference/regenerate.sh fullft           full FT / modules_to_save / bias curves under the HF
#                                                  Trainer + transformers loading a tuna-saved model
#                                                  (needs build/tests/test_model and the real model)
# The real-model sets need models/gemma-3-270m-q4_k_m.gguf (scripts/setup.sh fetches it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$("$here/setup_venv.sh")"
export PYTHONHASHSEED=0 MKL_NUM_THREADS=1 CUDA_VISIBLE_DEVICES=""
py="$venv/bin/python"
what="${1:-all}"
[[ $# -gt 0 ]] && shift
case "$what" in
  models) OMP_NUM_THREADS=1 exec "$py" "$here/make_goldens.py" "$@" ;;
  gguf) exec "$py" "$here/make_gguf_goldens.py" "$@" ;;
  gguf_parity) exec "$py" "$here/make_gguf_parity.py" "$@" ;;
  tokenizer) exec "$py" "$here/make_tokenizer_goldens.py" "$@" ;;
  chat_template)
    "$py" "$here/make_chat_template_goldens.py" "$@"
    exec "$py" "$here/make_jinja_feature_goldens.py" ;;
  bnb) OMP_NUM_THREADS=1 exec "$py" "$here/make_bnb_goldens.py" "$@" ;;
  optim) OMP_NUM_THREADS=1 exec "$py" "$here/make_optim_goldens.py" "$@" ;;
  optim8) OMP_NUM_THREADS=1 exec "$py" "$here/make_optim8_goldens.py" "$@" ;;
  grad) OMP_NUM_THREADS=1 exec "$py" "$here/make_grad_goldens.py" "$@" ;;
  trainer) OMP_NUM_THREADS=1 exec "$py" "$here/make_trainer_goldens.py" "$@" ;;
  trainer_bf16) OMP_NUM_THREADS=1 exec "$py" "$here/make_bf16_trainer_goldens.py" "$@" ;;
  train) OMP_NUM_THREADS=1 exec "$py" "$here/make_train_goldens.py" "$@" ;;
  lora) OMP_NUM_THREADS=1 exec "$py" "$here/make_lora_goldens.py" "$@" ;;
  packing) OMP_NUM_THREADS=1 exec "$py" "$here/make_packing_goldens.py" "$@" ;;
  seeds) OMP_NUM_THREADS=1 exec "$py" "$here/make_seed_goldens.py" "$@" ;;
  fullft)
    OMP_NUM_THREADS=1 "$py" "$here/make_fullft_goldens.py"
    # The directory tuna writes from the real GGUF (the test keeps it), then transformers scores it.
    root="$(cd "$here/../.." && pwd)" g="$root/tests/golden/fullft/saved_gemma3_270m"
    tmp="$(mktemp -d)"
    TUNA_SAVED_MODEL_DIR="$tmp/saved" "$root/build/tests/test_model" \
      --gtest_filter=SaveHfModel.GgufGemma3LoadsInTransformers || true
    cp "$tmp/saved/config.json" "$g/config.json"
    "$py" "$here/check_saved_model.py" "$tmp/saved" "$g/ids.txt" "$g/transformers.json"
    rm -rf "$tmp" ;;
  all)
    OMP_NUM_THREADS=1 "$py" "$here/make_goldens.py"
    "$py" "$here/make_gguf_goldens.py"
    "$py" "$here/make_gguf_parity.py"
    "$py" "$here/make_tokenizer_goldens.py"
    "$py" "$here/make_chat_template_goldens.py"
    "$py" "$here/make_jinja_feature_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_bnb_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_optim_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_optim8_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_grad_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_trainer_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_bf16_trainer_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_train_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_lora_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_packing_goldens.py"
    OMP_NUM_THREADS=1 "$py" "$here/make_seed_goldens.py"
    exec "$0" fullft
    ;;
  *) echo "usage: $0 [all|models|gguf|gguf_parity|tokenizer|chat_template|bnb|optim|optim8|grad|trainer|trainer_bf16|train|lora|packing|seeds|fullft] [generator arguments]" >&2; exit 2 ;;
esac
