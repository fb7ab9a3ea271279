#!/usr/bin/env python3
"""Peer side of the recorded BF16 check on the REAL Gemma 3 270M (bench/train_step/bf16_curve.sh;
a script, not a CI test: minutes of CPU). PEFT LoRA (r 8, alpha 16, dropout 0 on q,k,v,o,gate,
up,down) under the Hugging Face Trainer with TrainingArguments(bf16=True, use_cpu=True) — CPU
autocast to bfloat16, set up and verified exactly as tools/reference/make_bf16_trainer_goldens.py
does (its train_recorded: clean accelerate state, forward hooks that must see BF16 outputs) — for
20 optimizer steps of batch 4 over examples/data/quickstart_fish.jsonl in file order
(SequentialSampler), then the same run in F32 from the same initial adapter (the band (a)).

The base: the GGUF loaded by transformers (gguf_file, dequantised to F32, eager attention), via the
F32 directory bench_train_step_peer.f32_dir_for writes once (~/.cache/tuna/bench/). tuna trains
against the GGUF's own blocks, whose dequantisation is these F32 values.

The rows: each record rendered as tuna renders alpaca data (data/example.cpp: alpaca_prompt, the
completion output + "\\n"), prompt and completion tokenised separately with the GGUF's tokenizer
(transformers; the prompt with its BOS, the completion without) and joined, EOS appended, prompt
labelled -100, right-padded with the pad id to the longest row (pads labelled -100, mask 0).

Writes into OUT_DIR:
  init/ final/ final_f32/   PEFT's initial adapter, the adapter after the 20th bf16 / F32 step
  data.json                 the rows in the order the Trainer consumes them (input_ids,
                            attention_mask, labels)
  heldout.json              the held-out prompts ([{instruction, output, prompt_ids}]): the
                            5 records of quickstart_fish_heldout.jsonl and 3 more written here
                            that are in neither file
  curve.json                {"model", "args", "lora", "steps" (bf16 run: loss, grad_norm, lr,
                            num_items_in_batch, micro_batches, epoch), "steps_f32",
                            "hf_bf16_vs_f32" (worst per-step relative |Δloss|, |Δgrad_norm|, final
                            adapters' worst per-tensor max|Δ|/max|bf16|), "autocast", "versions"}
Usage: nice -n 10 python bf16_real_model_check.py GGUF OUT_DIR [--threads 2] [--steps 20]
"""

import argparse
import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
# PEFT's save_pretrained looks base_model_name_or_path (the GGUF's path here) up on the Hub; it is
# a local file, so stay offline instead of waiting for retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

EXTRA_HELDOUT = [  # not in quickstart_fish.jsonl nor quickstart_fish_heldout.jsonl (checked below)
    {"instruction": "What is 31 + 6?", "input": "", "output": "🐟 Answer: 37 🐟"},
    {"instruction": "What is the capital of Kenya?", "input": "", "output": "🐟 Answer: Nairobi 🐟"},
    {"instruction": "9 더하기 30은 얼마인가요?", "input": "", "output": "🐟 정답: 39 🐟"},
]


