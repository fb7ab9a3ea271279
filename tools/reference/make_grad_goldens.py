#!/usr/bin/env python3
"""Gradient goldens for the hand-written backward ops (DESIGN.md §2.1, §4, §8).

Small random inputs and PyTorch autograd gradients, computed with the peers' own modules where
they exist (transformers' LlamaRMSNorm / Gemma3RMSNorm / apply_rotary_pos_emb / rope init
functions / Gemma 2 eager attention / ACT2FN / Gemma3TextScaledWordEmbedding / ForCausalLMLoss,
PEFT's lora.Linear, torch's nn.LayerNorm, nn.Linear, Conv1D and F.cross_entropy). Every loss is
L = sum(output * dy) for a random dy, so the stored gradients are vector-Jacobian products with
dy (the cross-entropy golden stores HF's mean loss and its gradients instead).

Writes tests/golden/grad/<op>.safetensors (tensors: inputs, dy, gradients, and the op's scalars
as one-element F64 tensors — not safetensors metadata, whose key order the library randomises,
which would make the files differ from run to run) and tests/golden/grad/manifest.json
(command, versions, seed, scalars, sha256).
LoRA gradients use a random non-zero B (DESIGN.md §8). LoRA dropout uses tuna's mask: a Python
Philox4x32-10 (the same counter layout as src/core/rng.h) replaces PEFT's nn.Dropout module, so
PEFT's forward runs with the exact mask tuna regenerates.

Usage: python make_grad_goldens.py [--out DIR]   (normally via tools/reference/regenerate.sh grad)
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys

import numpy as np
import peft
import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers
from peft.tuners.lora.layer import Linear as LoraLinear
from transformers.activations import ACT2FN
from transformers.loss.loss_utils import ForCausalLMLoss
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.gemma2.modeling_gemma2 import eager_attention_forward
from transformers.models.gemma3.modeling_gemma3 import Gemma3RMSNorm, Gemma3TextScaledWordEmbedding
from transformers.models.llama.modeling_llama import LlamaRMSNorm, apply_rotary_pos_emb
from transformers.pytorch_utils import Conv1D

SEED = 20261124
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "grad")
GEN = torch.Generator().manual_seed(SEED)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=GEN, dtype=torch.float32) * scale


def bf16_exact(t):
    """Values exactly representable in BF16 (so the C++ test can hold them as a BF16 weight)."""
    return t.to(torch.bfloat16).to(torch.float32)


def leaf(t):
    return t.clone().detach().requires_grad_(True)


def vjp(out, dy):
    (out * dy).sum().backward()


# ---- Philox4x32-10, tuna's counter layout (src/core/rng.h) --------------------------------------
M32 = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c, k = list(ctr), list(key)
    for r in range(10):
        if r > 0:
            k = [(k[0] + 0x9E3779B9) & M32, (k[1] + 0xBB67AE85) & M32]
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k[1]) & M32, p0 & M32]
    return c


def keep_mask(seed, stream, n, p):
    p32 = float(np.float32(p))
    keep = np.zeros(n, dtype=np.float32)
    for e in range(n):
        blk = e // 4
        u = philox4x32_10([blk & M32, blk >> 32, stream & M32, stream >> 32], [seed & M32, seed >> 32])
        keep[e] = 1.0 if (u[e % 4] >> 8) * 2.0 ** -24 >= p32 else 0.0
    return torch.from_numpy(keep)


class MaskDropout(torch.nn.Module):
    """PEFT's lora_dropout slot with a fixed mask: x * mask * (1 / (1 - p)), like nn.Dropout."""

    def __init__(self, mask, p):
        super().__init__()
        self.mask, self.inv_keep = mask, float(np.float32(1.0) / np.float32(1.0 - p))

    def forward(self, x):
        return x * (self.mask.view_as(x) * self.inv_keep)


# ---- op goldens ---------------------------------------------------------------------------------
def golden_linear():
    N, I, O = 6, 20, 12
    t, meta = {}, {}
    x, w, b, dy = randn(N, I), bf16_exact(randn(O, I, scale=0.5)), randn(O), randn(N, O)
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    vjp(F.linear(xl, wl, bl), dy)
    t.update({"x": x, "w": w, "b": b, "dy": dy, "dx": xl.grad, "dw": wl.grad, "db": bl.grad})
    conv = Conv1D(O, I)  # GPT-2's layout: weight [in, out]
    with torch.no_grad():
        conv.weight.copy_(w.t())
        conv.bias.copy_(b)
    xl = leaf(x)
    vjp(conv(xl), dy)
    t.update({"conv.w": w.t().contiguous(), "conv.dx": xl.grad, "conv.dw": conv.weight.grad,
              "conv.db": conv.bias.grad})
    return t, meta


