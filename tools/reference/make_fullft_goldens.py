#!/usr/bin/env python3
"""Goldens for what `tuna train` trains besides plain LoRA, under the Hugging Face Trainer (same
arguments as make_trainer_goldens.py: adamw_torch_fused, cosine with warmup, accumulation 2,
clipping 0.5, weight decay 0.01 with HF's no-decay group for biases and norms; F32; 8 steps):

  full_llama, full_gemma3   full fine-tuning (every parameter trainable, no PEFT) of the tiny
                            models; final/ is the trained model as save_pretrained writes it
  mts_llama                 PEFT LoRA (q_proj, v_proj) + modules_to_save=["lm_head"]
  bias_qwen2                PEFT LoRA (q/k/v/o) + bias="all"
  mts_bias_qwen2            PEFT LoRA (q/k/o) + modules_to_save=["v_proj"] (a saved module with its
                            own bias) + bias="all"

For the PEFT cases init/ and final/ are adapters written by PEFT's save_pretrained (tuna starts
from init/ through `adapter:`). Every case has data.json (rows in Trainer order) and curve.json
(per step: loss, grad_norm, lr, num_items_in_batch; plus the arguments).
Usage: python make_fullft_goldens.py   (writes tests/golden/fullft/)
"""

import hashlib
import json
import os
import platform
import shutil
import sys

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_trainer_goldens as trainer_goldens  # noqa: E402
from make_trainer_goldens import MODELS, ROOT, SEED, make_rows, save_adapter, train_recorded  # noqa: E402

OUT = os.path.join(ROOT, "tests", "golden", "fullft")
STEPS = 8
# The trainer goldens' TrainingArguments (AdamW fused, cosine, accumulation 2, clipping, weight
# decay), over 8 steps with 2 of warm-up.
ARGS = {**trainer_goldens.ARGS, "max_steps": STEPS, "warmup_steps": 2}
CASES = {
    "full_llama": dict(model="llama", lora=None),
    "full_gemma3": dict(model="gemma3", lora=None),
    "mts_llama": dict(model="llama", lora=dict(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])),
    "bias_qwen2": dict(model="qwen2", lora=dict(target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], bias="all")),
    "mts_bias_qwen2": dict(model="qwen2", lora=dict(target_modules=["q_proj", "k_proj", "o_proj"],
                                                    modules_to_save=["v_proj"], bias="all")),
}


def run(name, case):
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, case["model"]), dtype=torch.float32,
                                                 attn_implementation="eager")
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if case["lora"] is not None:
        cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", **case["lora"])
        model = get_peft_model(model, cfg)
        model.peft_config["default"].base_model_name_or_path = f"tests/golden/models/{case['model']}"
        save_adapter(model, os.path.join(out, "init"))
        model.print_trainable_parameters()
    trainable, total = (model.get_nb_trainable_parameters() if case["lora"] is not None else
                        (sum(p.numel() for p in model.parameters()),) * 2)
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    rows = make_rows(model.config.vocab_size, pad, n=16)
    curve = train_recorded(model, rows, ARGS)
    assert len(curve) == STEPS
    if case["lora"] is not None:
        save_adapter(model, os.path.join(out, "final"))
    else:
        model.save_pretrained(os.path.join(out, "final"))
        os.remove(os.path.join(out, "final", "generation_config.json"))
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump(rows, f)
    with open(os.path.join(out, "curve.json"), "w") as f:
        json.dump({"args": ARGS, "model": case["model"], "lora": case["lora"], "trainable": trainable,
                   "all": total, "steps": curve}, f,
                  indent=1)
    print(f"{name}: loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}")


def main():
    torch.set_num_threads(1)
    for name, case in CASES.items():
        run(name, case)
    manifest = {
        "command": "tools/reference/regenerate.sh fullft",
        "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
        "seed": SEED,
        "files": {},
    }
    for root, _, files in sorted(os.walk(OUT)):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, OUT)
            if rel == "manifest.json" or rel.startswith("saved"):
                continue
            manifest["files"][rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