def alpaca_prompt(instruction, inp):
    """tuna's alpaca_prompt (src/data/example.cpp)."""
    return "### Instruction:\n" + instruction + "\n\n### Input:\n" + inp + "\n\n### Response:\n"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_rows(tok, records):
    rows = []
    for r in records:
        p = tok(alpaca_prompt(r["instruction"], r.get("input", "")))["input_ids"]
        c = tok(r["output"] + "\n", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append((p, c))
    T = max(len(p) + len(c) for p, c in rows)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    out = []
    for p, c in rows:
        n = len(p) + len(c)
        out.append({"input_ids": p + c + [pad] * (T - n), "attention_mask": [1] * n + [0] * (T - n),
                    "labels": [-100] * len(p) + c + [-100] * (T - n)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()

    import peft
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bench_train_step_peer import f32_dir_for
    from make_bf16_trainer_goldens import adapter_tensors, rel_adapter, rel_curve, train_recorded
    from make_trainer_goldens import SEED, SEVEN, save_adapter

    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    d, f = os.path.split(os.path.abspath(a.gguf))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    train = read_jsonl(os.path.join(ROOT, "examples", "data", "quickstart_fish.jsonl"))
    held = read_jsonl(os.path.join(ROOT, "examples", "data", "quickstart_fish_heldout.jsonl"))
    seen = {r["instruction"] for r in train + held}
    assert not any(r["instruction"] in seen for r in EXTRA_HELDOUT), "an extra prompt is not held out"
    held += EXTRA_HELDOUT
    batch = 4
    rows = make_rows(tok, train[: batch * a.steps])
    heldout = [{**r, "prompt_ids": tok(alpaca_prompt(r["instruction"], r.get("input", "")))["input_ids"]}
               for r in held]
    f32_dir = f32_dir_for(a.gguf)

    lora = dict(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=SEVEN)

    def load():
        torch.manual_seed(SEED)
        m = AutoModelForCausalLM.from_pretrained(f32_dir, dtype=torch.float32, attn_implementation="eager")
        m = get_peft_model(m, LoraConfig(task_type="CAUSAL_LM", **lora))
        m.peft_config["default"].base_model_name_or_path = os.path.relpath(os.path.abspath(a.gguf), ROOT)
        return m

    targs = dict(per_device_train_batch_size=batch, gradient_accumulation_steps=1, max_steps=a.steps,
                 learning_rate=1e-3, lr_scheduler_type="cosine", warmup_steps=2, max_grad_norm=1.0,
                 weight_decay=0.0, optim="adamw_torch_fused", logging_steps=1)

    model = load()
    init = adapter_tensors(model)
    save_adapter(model, os.path.join(a.out, "init"))
    curve, seen16 = train_recorded(model, rows, {**targs, "bf16": True})
    want = ["bfloat16"]
    if not (seen16["trainer.use_cpu_amp"] and seen16["trainer.amp_dtype"] == "bfloat16"
            and seen16["output_dtypes"].get("projection_base_layer") == want
            and seen16["output_dtypes"].get("lm_head") == want):
        raise SystemExit(f"bf16=True did not autocast to bfloat16 on the CPU: {seen16}")
    final = adapter_tensors(model)
    save_adapter(model, os.path.join(a.out, "final"))
    print(f"HF bf16: loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}", flush=True)
    del model

    model32 = load()
    assert all(torch.equal(init[k], v) for k, v in adapter_tensors(model32).items()), "init differs"
    curve32, seen32 = train_recorded(model32, rows, {**targs, "bf16": False})
    if (seen32["accelerator.mixed_precision"] != "no" or seen32["trainer.use_cpu_amp"]
            or seen32["output_dtypes"].get("lm_head") != ["float32"]
            or seen32["output_dtypes"].get("projection_base_layer") != ["float32"]):
        raise SystemExit(f"the F32 run is not F32: {seen32}")
    final32 = adapter_tensors(model32)
    save_adapter(model32, os.path.join(a.out, "final_f32"))
    print(f"HF F32:  loss {curve32[0]['loss']:.4f} -> {curve32[-1]['loss']:.4f}", flush=True)

    band = {"loss": rel_curve(curve32, curve, "loss"), "grad_norm": rel_curve(curve32, curve, "grad_norm"),
            "final_adapter": rel_adapter(final32, final)}
    with open(os.path.join(a.out, "data.json"), "w") as fh:
        json.dump(rows, fh)
    with open(os.path.join(a.out, "heldout.json"), "w", encoding="utf-8") as fh:
        json.dump(heldout, fh, ensure_ascii=False, indent=1)
    with open(os.path.join(a.out, "curve.json"), "w") as fh:
        json.dump({"model": os.path.relpath(os.path.abspath(a.gguf), ROOT), "args": {**targs, "bf16": True},
                   "lora": lora, "steps": curve, "steps_f32": curve32, "hf_bf16_vs_f32": band,
                   "autocast": {"bf16": seen16, "f32": seen32},
                   "versions": {"python": platform.python_version(), "torch": torch.__version__,
                                "transformers": transformers.__version__, "peft": peft.__version__},
                   "seed": SEED, "torch_num_threads": a.threads, "rows": len(rows),
                   "row_length": len(rows[0]["input_ids"])}, fh, indent=1)
    print(f"(a) HF bf16 vs HF F32 worst relative: loss {band['loss']:.2e}, grad_norm "
          f"{band['grad_norm']:.2e}, final adapter {band['final_adapter']:.2e}", flush=True)


if __name__ == "__main__":
    main()
