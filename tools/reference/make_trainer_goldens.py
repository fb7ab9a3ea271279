#!/usr/bin/env python3
"""Training-loop goldens: 20 optimizer steps of PEFT LoRA under the Hugging Face Trainer on the tiny
models of tests/golden/models (issue 5 item 8: AdamW, cosine schedule with warmup, gradient
accumulation 2, clipping; F32, dropout 0, the same initial adapter and data order), plus a 3-epoch
run whose epochs end with a short accumulation (llama_epoch_edge).

For each model writes tests/golden/trainer/<name>/:
  init/                      PEFT's initial adapter as save_pretrained writes it (A random Kaiming,
                             B zero) — tuna starts from it
  final/                     the adapter after the last step
  data.json                  the training rows (input_ids, attention_mask, labels; right-padded,
                             prompt tokens labelled -100) in the order the Trainer consumes them
  curve.json                 per optimizer step: the unrounded loss the Trainer accumulates (sum of
                             token losses over the accumulated batch / labels != -100 counted on the
                             unshifted labels, as transformers 4.57 does), grad_norm before clipping,
                             the learning rate used for the step; plus the arguments
and tests/golden/trainer/manifest.json (command, versions, seed).
Usage: python make_trainer_goldens.py [CASE ...]
"""

import hashlib
import json
import os
import platform
import sys
import tempfile

import peft
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, get_peft_model
from torch.utils.data import Dataset, SequentialSampler
from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "tests", "golden", "models")
OUT = os.path.join(ROOT, "tests", "golden", "trainer")
SEED = 1234
STEPS = 20
ARGS = dict(
    per_device_train_batch_size=2,
    gradient_accumulation_steps=2,
    max_steps=STEPS,
    learning_rate=2e-3,
    lr_scheduler_type="cosine",
    warmup_steps=3,
    max_grad_norm=0.5,
    weight_decay=0.01,
    optim="adamw_torch_fused",
    logging_steps=1,
)
SEVEN = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# name -> (tiny model, LoraConfig fields, TrainingArguments overrides, number of rows)
CASES = {
    "llama": ("llama", dict(target_modules=SEVEN), {}, 40),
    "gemma3": ("gemma3", dict(target_modules=SEVEN), {}, 40),
    "gpt2": ("gpt2", dict(target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True), {}, 40),
    # Epochs whose micro-batches are not a multiple of the accumulation: 9 rows in batches of 2 =
    # 5 micro-batches (the last has one row) → updates of 2, 2 and 1 micro-batches per epoch; the
    # Trainer plans ceil(3 × 5 // 2) = 6 steps, so the run ends after two epochs.
    "llama_epoch_edge": ("llama", dict(target_modules=SEVEN),
                         dict(max_steps=-1, num_train_epochs=3, warmup_steps=1), 9),
}


class Rows(Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return {k: torch.tensor(v) for k, v in self.rows[i].items()}


def make_rows(vocab, pad_id, n, seed=SEED):
    """n rows of length 12 (right-padded): a 3–5 token 'prompt' labelled -100, then a response
    drawn from a small repeating pattern so the loss can fall."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    T = 12
    for i in range(n):
        plen = 3 + int(torch.randint(0, 3, (1,), generator=g))
        rlen = 4 + int(torch.randint(0, 5, (1,), generator=g))
        prompt = torch.randint(3, vocab, (plen,), generator=g).tolist()
        start = int(torch.randint(3, vocab - 8, (1,), generator=g))
        resp = [start + (k % 4) for k in range(rlen)]
        ids = (prompt + resp)[:T]
        n_real = len(ids)
        labels = [-100] * plen + resp
        labels = labels[:T]
        ids += [pad_id] * (T - n_real)
        labels += [-100] * (T - n_real)
        mask = [1] * n_real + [0] * (T - n_real)
        rows.append({"input_ids": ids, "attention_mask": mask, "labels": labels})
    return rows


class Recorder(Trainer):
    """Records, per optimizer step, the unrounded accumulated loss, num_items_in_batch, the number
    of micro-batches and the learning rate used (the step ends in StepEnd below)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.curve = []
        self._acc = 0.0
        self._micro = 0
        self._items = 0
        self._lr = 0.0

    def _get_train_sampler(self, *args, **kwargs):
        return SequentialSampler(self.train_dataset)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._acc += float(loss)
        self._micro += 1
        self._items = int(num_items_in_batch)
        self._lr = self.optimizer.param_groups[0]["lr"]
        return loss

    def end_step(self, epoch):
        self.curve.append({"loss": self._acc, "num_items_in_batch": self._items, "lr": self._lr,
                           "micro_batches": self._micro, "epoch": epoch})
        self._acc = 0.0
        self._micro = 0


class StepEnd(TrainerCallback):
    def __init__(self):
        self.trainer = None
        self.norms = []

    def on_step_end(self, args, state, control, **kw):
        self.trainer.end_step(float(state.epoch))

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "grad_norm" in logs:
            self.norms.append(float(logs["grad_norm"]))


def train_recorded(model, rows, targs):
    """Runs the HF Trainer over `rows` in order with TrainingArguments `targs`; returns per optimizer
    step: loss, num_items_in_batch, lr, micro_batches, epoch and grad_norm."""
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, report_to=[], use_cpu=True, seed=SEED, save_strategy="no",
                                 dataloader_drop_last=False, **targs)
        ends = StepEnd()
        trainer = Recorder(model=model, args=args, train_dataset=Rows(rows), callbacks=[ends])
        ends.trainer = trainer
        trainer.train()
    assert len(trainer.curve) == trainer.state.global_step == len(ends.norms)
    for step, gn in zip(trainer.curve, ends.norms):
        step["grad_norm"] = gn
    return trainer.curve


def save_adapter(model, d):
    """PEFT's save_pretrained (adapter_model.safetensors + adapter_config.json), without the
    model card it also writes."""
    model.save_pretrained(d)
    os.remove(os.path.join(d, "README.md"))


def run(name, case):
    model_name, lora, overrides, n_rows = case
    torch.manual_seed(SEED)
    # GPT-2's config turns on dropout in the base model (resid/embd/attn 0.1) under model.train();
    # tuna's base model has no dropout (only LoRA's), so the golden switches it off.
    extra = dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0) if model_name == "gpt2" else {}
    model = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, model_name), dtype=torch.float32,
                                                 attn_implementation="eager", **extra)
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", **lora)
    model = get_peft_model(model, cfg)
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    model.peft_config["default"].base_model_name_or_path = f"tests/golden/models/{model_name}"
    save_adapter(model, os.path.join(out, "init"))
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    rows = make_rows(model.config.vocab_size, pad, n_rows)
    targs = {**ARGS, **overrides}
    curve = train_recorded(model, rows, targs)
    save_adapter(model, os.path.join(out, "final"))
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump(rows, f)
    with open(os.path.join(out, "curve.json"), "w") as f:
        json.dump({"model": model_name, "args": targs, "lora": {"r": 4, "lora_alpha": 8, **lora},
                   "steps": curve}, f, indent=1)
    print(f"{name}: loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}")


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]  # case names; none: all
    for name, case in CASES.items():
        if not only or name in only:
            run(name, case)
    manifest = {
        "command": "tools/reference/regenerate.sh trainer",
        "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
        "seed": SEED,
        "files": {},
    }
    for root, _, files in sorted(os.walk(OUT)):
        for fn in sorted(files):
            if fn == "manifest.json":
                continue
            p = os.path.join(root, fn)
            manifest["files"][os.path.relpath(p, OUT)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
