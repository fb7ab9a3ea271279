#!/usr/bin/env python3
"""Optimizer, LR-schedule, gradient-clipping and weight-decay-grouping goldens (DESIGN.md §4).

Writes tests/golden/optim/:
  trajectories.safetensors  F32 tensors (shared inputs and per-case results, see CASES):
      init.<t>                 [numel]        initial value of tensor t (t in TENSORS)
      grads.<t>                [STEPS, numel] the raw gradient of t at each optimizer step
      <case>.param.<t>         [len(CHECKPOINTS), numel]  t after each step in CHECKPOINTS
      <case>.state1.<t>        [numel]        exp_avg (AdamW) / momentum_buffer (SGD) after STEPS
      <case>.state2.<t>        [numel]        exp_avg_sq (AdamW) after STEPS
      <case>.grad_norm         [STEPS]        clip_grad_norm_'s return value (cases with clipping)
  trajectories.json  the cases: optimizer name, hyperparameters, which tensors get weight decay,
      max_grad_norm, and the learning rate used at every step (Python floats, exact)
  schedules.json     transformers.get_scheduler learning rates for every scheduler type with
      warmup variants, plus TrainingArguments.get_warmup_steps on (warmup_steps, warmup_ratio)
  decay_names.json   Trainer.get_decay_parameter_names on tiny models of every supported
      architecture (and on PEFT LoRA wrappings of two of them)
  manifest.json      command, versions, seed, sha256 of every file

The HF Trainer order is reproduced: for each step, clip (if max_grad_norm) then optimizer.step()
then scheduler.step(). adamw_torch is torch.optim.AdamW with foreach=False (what CPU tensors get by
default); adamw_torch_fused is fused=True (the Trainer's default optim with torch >= 2.8).

Usage: python make_optim_goldens.py [--out DIR]   (normally via regenerate.sh optim)
"""

import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np
import safetensors.torch
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, Trainer, TrainingArguments
from transformers.optimization import get_scheduler

SEED = 20261125
STEPS = 100
CHECKPOINTS = [1, 2, 3, 10, 50, 100]
# Shapes chosen so the vectorised body and the scalar tail of torch's CPU kernels both run.
TENSORS = {"a": (7, 13), "b": (64,), "c": (3, 5)}

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "optim")
MODELS_DIR = os.path.join(REPO, "tests", "golden", "models")


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ----------------------------------------------------------------------------------------------
# Optimizer trajectories
# ----------------------------------------------------------------------------------------------

def make_inputs(gen):
    init = {t: torch.randn(s, generator=gen) for t, s in TENSORS.items()}
    grads = {}
    # Per-step scale spans 10^-1.5 .. 10^1 so clipping at 1.0 is active on some steps only;
    # per-element magnitudes span 1e-4 .. 10; row 0 of "a" is zero on every 7th step.
    scales = 10.0 ** (torch.rand(STEPS, generator=gen, dtype=torch.float64) * 2.5 - 1.5)
    for t, s in TENSORS.items():
        n = int(np.prod(s))
        g = torch.randn((STEPS, n), generator=gen) * torch.logspace(-4, 1, n)[torch.randperm(n, generator=gen)]
        g = g * scales.float()[:, None]
        if t == "a":
            g[::7, :13] = 0.0
        grads[t] = g
    return init, grads