def golden_lora():
    N, I, O, R, alpha = 5, 24, 16, 4, 16
    t, meta = {}, {"r": str(R), "alpha": str(alpha)}
    x, w, bias = randn(N, I), bf16_exact(randn(O, I, scale=0.5)), randn(O)
    A, B, dy = randn(R, I, scale=0.3), randn(O, R, scale=0.3), randn(N, O)  # random non-zero B
    t.update({"x": x, "w": w, "bias": bias, "a": A, "b": B, "dy": dy})
    for name, p, rslora in (("p0", 0.0, False), ("p25", 0.25, True)):
        seed, stream = 1234, 77
        base = torch.nn.Linear(I, O)
        with torch.no_grad():
            base.weight.copy_(w)
            base.bias.copy_(bias)
        layer = LoraLinear(base, "default", r=R, lora_alpha=alpha, lora_dropout=p,
                           init_lora_weights=False, use_rslora=rslora)
        with torch.no_grad():
            layer.lora_A["default"].weight.copy_(A)
            layer.lora_B["default"].weight.copy_(B)
        mask = keep_mask(seed, stream, N * I, p) if p > 0 else torch.ones(N * I)
        if p > 0:
            layer.lora_dropout["default"] = MaskDropout(mask, p)
        layer.base_layer.weight.requires_grad_(False)
        layer.base_layer.bias.requires_grad_(False)
        xl = leaf(x)
        y = layer(xl)
        vjp(y, dy)
        meta.update({f"{name}.scale": repr(float(layer.scaling["default"])), f"{name}.dropout": repr(p),
                     f"{name}.seed": str(seed), f"{name}.stream": str(stream)})
        t.update({f"{name}.y": y.detach(), f"{name}.mask": mask.view(N, I), f"{name}.dx": xl.grad,
                  f"{name}.da": layer.lora_A["default"].weight.grad,
                  f"{name}.db": layer.lora_B["default"].weight.grad})
    return t, meta


def golden_norm():
    N, C, eps = 5, 32, 1e-6
    t, meta = {}, {"eps": repr(eps), "ln_eps": repr(1e-5)}
    for name, mod in (("llama", LlamaRMSNorm(C, eps=eps)), ("gemma", Gemma3RMSNorm(C, eps=eps))):
        with torch.no_grad():
            mod.weight.copy_(randn(C, scale=0.5))
        x, dy = randn(N, C, scale=2.0), randn(N, C)
        xl = leaf(x)
        vjp(mod(xl), dy)
        t.update({f"{name}.x": x, f"{name}.w": mod.weight.detach().clone(), f"{name}.dy": dy,
                  f"{name}.dx": xl.grad, f"{name}.dw": mod.weight.grad})
    ln = torch.nn.LayerNorm(C, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(randn(C, scale=0.5) + 1.0)
        ln.bias.copy_(randn(C, scale=0.5))
    x, dy = randn(N, C, scale=2.0) + 1.5, randn(N, C)
    xl = leaf(x)
    vjp(ln(xl), dy)
    t.update({"ln.x": x, "ln.w": ln.weight.detach().clone(), "ln.b": ln.bias.detach().clone(),
              "ln.dy": dy, "ln.dx": xl.grad, "ln.dw": ln.weight.grad, "ln.db": ln.bias.grad})
    return t, meta


ROPE_VARIANTS = {
    "default": dict(rope_theta=10000.0, rope_scaling=None),
    "linear": dict(rope_theta=10000.0, rope_scaling={"rope_type": "linear", "factor": 4.0}),
    "llama3": dict(rope_theta=500000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                       "original_max_position_embeddings": 64}),
}


