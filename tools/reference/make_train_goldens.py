#!/usr/bin/env python3
"""Whole-model training goldens (issue 5): loss and gradients of PEFT LoRA and of full fine-tuning
on the tiny golden models (tests/golden/models), from transformers + PEFT in F32 eager.

Per model, one fixed batch: the model golden's padded batch ([2, 24]; row 1 ends with 7 pads,
mask 0) with the pad id written at one valid position of row 0 (so nn.Embedding(padding_idx)
matters: that row gets no lookup gradient) and labels = ids with -100 at pads and at the first 4
"prompt" tokens of row 0.
  (a) LoRA: PEFT LoraConfig(r=4, lora_alpha=8, lora_dropout=0) on q,k,v,o,gate,up,down (GPT-2:
      c_attn, c_proj, c_fc with fan_in_fan_out=True); A from PEFT's Kaiming init, B random
      non-zero (DESIGN.md §8). Loss = model(ids, attention_mask, labels).loss (mean over counted
      tokens); every lora_A / lora_B gradient.
  (b) llama only: the same with lora_dropout=0.1, PEFT's dropout modules replaced by tuna's
      Philox mask (seed, stream = lora_dropout_stream(step, micro, layer, target)).
  (c) full fine-tuning: every parameter trainable, loss = model(ids, attention_mask, labels,
      num_items_in_batch=counted tokens).loss (HF's whole-batch normaliser); every parameter
      gradient, keyed by tuna's slot names (tied embeddings: one gradient). Tensors with more than
      4096 elements are stored as 1024 sampled entries (+ the first 64 and the argmax) with their
      full-tensor max|g| and L2 norm (DESIGN.md §8: large arrays as samples).

Writes tests/golden/train/<model>.safetensors and manifest.json (module list, scalars, sha256).
Usage: python make_train_goldens.py [--out DIR]   (normally: tools/reference/regenerate.sh train)
"""

import argparse
import json
import os
import platform
import re
import sys

import numpy as np
import peft
import safetensors
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_grad_goldens import MaskDropout, keep_mask, sha256_file  # noqa: E402  (Philox layout)