CASES = [
    # name, optim, hyperparameters, decay tensors, max_grad_norm, schedule
    dict(name="fused_linear", optim="adamw_torch_fused", lr=1e-2, betas=(0.9, 0.999), eps=1e-8,
         weight_decay=0.0, decay=["a", "b", "c"], max_grad_norm=None,
         schedule=dict(type="linear", warmup=10)),
    dict(name="fused_wd_clip", optim="adamw_torch_fused", lr=3e-3, betas=(0.9, 0.95), eps=1e-6,
         weight_decay=0.1, decay=["a", "b"], max_grad_norm=1.0,
         schedule=dict(type="cosine", warmup=7)),
    dict(name="fused_low_betas", optim="adamw_torch_fused", lr=3e-3, betas=(0.3, 0.5), eps=1e-3,
         weight_decay=0.01, decay=["a", "b", "c"], max_grad_norm=None,
         schedule=dict(type="constant", warmup=0)),
    dict(name="torch_wd_clip", optim="adamw_torch", lr=3e-3, betas=(0.9, 0.95), eps=1e-6,
         weight_decay=0.1, decay=["a", "b"], max_grad_norm=1.0,
         schedule=dict(type="cosine", warmup=7)),
    dict(name="torch_default", optim="adamw_torch", lr=5e-5, betas=(0.9, 0.999), eps=1e-8,
         weight_decay=0.0, decay=["a", "b", "c"], max_grad_norm=1.0,
         schedule=dict(type="linear", warmup=0)),
    dict(name="sgd_clip", optim="sgd", lr=0.1, weight_decay=0.0, decay=["a", "b", "c"],
         max_grad_norm=1.0, schedule=dict(type="linear", warmup=5)),
    dict(name="sgd_nesterov_wd", optim="sgd", lr=0.05, momentum=0.9, dampening=0.0, nesterov=True,
         weight_decay=0.01, decay=["a", "c"], max_grad_norm=None,
         schedule=dict(type="cosine", warmup=0)),
    dict(name="sgd_dampening", optim="sgd", lr=0.05, momentum=0.8, dampening=0.3, nesterov=False,
         weight_decay=0.0, decay=["a", "b", "c"], max_grad_norm=2.0,
         schedule=dict(type="constant_with_warmup", warmup=3)),
]


def build_optimizer(case, params):
    decay = [params[t] for t in TENSORS if t in case["decay"]]
    no_decay = [params[t] for t in TENSORS if t not in case["decay"]]
    groups = [{"params": decay, "weight_decay": case["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    if case["optim"] == "sgd":
        return torch.optim.SGD(groups, lr=case["lr"], momentum=case.get("momentum", 0.0),
                               dampening=case.get("dampening", 0.0), nesterov=case.get("nesterov", False))
    kw = dict(lr=case["lr"], betas=case["betas"], eps=case["eps"])
    if case["optim"] == "adamw_torch_fused":
        return torch.optim.AdamW(groups, fused=True, **kw)
    return torch.optim.AdamW(groups, foreach=False, **kw)


def run_case(case, init, grads):
    params = {t: init[t].clone().reshape(-1).requires_grad_() for t in TENSORS}
    opt = build_optimizer(case, params)
    sched = get_scheduler(case["schedule"]["type"], opt, num_warmup_steps=case["schedule"]["warmup"],
                          num_training_steps=STEPS)
    out, lrs, norms = {}, [], []
    snaps = {t: [] for t in TENSORS}
    for s in range(STEPS):
        for t in TENSORS:
            params[t].grad = grads[t][s].clone()
        if case["max_grad_norm"] is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), case["max_grad_norm"])))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        if s + 1 in CHECKPOINTS:
            for t in TENSORS:
                snaps[t].append(params[t].detach().clone())
    for t in TENSORS:
        out[f"{case['name']}.param.{t}"] = torch.stack(snaps[t])
        st = opt.state[params[t]]
        if case["optim"] == "sgd":
            if "momentum_buffer" in st and st["momentum_buffer"] is not None:
                out[f"{case['name']}.state1.{t}"] = st["momentum_buffer"].clone()
        else:
            out[f"{case['name']}.state1.{t}"] = st["exp_avg"].clone()
            out[f"{case['name']}.state2.{t}"] = st["exp_avg_sq"].clone()
    if norms:
        out[f"{case['name']}.grad_norm"] = torch.tensor(norms, dtype=torch.float32)
    desc = {k: v for k, v in case.items()}
    desc["lrs"] = lrs
    return out, desc


def make_trajectories(out_dir):
    gen = torch.Generator().manual_seed(SEED)
    init, grads = make_inputs(gen)
    tensors = {}
    for t in TENSORS:
        tensors[f"init.{t}"] = init[t].reshape(-1).clone()
        tensors[f"grads.{t}"] = grads[t].contiguous()
    cases = []
    for case in CASES:
        res, desc = run_case(case, init, grads)
        tensors.update(res)
        cases.append(desc)
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()},
                                os.path.join(out_dir, "trajectories.safetensors"))
    doc = {"steps": STEPS, "checkpoints": CHECKPOINTS,
           "tensors": {t: list(s) for t, s in TENSORS.items()}, "cases": cases}
    with open(os.path.join(out_dir, "trajectories.json"), "w") as f:
        json.dump(doc, f, indent=1)


# ----------------------------------------------------------------------------------------------
# Schedules
# ----------------------------------------------------------------------------------------------

