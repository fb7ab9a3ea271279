#!/usr/bin/env python3
"""BF16 training-loop goldens: the 20-step PEFT LoRA run of make_trainer_goldens.py (same tiny
models, LoRA config, TrainingArguments, rows, order and seed) under the Hugging Face Trainer with
TrainingArguments(bf16=True, use_cpu=True) — the peer of tuna's `bf16: true` on a CPU.

What bf16=True means on a CPU in transformers 4.57.6 / accelerate 1.11 (read from their sources and
checked at run time below): the weights stay F32 and nothing is cast ahead of time. Trainer.__init__
sets half_precision_backend="cpu_amp" (args.device is cpu), hence use_cpu_amp=True and
amp_dtype=torch.bfloat16, and compute_loss_context_manager() enters
torch.autocast(device_type="cpu", dtype=torch.bfloat16) around every forward; accelerate
(mixed_precision="bf16", native_amp=True on cpu) also wraps model.forward in the same autocast and
converts the outputs to F32. Under CPU autocast, linear / addmm (GPT-2's Conv1D) / matmul / bmm
(eager attention's scores and weighted sum) take BF16 operands and return BF16 results (oneDNN,
F32 accumulation); RMSNorm/LayerNorm, softmax and the loss upcast or run in F32; autograd runs the
matching backward products in BF16; the parameters, their gradients, clipping and AdamW stay F32.
So HF rounds more than tuna does: tuna's linear outputs, attention and LoRA's rank-r products stay
F32 (src/ops/gemm_bf16.h). The script checks that autocast is really on: the Trainer's
use_cpu_amp/amp_dtype, the Accelerator's mixed_precision, and forward hooks that see BF16 outputs
from a LoRA-wrapped projection's base layer and from the LM head during the bf16 run (F32 in the
F32 run).

Each case is trained twice from the same PEFT initial adapter: once with bf16=True (the golden),
once in F32 (the band: how far HF's own bf16 run lies from HF's F32 run). For llama, gemma3 and
gpt2 the F32 run is the run of tests/golden/trainer/ and the script reports how far it is from
that golden's curve (0 when the toolchain and CPU reproduce it).

For each case writes tests/golden/trainer_bf16/<name>/:
  init/        PEFT's initial adapter (save_pretrained) — tuna starts from it
  final/       the adapter after the 20th bf16 step
  data.json    the training rows in the order the Trainer consumes them (as tests/golden/trainer)
  curve.json   {"model", "args" (TrainingArguments fields, bf16 included), "lora",
               "steps": per optimizer step of the bf16 run — loss (unrounded, as the Trainer
               accumulates it), grad_norm (before clipping), lr, num_items_in_batch,
               micro_batches, epoch,
               "steps_f32": the same for the F32 run,
               "hf_bf16_vs_f32": worst per-step relative |Δloss|, |Δgrad_norm| and the final
               adapters' worst per-tensor max|Δ| / max|ref| (ref = bf16 run),
               "autocast": what the checks above saw}
and tests/golden/trainer_bf16/manifest.json (command, versions, seed, CPU flags, sha256 per file).
Usage: python make_bf16_trainer_goldens.py [CASE ...]
"""

import hashlib
import json
import os
import platform
import sys
import tempfile

import accelerate
import peft
import safetensors.torch
import torch
import transformers
from accelerate.state import AcceleratorState
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, TrainingArguments

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_trainer_goldens import (  # noqa: E402  (the F32 golden's construction, reused as is)
    ARGS, MODELS, ROOT, SEED, SEVEN, Recorder, Rows, StepEnd, make_rows, save_adapter)