SEED = 20261201
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(REPO, "tests", "golden", "models")
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "train")
FAMILIES = ["llama", "llama_linear_tied", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gpt2"]
R, ALPHA = 4, 8
DROPOUT = {"p": 0.1, "seed": 1234, "step": 3, "micro": 1}
SAMPLE, FULL_MAX = 1024, 4096
# tuna's LoraTarget enum order (src/model/lora_adapter.h)
TARGETS = ["Q", "K", "V", "O", "GATE", "UP", "DOWN", "QKV"]
LEAF_TARGET = {"q_proj": "Q", "k_proj": "K", "v_proj": "V", "o_proj": "O", "gate_proj": "GATE",
               "up_proj": "UP", "down_proj": "DOWN", "c_attn": "QKV", "c_fc": "UP"}


def lora_dropout_stream(step, micro, layer, target):
    """src/model/train_step.h: step (36 bits) | micro (12) | layer (12) | target (4)."""
    return (step << 28) | (micro << 16) | (layer << 4) | TARGETS.index(target)


def module_target(name):
    m = re.search(r"\.(?:layers|h)\.(\d+)\.", name)
    leaf = name.rsplit(".", 1)[1]
    if leaf == "c_proj":
        target = "O" if ".attn." in name else "DOWN"
    else:
        target = LEAF_TARGET[leaf]
    return int(m.group(1)), target


SLOT_OF = [  # HF parameter name (regex) -> tuna slot (train_step.h)
    (r"(?:model\.|transformer\.)?(?:embed_tokens|wte)\.weight", "embed"),
    (r"(?:transformer\.)?wpe\.weight", "pos_embed"),
    (r"(?:model\.norm|transformer\.ln_f)\.weight", "final_norm"),
    (r"transformer\.ln_f\.bias", "final_norm_bias"),
    (r"lm_head\.weight", "lm_head"),
]
LAYER_SLOT = {
    "input_layernorm.weight": "attn_norm", "ln_1.weight": "attn_norm", "ln_1.bias": "attn_norm_bias",
    "self_attn.q_proj.weight": "q", "self_attn.k_proj.weight": "k", "self_attn.v_proj.weight": "v",
    "self_attn.o_proj.weight": "o", "self_attn.q_proj.bias": "q_bias",
    "self_attn.k_proj.bias": "k_bias", "self_attn.v_proj.bias": "v_bias",
    "self_attn.q_norm.weight": "q_norm", "self_attn.k_norm.weight": "k_norm",
    "attn.c_attn.weight": "qkv", "attn.c_attn.bias": "qkv_bias", "attn.c_proj.weight": "o",
    "attn.c_proj.bias": "o_bias", "ln_2.weight": "ffn_norm", "ln_2.bias": "ffn_norm_bias",
    "mlp.c_fc.weight": "up", "mlp.c_fc.bias": "up_bias", "mlp.c_proj.weight": "down",
    "mlp.c_proj.bias": "down_bias", "mlp.gate_proj.weight": "gate", "mlp.up_proj.weight": "up",
    "mlp.down_proj.weight": "down", "pre_feedforward_layernorm.weight": "ffn_norm",
    "post_feedforward_layernorm.weight": "post_ffn_norm",
}


def slot_of(model_type, name):
    for pattern, slot in SLOT_OF:
        if re.fullmatch(pattern, name):
            return slot
    m = re.fullmatch(r"(?:model\.layers|transformer\.h)\.(\d+)\.(.+)", name)
    rest = m.group(2)
    if rest == "post_attention_layernorm.weight":  # Llama: pre-MLP norm; Gemma: sandwich norm
        return f"layers.{m.group(1)}." + ("post_attn_norm" if model_type.startswith("gemma")
                                          else "ffn_norm")
    return f"layers.{m.group(1)}.{LAYER_SLOT[rest]}"


def load(name):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, name), dtype=torch.float32,
                                                 attn_implementation="eager")
    return model.eval()  # no dropout anywhere (GPT-2's resid/embd/attn dropouts default to 0.1)


def batch(name, pad_id):
    io = safetensors.torch.load_file(os.path.join(MODELS, name, "io.safetensors"))
    ids, mask = io["input_ids"].clone(), io["attention_mask"].clone()
    ids[0, 10] = pad_id  # a real token equal to the pad id (pad = eos setups)
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :4] = -100
    return ids, mask, labels


def count_items(labels):
    return int((labels[:, 1:] != -100).sum())