SCHEDULES = [
    # type, num_training_steps, warmup_steps, warmup_ratio, scheduler kwargs, base lr
    ("linear", 20, 0, 0.0, {}, 5e-5),
    ("linear", 23, 5, 0.0, {}, 2e-4),
    ("linear", 23, 0, 0.1, {}, 2e-4),     # ceil(2.3) = 3
    ("linear", 10, 0, 0.05, {}, 1e-3),    # ceil(0.5) = 1
    ("linear", 7, 10, 0.0, {}, 1e-3),     # warmup longer than training
    ("linear", 1, 0, 0.0, {}, 1e-3),
    ("cosine", 25, 0, 0.0, {}, 1e-4),
    ("cosine", 37, 4, 0.0, {}, 1e-4),
    ("cosine", 33, 0, 0.03, {}, 2e-4),    # ceil(0.99) = 1
    ("cosine", 30, 3, 0.0, {"num_cycles": 1.5}, 1e-4),
    ("cosine_with_restarts", 31, 3, 0.0, {}, 1e-4),
    ("cosine_with_restarts", 31, 3, 0.0, {"num_cycles": 3}, 1e-4),
    ("cosine_with_restarts", 29, 0, 0.2, {"num_cycles": 2}, 1e-4),
    ("polynomial", 21, 4, 0.0, {}, 1e-3),
    ("polynomial", 21, 4, 0.0, {"power": 2.0, "lr_end": 1e-5}, 1e-3),
    ("polynomial", 18, 0, 0.0, {"power": 0.5, "lr_end": 0.0}, 3e-4),
    ("constant", 12, 0, 0.0, {}, 1e-4),
    ("constant", 12, 5, 0.0, {}, 1e-4),   # constant ignores warmup
    ("constant_with_warmup", 15, 4, 0.0, {}, 1e-4),
    ("constant_with_warmup", 15, 0, 0.25, {}, 1e-4),  # ceil(3.75) = 4
    ("inverse_sqrt", 30, 5, 0.0, {}, 1e-3),
    ("inverse_sqrt", 30, 0, 0.0, {}, 1e-3),           # timescale 10000
    ("inverse_sqrt", 30, 4, 0.0, {"timescale": 9}, 1e-3),
    ("cosine_with_min_lr", 27, 3, 0.0, {"min_lr_rate": 0.1}, 1e-4),
    ("cosine_with_min_lr", 27, 3, 0.0, {"min_lr": 3e-6}, 1e-4),
    ("cosine_warmup_with_min_lr", 27, 5, 0.0, {"min_lr_rate": 0.1}, 1e-4),
    ("cosine_warmup_with_min_lr", 27, 5, 0.0, {"min_lr": 1e-6, "warmup_lr_rate": 0.05}, 1e-4),
    ("warmup_stable_decay", 30, 4, 0.0, {"num_decay_steps": 10}, 1e-4),
    ("warmup_stable_decay", 30, 6, 0.0, {"num_decay_steps": 8, "warmup_type": "cosine",
                                         "decay_type": "1-sqrt", "min_lr_ratio": 0.1}, 1e-4),
    ("warmup_stable_decay", 30, 6, 0.0, {"num_decay_steps": 9, "num_stable_steps": 5,
                                         "warmup_type": "1-sqrt", "decay_type": "linear"}, 1e-4),
]


def make_schedules(out_dir, tmp_dir):
    entries = []
    for kind, total, warmup_steps, warmup_ratio, kwargs, lr in SCHEDULES:
        args = TrainingArguments(output_dir=tmp_dir, warmup_steps=warmup_steps, warmup_ratio=warmup_ratio,
                                 report_to="none", learning_rate=lr)
        warmup = args.get_warmup_steps(total)
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr)
        sched = get_scheduler(kind, opt, num_warmup_steps=warmup, num_training_steps=total,
                              scheduler_specific_kwargs=dict(kwargs))
        lrs = []
        for _ in range(total + 3):  # a few steps past the end too
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        entries.append({"type": kind, "num_training_steps": total, "warmup_steps": warmup_steps,
                        "warmup_ratio": warmup_ratio, "kwargs": kwargs, "learning_rate": lr,
                        "resolved_warmup_steps": warmup, "lrs": lrs})
    with open(os.path.join(out_dir, "schedules.json"), "w") as f:
        json.dump({"schedules": entries}, f, indent=1)


# ----------------------------------------------------------------------------------------------
# Weight-decay grouping
# ----------------------------------------------------------------------------------------------