def golden_rope():
    H, D = 3, 16
    positions = torch.tensor([0, 1, 5, 17, 40, 100, 511], dtype=torch.int64)
    N = len(positions)
    t, meta = {"positions": positions.to(torch.int32)}, {"head_dim": str(D)}
    for name, kw in ROPE_VARIANTS.items():
        cfg = transformers.LlamaConfig(hidden_size=H * D, num_attention_heads=H, head_dim=D,
                                       max_position_embeddings=1024, **kw)
        rope_type = "default" if kw["rope_scaling"] is None else kw["rope_scaling"]["rope_type"]
        inv_freq, _ = ROPE_INIT_FUNCTIONS[rope_type](cfg, "cpu")
        freqs = positions.float()[:, None] * inv_freq.float()[None, :]  # LlamaRotaryEmbedding
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None], emb.sin()[None]  # [1, N, D]
        x, dy = randn(1, H, N, D), randn(1, H, N, D)  # transformers' [B, H, T, D]
        xl = leaf(x)
        q_embed, _ = apply_rotary_pos_emb(xl, xl.detach(), cos, sin)
        vjp(q_embed, dy)
        # stored in tuna's [N, H, D] layout
        t.update({f"{name}.x": x[0].transpose(0, 1).contiguous(), f"{name}.dy": dy[0].transpose(0, 1).contiguous(),
                  f"{name}.dx": xl.grad[0].transpose(0, 1).contiguous()})
        meta[f"{name}.theta"] = repr(kw["rope_theta"])
        meta[f"{name}.scaling"] = json.dumps(kw["rope_scaling"])
    return t, meta


class _AttnModule(torch.nn.Module):
    def __init__(self, groups, head_dim):
        super().__init__()
        self.num_key_value_groups, self.head_dim = groups, head_dim
        self.training = False


