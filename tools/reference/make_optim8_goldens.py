#!/usr/bin/env python3
"""bitsandbytes 8-bit AdamW goldens (adamw_bnb_8bit / adamw_8bit / paged_adamw_8bit).

What runs: bitsandbytes' own optimizer class, bnb.optim.AdamW(optim_bits=8) -- exactly what the
HF Trainer builds for those names (block_wise=True, min_8bit_size=4096, percentile_clipping=100,
is_paged for paged_adamw_8bit) -- on CPU tensors. bitsandbytes 0.48.2 has no CPU kernel for
the 8-bit update, so two things are patched, nothing else:
  * functional.is_on_gpu (a GPU-only argument check) accepts CPU tensors;
  * bitsandbytes::optimizer_update_8bit_blockwise gets a CPU kernel: bitsandbytes' own pure-
    PyTorch reference, backends/triton/kernels_optim.optimizer_update_8bit_blockwise_pytorch,
    called unchanged (it is shipped in the wheel; the XPU/Triton backends keep it as their
    reference). Tensors under 4096 elements take bitsandbytes' F32 path, whose CPU kernel is
    the library's own "default" optimizer_update_32bit (torch.compile of its Python formula).
So every number here comes from bitsandbytes' code, run by torch on the CPU -- not bnb's CUDA
kernel (no GPU here); docs/training.md lists how the CUDA kernel differs.

Writes tests/golden/optim/adamw8bit/:
  trajectories.safetensors
      init.<t>              [numel] F32        initial parameter (flattened)
      gbase.<t>             [K, numel] F32     gradient at step s (0-based) is
                                               gbase[s % K] * gscale[s] (one F32 multiply)
      <case>.param.<t>      [len(checkpoints), numel] F32, after each checkpoint step
      <case>.state1.<t>     [len(checkpoints), numel] U8 codes (8-bit tensors) or F32 exp_avg
      <case>.state2.<t>     same for the second moment
      <case>.absmax1.<t>    [len(checkpoints), ceil(numel/256)] F32 (8-bit tensors only)
      <case>.absmax2.<t>
  trajectories.json   steps, K, gscale, tensors (shape, decay), cases (optim, hyperparameters,
                      the learning rate of every step as a Python float, checkpoints)
  manifest.json

Usage: python make_optim8_goldens.py [--out DIR]   (normally via regenerate.sh optim8)
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

import bitsandbytes as bnb
import bitsandbytes.functional as bnb_functional
from bitsandbytes._ops import register_kernel
from bitsandbytes.backends.triton import kernels_optim
from transformers.optimization import get_scheduler

SEED = 20261126
STEPS = 60
K = 3  # distinct gradient patterns, scaled per step
# a: 5000 (not a multiple of 256; one all-zero block), b: 4096 (the 8-bit threshold itself),
# c: 9000, s: 2100 (< 4096: F32 state).
TENSORS = {"a": ((50, 100), True), "b": ((64, 64), False), "c": ((36, 250), True), "s": ((3, 700), True)}

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "optim", "adamw8bit")

CASES = [
    dict(name="adamw_8bit", optim="adamw_8bit", lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
         weight_decay=0.01, schedule=dict(type="linear", warmup=5), checkpoints=[1, 10, 60]),
    dict(name="paged_adamw_8bit", optim="paged_adamw_8bit", lr=1e-3, betas=(0.8, 0.95), eps=1e-6,
         weight_decay=0.1, schedule=dict(type="cosine", warmup=0), checkpoints=[60]),
]


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def install_cpu_kernel():
    bnb_functional.is_on_gpu = lambda tensors: True
    # bitsandbytes' F32 kernel is torch.compile'd and dynamo specialises on the learning rate:
    # one compilation per distinct lr. Past the recompile limit (8) it would silently run the
    # Python formula eagerly (other sqrt, other arithmetic) -- lift the limit, fail if hit.
    torch._dynamo.config.recompile_limit = 100000
    torch._dynamo.config.accumulated_recompile_limit = 100000
    torch._dynamo.config.fail_on_recompile_limit_hit = True

    @register_kernel("bitsandbytes::optimizer_update_8bit_blockwise", "cpu")
    def _(optimizer_name, g, p, state1, state2, beta1, beta2, beta3, alpha, eps, step, lr, qmap1,
          qmap2, absmax1, absmax2, weight_decay, gnorm_scale, skip_zeros=False):
        kernels_optim.optimizer_update_8bit_blockwise_pytorch(
            p, g, state1, state2, beta1, beta2, beta3, alpha, eps, step, lr, qmap1, qmap2, absmax1,
            absmax2, weight_decay, gnorm_scale, skip_zeros, optimizer_name=optimizer_name)


def make_inputs(gen):
    init, gbase = {}, {}
    for t, (shape, _) in TENSORS.items():
        n = int(np.prod(shape))
        init[t] = torch.randn(n, generator=gen) * 0.5
        mag = torch.logspace(-4, 1, n)[torch.randperm(n, generator=gen)]
        g = torch.randn((K, n), generator=gen) * mag
        g[:, torch.randperm(n, generator=gen)[: n // 50]] = 0.0  # scattered always-zero elements
        big = torch.randperm(n, generator=gen)[:5]
        g[0, big] = 1000.0 * torch.sign(torch.randn(5, generator=gen))  # rare huge gradients
        if t == "a":
            g[:, 256:512] = 0.0  # one whole 256-block never gets a gradient
        gbase[t] = g.contiguous()
    scales = (10.0 ** (torch.rand(STEPS, generator=gen, dtype=torch.float64) * 3 - 2)).float()
    scales[torch.rand(STEPS, generator=gen) < 0.25] *= -1
    scales[17] = 0.0  # one step with an all-zero gradient
    return init, gbase, [float(x) for x in scales]


def run_case(case, init, gbase, gscale):
    params = {t: torch.nn.Parameter(init[t].clone().reshape(TENSORS[t][0])) for t in TENSORS}
    decay = [params[t] for t in TENSORS if TENSORS[t][1]]
    no_decay = [params[t] for t in TENSORS if not TENSORS[t][1]]
    groups = [{"params": decay, "weight_decay": case["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    # What transformers' Trainer builds for adamw_8bit / paged_adamw_8bit.
    opt = bnb.optim.AdamW(groups, lr=case["lr"], betas=case["betas"], eps=case["eps"], optim_bits=8,
                          is_paged=case["optim"].startswith("paged"))
    sched = get_scheduler(case["schedule"]["type"], opt, num_warmup_steps=case["schedule"]["warmup"],
                          num_training_steps=STEPS)
    snaps = {}
    lrs = []
    for s in range(STEPS):
        for t in TENSORS:
            params[t].grad = (gbase[t][s % K] * torch.tensor(gscale[s], dtype=torch.float32)).reshape(
                TENSORS[t][0])
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        if s + 1 in case["checkpoints"]:
            for t in TENSORS:
                st = opt.state[params[t]]
                snaps.setdefault(f"param.{t}", []).append(params[t].detach().reshape(-1).clone())
                for k in ("state1", "state2", "absmax1", "absmax2"):
                    if k in st:
                        snaps.setdefault(f"{k}.{t}", []).append(st[k].reshape(-1).clone())
    for t in TENSORS:
        st = opt.state[params[t]]
        eight = int(np.prod(TENSORS[t][0])) >= 4096
        assert (st["state1"].dtype == torch.uint8) == eight, t
        if eight:
            # create_dynamic_map as built, not the CPU quantize kernel's copy (entry 0 set to -1)
            assert st["qmap1"][0].item() != -1.0 and st["qmap2"][0].item() == 0.0
    out = {f"{case['name']}.{k}": torch.stack(v) for k, v in snaps.items()}
    desc = dict(case)
    desc["lrs"] = lrs
    return out, desc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    install_cpu_kernel()
    gen = torch.Generator().manual_seed(SEED)
    init, gbase, gscale = make_inputs(gen)
    tensors = {}
    for t in TENSORS:
        tensors[f"init.{t}"] = init[t]
        tensors[f"gbase.{t}"] = gbase[t]
    cases = []
    for case in CASES:
        res, desc = run_case(case, init, gbase, gscale)
        tensors.update(res)
        cases.append(desc)
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()},
                                os.path.join(args.out, "trajectories.safetensors"))
    doc = {"steps": STEPS, "k": K, "gscale": gscale,
           "tensors": {t: {"shape": list(s), "decay": d} for t, (s, d) in TENSORS.items()},
           "cases": cases}
    with open(os.path.join(args.out, "trajectories.json"), "w") as f:
        json.dump(doc, f, indent=1)
    files = sorted(f for f in os.listdir(args.out) if f != "manifest.json")
    manifest = {
        "description": "bitsandbytes AdamW8bit trajectories, bnb's own code on the CPU. See the script's docstring.",
        "command": "tools/reference/regenerate.sh optim8",
        "script": "tools/reference/make_optim8_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "bitsandbytes": bnb.__version__, "numpy": np.__version__,
                     "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "reference": "bnb.optim.AdamW(optim_bits=8); 8-bit update = bitsandbytes.backends.triton."
                     "kernels_optim.optimizer_update_8bit_blockwise_pytorch; F32 update = "
                     "bitsandbytes 'default' optimizer_update_32bit",
        "seed": SEED,
        "sha256": {f: sha256_file(os.path.join(args.out, f)) for f in files},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(os.path.join(args.out, "manifest.json"))


if __name__ == "__main__":
    sys.exit(main())