class ExaoneRMSNorm(torch.nn.Module):
    """EXAONE 3.0's remote-code norm: a plain nn.Module (not an nn.LayerNorm subclass)."""

    def __init__(self, c):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(c))


def exaone_like(cfg):
    """EXAONE 3.0's module tree and parameter names (transformers has no EXAONE code; the
    modules follow the remote modeling_exaone.py: ExaoneRMSNorm for ln_1/ln_2/ln_f)."""
    C, F, L, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_layers"], cfg["vocab_size"]
    D = C // cfg["num_attention_heads"]
    K = cfg["num_key_value_heads"] * D
    lin = lambda i, o: torch.nn.Linear(i, o, bias=False)  # noqa: E731
    blocks = torch.nn.ModuleList()
    for _ in range(L):
        b = torch.nn.Module()
        b.ln_1 = ExaoneRMSNorm(C)
        b.attn = torch.nn.Module()
        b.attn.attention = torch.nn.Module()
        for n, o in (("q_proj", C), ("k_proj", K), ("v_proj", K)):
            setattr(b.attn.attention, n, lin(C, o))
        b.attn.attention.out_proj = lin(C, C)
        b.ln_2 = ExaoneRMSNorm(C)
        b.mlp = torch.nn.Module()
        b.mlp.c_fc_0, b.mlp.c_fc_1, b.mlp.c_proj = lin(C, F), lin(C, F), lin(F, C)
        blocks.append(b)
    m = torch.nn.Module()
    m.transformer = torch.nn.Module()
    m.transformer.wte = torch.nn.Embedding(V, C)
    m.transformer.h = blocks
    m.transformer.ln_f = ExaoneRMSNorm(C)
    m.lm_head = lin(C, V)
    return m


def decay_entry(label, model_type, model):
    names = [n for n, _ in model.named_parameters()]
    decay = set(Trainer.get_decay_parameter_names(None, model))
    return {"label": label, "model_type": model_type, "names": names,
            "decay": [n in decay for n in names]}


def make_decay_names(out_dir):
    import peft
    entries = []
    for d in sorted(os.listdir(MODELS_DIR)):
        cfg_path = os.path.join(MODELS_DIR, d, "config.json")
        if not os.path.exists(cfg_path):
            continue
        with open(cfg_path) as f:
            cfg = json.load(f)
        if cfg["model_type"] == "exaone":
            entries.append(decay_entry(d, "exaone", exaone_like(cfg)))
            continue
        config = AutoConfig.from_pretrained(os.path.join(MODELS_DIR, d))
        if cfg["model_type"] == "gemma3":
            from transformers import Gemma3ForConditionalGeneration
            model = Gemma3ForConditionalGeneration(config)
        else:
            model = AutoModelForCausalLM.from_config(config)
        entries.append(decay_entry(d, config.model_type, model))
        if d in ("llama", "gpt2"):
            targets = "all-linear" if d == "llama" else ["c_attn", "c_proj", "c_fc"]
            save = ["lm_head", "model.norm"] if d == "llama" else ["ln_f"]
            lcfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets, modules_to_save=save,
                                   bias="lora_only" if d == "gpt2" else "none",
                                   fan_in_fan_out=(d == "gpt2"))
            pm = peft.get_peft_model(AutoModelForCausalLM.from_config(config), lcfg)
            e = decay_entry(d + "_peft_lora", config.model_type, pm)
            trainable = {n for n, p in pm.named_parameters() if p.requires_grad}
            e["trainable"] = [n in trainable for n in e["names"]]
            entries.append(e)
    with open(os.path.join(out_dir, "decay_names.json"), "w") as f:
        json.dump({"models": entries}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        make_trajectories(args.out)
        make_schedules(args.out, tmp)
        make_decay_names(args.out)
    import peft
    files = sorted(f for f in os.listdir(args.out) if f != "manifest.json")
    manifest = {
        "description": "Optimizer / LR schedule / clipping / weight-decay goldens. See the script's docstring.",
        "command": "tools/reference/regenerate.sh optim",
        "script": "tools/reference/make_optim_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "peft": peft.__version__,
                     "numpy": np.__version__,
                     "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "seed": SEED,
        "sha256": {f: sha256_file(os.path.join(args.out, f)) for f in files},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(os.path.join(args.out, "manifest.json"))


if __name__ == "__main__":
    sys.exit(main())