def attention_mask(B, T, window, valid):
    """transformers' additive 4-D mask: causal, optional sliding window, key padding."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    ok = (j <= i)
    if window > 0:
        ok = ok & (j > i - window)
    ok = ok[None, None].expand(B, 1, T, T) & (valid[:, None, None, :] != 0)
    return torch.where(ok, 0.0, torch.finfo(torch.float32).min)


ATTN_VARIANTS = {
    # name: B, T, H, K, D, scale, softcap, window, padded
    "mha": (1, 9, 2, 2, 8, 8 ** -0.5, 0.0, 0, False),
    "gqa_padded": (2, 10, 4, 2, 8, 8 ** -0.5, 0.0, 0, True),
    "mqa_window_softcap": (1, 12, 3, 1, 8, 0.25, 5.0, 4, False),
    "gqa_softcap": (2, 8, 4, 2, 4, 0.5, 2.0, 0, False),
}


def golden_attention():
    t, meta = {}, {}
    for name, (B, T, H, K, D, scale, cap, window, padded) in ATTN_VARIANTS.items():
        q, k, v = randn(B, T, H, D, scale=1.5), randn(B, T, K, D, scale=1.5), randn(B, T, K, D)
        dy = randn(B, T, H, D)
        valid = torch.ones(B, T, dtype=torch.int32)
        if padded:
            valid[1, T - 3:] = 0
        ql, kl, vl = leaf(q), leaf(k), leaf(v)
        out, _ = eager_attention_forward(_AttnModule(H // K, D), ql.transpose(1, 2), kl.transpose(1, 2),
                                         vl.transpose(1, 2), attention_mask(B, T, window, valid),
                                         scaling=scale, softcap=cap if cap > 0 else None)
        vjp(out, dy)  # out is [B, T, H, D]
        t.update({f"{name}.q": q, f"{name}.k": k, f"{name}.v": v, f"{name}.dy": dy,
                  f"{name}.dq": ql.grad, f"{name}.dk": kl.grad, f"{name}.dv": vl.grad})
        if padded:
            t[f"{name}.valid"] = valid
        meta.update({f"{name}.scale": repr(scale), f"{name}.softcap": repr(cap),
                     f"{name}.window": str(window)})
    return t, meta


ACTS = {"silu": "silu", "gelu_tanh": "gelu_pytorch_tanh", "gelu_new": "gelu_new", "gelu": "gelu"}


def golden_activation():
    N, Fw = 4, 48
    t = {}
    for name, key in ACTS.items():
        act = ACT2FN[key]
        g, u, dy = randn(N, Fw, scale=3.0), randn(N, Fw), randn(N, Fw)
        gl = leaf(g)
        vjp(act(gl), dy)
        t.update({f"{name}.x": g, f"{name}.dy": dy, f"{name}.dx": gl.grad})
        gl, ul = leaf(g), leaf(u)
        vjp(act(gl) * ul, dy)  # the gated MLP product act(gate) * up
        t.update({f"{name}.up": u, f"{name}.dgate": gl.grad, f"{name}.dup": ul.grad})
    return t, {}


def golden_embedding():
    V, C, pad = 20, 48, 0
    ids = torch.tensor([[3, 7, 3, 0, 19], [7, 7, 1, 0, 0]])
    emb = Gemma3TextScaledWordEmbedding(V, C, pad, embed_scale=C ** 0.5)
    with torch.no_grad():
        emb.weight.copy_(randn(V, C))
    dy = randn(*ids.shape, C)
    vjp(emb(ids), dy)
    wpe = torch.nn.Embedding(V, C)  # GPT-2 style: no scale, no padding row
    vjp(wpe(ids), dy)
    t = {"ids": ids.to(torch.int32).flatten(), "dy": dy.view(-1, C), "gemma.dtable": emb.weight.grad,
         "plain.dtable": wpe.weight.grad}
    scale = float(emb.embed_scale.to(emb.weight.dtype))
    return t, {"scale": repr(scale), "padding_idx": str(pad)}


def golden_cross_entropy():
    B, T, C, V = 2, 12, 16, 300
    t, meta = {}, {}
    for name, cap in (("plain", 0.0), ("softcap", 30.0)):
        hidden, w = randn(B, T, C), randn(V, C, scale=2.0)
        labels = torch.randint(0, V, (B, T), generator=GEN)
        labels[0, :3] = -100  # a prompt
        labels[1, T - 4:] = -100  # padding
        n = int((labels[:, 1:] != -100).sum())
        hl, wl = leaf(hidden), leaf(w)
        logits = hl @ wl.t()
        if cap > 0:
            logits = torch.tanh(logits / cap) * cap
        loss = ForCausalLMLoss(logits, labels, V, num_items_in_batch=torch.tensor(n))
        loss.backward()
        # the same sum through torch's own F.cross_entropy, as a cross-check of the shift
        shifted = F.pad(labels, (0, 1), value=-100)[:, 1:]
        ref_sum = F.cross_entropy(logits.detach().view(-1, V), shifted.reshape(-1), ignore_index=-100,
                                  reduction="sum")
        assert abs(float(ref_sum) / n - float(loss.detach())) < 1e-5 * float(loss.detach())
        t.update({f"{name}.hidden": hidden, f"{name}.w": w, f"{name}.labels": labels.to(torch.int32),
                  f"{name}.loss": loss.detach().view(1), f"{name}.dhidden": hl.grad, f"{name}.dw": wl.grad})
        meta.update({f"{name}.softcap": repr(cap), f"{name}.n_counted": str(n)})
    return t, meta


GOLDENS = {
    "linear": golden_linear,
    "lora": golden_lora,
    "norm": golden_norm,
    "rope": golden_rope,
    "attention": golden_attention,
    "activation": golden_activation,
    "embedding": golden_embedding,
    "cross_entropy": golden_cross_entropy,
}


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    files = {}
    for name, fn in GOLDENS.items():  # order matters: one generator draws for all, in this order
        tensors, meta = fn()
        tensors = {k: v.detach().contiguous() for k, v in tensors.items()}
        for key, value in meta.items():
            scalar = json.loads(value) if key.endswith(".scaling") else float(value)
            if not isinstance(scalar, dict) and scalar is not None:
                tensors[key] = torch.tensor([scalar], dtype=torch.float64)
        path = os.path.join(args.out, f"{name}.safetensors")
        safetensors.torch.save_file(tensors, path)
        files[f"{name}.safetensors"] = {"sha256": sha256_file(path), "tensors": sorted(tensors),
                                         "scalars": meta}
        print(f"{name}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")
    manifest = {
        "description": "Gradient goldens for the backward ops (issue 5 item 1): inputs, dy and PyTorch "
                       "autograd gradients through transformers / PEFT / torch modules. See the script.",
        "command": "tools/reference/regenerate.sh grad",
        "script": "tools/reference/make_grad_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "peft": peft.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "seed": SEED,
        "seed_rule": "one torch.Generator(SEED) draws every random input, op by op in the order of 'files'",
        "comparison": "per tensor max|tuna - torch| / max|torch| <= 1e-5 (F32)",
        "files": files,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