def lora_case(name, gen, dropout=None, init=None):
    """init: A/B tensors of an earlier case to start from (else B is drawn from gen)."""
    torch.manual_seed(SEED)
    model = load(name)
    gpt2 = model.config.model_type == "gpt2"
    cfg = LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=dropout["p"] if dropout else 0.0,
                     target_modules=["c_attn", "c_proj", "c_fc"] if gpt2 else
                     ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                     fan_in_fan_out=gpt2, task_type="CAUSAL_LM")
    pm = get_peft_model(model, cfg)
    ids, mask, labels = batch(name, pad_id(model))
    N = ids.numel()
    modules, t = [], {}
    for mname, mod in pm.base_model.model.named_modules():
        if not hasattr(mod, "lora_A") or "default" not in mod.lora_A:
            continue
        layer, target = module_target(mname)
        A, B = mod.lora_A["default"].weight, mod.lora_B["default"].weight
        with torch.no_grad():
            if init is None:
                B.copy_(torch.randn(B.shape, generator=gen) * 0.1)
            else:
                A.copy_(init[f"{mname}.A"])
                B.copy_(init[f"{mname}.B"])
        if dropout:
            stream = lora_dropout_stream(dropout["step"], dropout["micro"], layer, target)
            mod.lora_dropout["default"] = MaskDropout(
                keep_mask(dropout["seed"], stream, N * A.shape[1], dropout["p"]), dropout["p"])
        modules.append({"module": mname, "layer": layer, "target": target, "in": A.shape[1],
                        "out": B.shape[0]})
        t[f"{mname}.A"], t[f"{mname}.B"] = A.detach().clone(), B.detach().clone()
    out = pm(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    for m in modules:
        mod = pm.base_model.model.get_submodule(m["module"])
        t[m["module"] + ".dA"] = mod.lora_A["default"].weight.grad.clone()
        t[m["module"] + ".dB"] = mod.lora_B["default"].weight.grad.clone()
    return t, modules, out.loss.item(), cfg.lora_alpha / cfg.r


def pad_id(model):
    p = model.config.pad_token_id
    return 0 if p is None else int(p)


def full_case(name, gen):
    model = load(name)
    ids, mask, labels = batch(name, pad_id(model))
    n = count_items(labels)
    out = model(input_ids=ids, attention_mask=mask, labels=labels,
                num_items_in_batch=torch.tensor(n))
    out.loss.backward()
    t, slots = {}, []
    for pname, p in model.named_parameters():  # tied weights appear once
        slot = slot_of(model.config.model_type, pname)
        g = p.grad.detach().contiguous()
        flat = g.flatten()
        slots.append({"slot": slot, "param": pname, "shape": list(g.shape),
                      "max_abs": float(flat.abs().max()), "l2": float(flat.double().norm())})
        if flat.numel() <= FULL_MAX:
            t[f"full.{slot}"] = g
            continue
        pick = torch.randperm(flat.numel(), generator=gen)[:SAMPLE]
        pick = torch.cat([torch.arange(64), pick, flat.abs().argmax().view(1)]).unique()
        t[f"full.{slot}.idx"] = pick.to(torch.int64)
        t[f"full.{slot}.val"] = flat[pick].clone()
    return t, slots, out.loss.item(), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)
    models = {}
    for name in FAMILIES:
        ids, mask, labels = batch(name, pad_id(load(name)))
        tensors = {"input_ids": ids.to(torch.int32), "attention_mask": mask.to(torch.int32),
                   "labels": labels.to(torch.int32)}
        lt, modules, lora_loss, scale = lora_case(name, gen)
        tensors.update({f"lora.{k}": v for k, v in lt.items()})
        entry = {"n_counted": count_items(labels), "lora": {"r": R, "alpha": ALPHA, "scale": scale,
                 "loss": lora_loss, "modules": modules}}
        if name == "llama":
            dt, _, drop_loss, _ = lora_case(name, gen, DROPOUT, init=lt)
            tensors.update({f"dropout.{k}": v for k, v in dt.items() if k.endswith((".dA", ".dB"))})
            entry["lora_dropout"] = dict(DROPOUT, loss=drop_loss,
                                         note="same A and B as 'lora'")
        ft, slots, full_loss, n = full_case(name, gen)
        tensors.update(ft)
        entry["full"] = {"loss": full_loss, "num_items_in_batch": n, "slots": slots}
        path = os.path.join(args.out, f"{name}.safetensors")
        safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()}, path)
        entry["sha256"] = sha256_file(path)
        models[name] = entry
        print(f"{name}: lora loss {lora_loss:.6f}, full loss {full_loss:.6f}, "
              f"{os.path.getsize(path)} bytes")
    manifest = {
        "description": "Whole-model training goldens (issue 5): PEFT LoRA and full fine-tuning "
                       "losses and gradients on the tiny golden models. See the script's docstring.",
        "command": "tools/reference/regenerate.sh train",
        "script": "tools/reference/make_train_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "peft": peft.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "seed": SEED,
        "seed_rule": "torch.manual_seed(SEED) before each get_peft_model (PEFT's Kaiming A); one "
                     "torch.Generator(SEED) draws every B and every sample index, model by model",
        "settings": {"dtype": "float32", "attn_implementation": "eager", "mode": "eval",
                     "torch_num_threads": 1},
        "comparison": "per tensor max|tuna - ref| / max|ref| <= 1e-4 (sampled tensors: over the "
                      "samples, relative to the full tensor's max|ref|; plus |L2 - L2_ref| / L2_ref)",
        "models": models,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