OUT = os.path.join(ROOT, "tests", "golden", "trainer_bf16")
F32_GOLDENS = os.path.join(ROOT, "tests", "golden", "trainer")
# name -> (tiny model, LoraConfig fields, number of rows); the TrainingArguments are ARGS.
CASES = {
    "llama": ("llama", dict(target_modules=SEVEN), 40),
    "gemma3": ("gemma3", dict(target_modules=SEVEN), 40),
    "gpt2": ("gpt2", dict(target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True), 40),
    "qwen2": ("qwen2", dict(target_modules=SEVEN), 40),
    "qwen3": ("qwen3", dict(target_modules=SEVEN), 40),
    "mistral": ("mistral", dict(target_modules=SEVEN), 40),
    "gemma2": ("gemma2", dict(target_modules=SEVEN), 40),
}


def load_peft_model(model_name, lora):
    """The tiny model in F32 with eager attention and PEFT's LoRA (r 4, alpha 8, dropout 0), seeded
    as make_trainer_goldens.run, so the initial adapter is the same."""
    torch.manual_seed(SEED)
    extra = dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0) if model_name == "gpt2" else {}
    model = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, model_name), dtype=torch.float32,
                                                 attn_implementation="eager", **extra)
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", **lora)
    model = get_peft_model(model, cfg)
    model.peft_config["default"].base_model_name_or_path = f"tests/golden/models/{model_name}"
    return model


class DtypeProbe:
    """Forward hooks on the first LoRA-wrapped projection's base layer and on the LM head that
    record the dtypes of their outputs during training."""

    def __init__(self, model):
        self.seen = {}
        base = next(m.base_layer for _, m in model.named_modules() if hasattr(m, "lora_A"))
        self.handles = [base.register_forward_hook(self.hook("projection_base_layer")),
                        model.get_output_embeddings().register_forward_hook(self.hook("lm_head"))]

    def hook(self, key):
        def record(module, inputs, output):
            self.seen.setdefault(key, set()).add(str(output.dtype).replace("torch.", ""))
        return record

    def close(self):
        for h in self.handles:
            h.remove()
        return {k: sorted(v) for k, v in self.seen.items()}


def train_recorded(model, rows, targs):
    """make_trainer_goldens.train_recorded, plus what the Trainer and accelerate chose for mixed
    precision and the dtypes the probes saw."""
    # bf16=True leaks into later runs of the same process: TrainingArguments.__post_init__ writes
    # os.environ["ACCELERATE_MIXED_PRECISION"] = "bf16" and an F32 TrainingArguments made later reads
    # it back as its default, so its Accelerator still autocasts (seen with transformers 4.57.6);
    # accelerate also keeps its state in a process-wide singleton. Every run starts clean.
    os.environ.pop("ACCELERATE_MIXED_PRECISION", None)
    AcceleratorState._reset_state(reset_partial_state=True)
    probe = DtypeProbe(model)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, report_to=[], use_cpu=True, seed=SEED, save_strategy="no",
                                 dataloader_drop_last=False, **targs)
        ends = StepEnd()
        trainer = Recorder(model=model, args=args, train_dataset=Rows(rows), callbacks=[ends])
        ends.trainer = trainer
        trainer.train()
    seen = {"trainer.use_cpu_amp": trainer.use_cpu_amp,
            "trainer.amp_dtype": str(getattr(trainer, "amp_dtype", None)).replace("torch.", ""),
            "args.half_precision_backend": args.half_precision_backend,
            "accelerator.mixed_precision": trainer.accelerator.mixed_precision,
            "accelerator.native_amp": trainer.accelerator.native_amp,
            "output_dtypes": probe.close()}
    assert len(trainer.curve) == trainer.state.global_step == len(ends.norms)
    for step, gn in zip(trainer.curve, ends.norms):
        step["grad_norm"] = gn
    return trainer.curve, seen


def adapter_tensors(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def rel_curve(got, ref, key):
    return max(abs(g[key] - r[key]) / abs(r[key]) for g, r in zip(got, ref))


def rel_adapter(got, ref):
    """Worst per-tensor max|Δ| / max|ref| (the parity test's measure)."""
    return max(float((got[k] - ref[k]).abs().max() / ref[k].abs().max()) for k in ref)


def run(name, case):
    model_name, lora, n_rows = case
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    targs = dict(ARGS)

    model = load_peft_model(model_name, lora)
    init = adapter_tensors(model)
    save_adapter(model, os.path.join(out, "init"))
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    rows = make_rows(model.config.vocab_size, pad, n_rows)
    bf16_args = {**targs, "bf16": True}
    curve, seen = train_recorded(model, rows, bf16_args)
    want = ["bfloat16"]
    if not (seen["trainer.use_cpu_amp"] and seen["trainer.amp_dtype"] == "bfloat16"
            and seen["output_dtypes"].get("projection_base_layer") == want
            and seen["output_dtypes"].get("lm_head") == want):
        raise SystemExit(f"{name}: bf16=True did not autocast to bfloat16 on the CPU: {seen}")
    final = adapter_tensors(model)
    save_adapter(model, os.path.join(out, "final"))

    model32 = load_peft_model(model_name, lora)
    assert all(torch.equal(init[k], v) for k, v in adapter_tensors(model32).items()), "init differs"
    curve32, seen32 = train_recorded(model32, rows, {**targs, "bf16": False})
    if (seen32["accelerator.mixed_precision"] != "no" or seen32["trainer.use_cpu_amp"]
            or seen32["output_dtypes"].get("lm_head") != ["float32"]
            or seen32["output_dtypes"].get("projection_base_layer") != ["float32"]):
        raise SystemExit(f"{name}: the F32 run is not F32: {seen32}")
    final32 = adapter_tensors(model32)

    band = {"loss": rel_curve(curve32, curve, "loss"), "grad_norm": rel_curve(curve32, curve, "grad_norm"),
            "final_adapter": rel_adapter(final32, final)}
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump(rows, f)
    with open(os.path.join(out, "curve.json"), "w") as f:
        json.dump({"model": model_name, "args": bf16_args, "lora": {"r": 4, "lora_alpha": 8, **lora},
                   "steps": curve, "steps_f32": curve32, "hf_bf16_vs_f32": band,
                   "autocast": {"bf16": seen, "f32": seen32}}, f, indent=1)
    msg = (f"{name}: bf16 loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}; HF bf16 vs HF F32 worst "
           f"relative: loss {band['loss']:.2e}, grad_norm {band['grad_norm']:.2e}, "
           f"final adapter {band['final_adapter']:.2e}")
    golden32 = os.path.join(F32_GOLDENS, name, "curve.json")
    if os.path.exists(golden32):  # the F32 run should be tests/golden/trainer's run
        ref = json.load(open(golden32))["steps"]
        msg += (f"; F32 run vs tests/golden/trainer: loss {rel_curve(curve32, ref, 'loss'):.1e}, "
                f"grad_norm {rel_curve(curve32, ref, 'grad_norm'):.1e}")
    print(msg, flush=True)


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return sorted(f for f in have if f.startswith("avx512") or f in ("amx_bf16", "avx2", "fma"))
    except OSError:
        pass
    return []


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]  # case names; none: all
    for name, case in CASES.items():
        if not only or name in only:
            run(name, case)
    manifest = {
        "command": "tools/reference/regenerate.sh trainer_bf16",
        "script": "tools/reference/make_bf16_trainer_goldens.py",
        "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
        "accelerate": accelerate.__version__, "safetensors": safetensors.__version__,
        "seed": SEED,
        "torch_num_threads": 1,
        "cpu": cpu_model(), "cpu_flags": cpu_flags(),
        "mkldnn_bf16_supported": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
        "precision": "TrainingArguments(bf16=True, use_cpu=True): torch.autocast(device_type='cpu', "
                     "dtype=torch.bfloat16) around each forward (Trainer cpu_amp + accelerate native_amp)",
        "files": {},
    }
    for root, _, files in sorted(os.walk(OUT)):
        for fn in sorted(files):
            if fn in ("manifest.json", "README.md"):
                continue
            p = os.path.join(root, fn)
            manifest["files"][os.path.relpath(p, OUT)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
