#!/usr/bin/env python3
"""Forward-pass goldens for tiny random models of every supported architecture (DESIGN.md §4, §8).

For each model this writes tests/golden/models/<name>/:
  config.json, model.safetensors (+ generation_config.json where save_pretrained writes one)
      the model in Hugging Face format (F32 unless the model is marked BF16);
  io.safetensors
      input_ids        I64 [2, T]   row 0 full, row 1 right-padded (last PAD_LEN ids are 0, mask 0)
      attention_mask   I64 [2, T]
      logits           F32 [2, T, V] transformers' output for that padded batch (default position ids)
      input_ids_single I64 [1, T]   one unpadded sequence (different ids)
      logits_single    F32 [1, T, V]
and tests/golden/models/manifest.json (versions, seeds, parameter counts, logit statistics, sha256 of
every file, key layouts, and "sensitivity" figures: how much the logits move when a feature that the
golden is meant to test is switched off, so that a golden which cannot catch a bug is noticed).

Reference logits are always computed by loading the checkpoint just written back from disk with
from_pretrained(dtype=float32, attn_implementation="eager"), so they describe exactly the bytes on
disk (BF16 checkpoints included). The one exception is EXAONE (transformers has no EXAONE 3.0 code):
a tiny Llama is saved, reloaded and run, then re-saved under EXAONE's names and config keys; the
script checks that mapping the names back reproduces the logits bit for bit.

Usage: python make_goldens.py [--out DIR] [--only NAME ...]   (normally via regenerate.sh)
"""

import argparse
import copy
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile

import numpy as np
import safetensors
import safetensors.torch
import torch
import transformers
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3Config,
    Gemma3ForCausalLM,
    Gemma3ForConditionalGeneration,
    Gemma3TextConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
    SiglipVisionConfig,
)

SEED = 20261124  # base seed; model i uses SEED + 1000 * i (see MODELS order)
T = 24           # sequence length
PAD_LEN = 7      # row 1 of the batch: last PAD_LEN positions are padding
PAD_ID = 0
VOCAB = 256
HIDDEN = 64
MAX_POS = 128
MIN_LOGIT_STD = 1.0

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "models")

# Norms whose weight enters as (1 + w) (Gemma family); every other norm multiplies by w.
ONE_PLUS_NORM_TYPES = ("gemma2", "gemma3_text", "gemma3")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rnd(x, n=6):
    """Floats in the manifest: 6 significant digits, so the JSON stays readable and stable."""
    return float(f"{float(x):.{n}g}")


# ----------------------------------------------------------------------------------------------
# Random initialisation (larger than transformers' 0.02 default; random norms and biases)
# ----------------------------------------------------------------------------------------------

def randomize(model, gen, lin_std, emb_std, one_plus_norm):
    """Re-initialises every parameter of `model` in named_parameters() order from `gen`.

    2-D+ weights: N(0, emb_std) for embeddings (nn.Embedding), N(0, lin_std) otherwise.
    1-D biases: N(0, 0.1). 1-D norm weights: U(-0.5, 0.5) where the norm multiplies by (1 + w),
    U(0.5, 1.5) where it multiplies by w. Tied parameters appear once in named_parameters().
    """
    emb_names = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, torch.nn.Embedding)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                std = emb_std if name in emb_names else lin_std
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * std)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * 0.1)
            else:  # norm weight
                u = torch.rand(p.shape, generator=gen, dtype=torch.float32)
                p.copy_(u - 0.5 if one_plus_norm(name) else u + 0.5)


def make_inputs(gen):
    ids = torch.randint(1, VOCAB, (2, T), generator=gen, dtype=torch.int64)
    mask = torch.ones(2, T, dtype=torch.int64)
    ids[1, T - PAD_LEN:] = PAD_ID
    mask[1, T - PAD_LEN:] = 0
    single = torch.randint(1, VOCAB, (1, T), generator=gen, dtype=torch.int64)
    return ids, mask, single


# ----------------------------------------------------------------------------------------------
# Running the reference
# ----------------------------------------------------------------------------------------------

def run(model, ids, mask=None, **kw):
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, use_cache=False, **kw)
    return out


def logit_stats(logits, mask):
    """std over the vocabulary at every valid position: min and mean."""
    std = logits.float().std(dim=-1)  # [B, T]
    valid = std[mask.bool()] if mask is not None else std.flatten()
    return valid.min().item(), valid.mean().item()


def attn_stats(model, ids):
    """Mean over layers/heads/queries of the largest attention probability (1/n = uniform)."""
    out = run(model, ids, output_attentions=True)
    att = [a for a in out.attentions if a is not None]
    if not att:
        return None
    return rnd(torch.stack([a.max(dim=-1).values.mean() for a in att]).mean().item(), 4)


def max_valid_diff(a, b, mask):
    d = (a - b).abs().amax(dim=-1)  # [B, T]
    if mask is not None:
        d = d[mask.bool()]
    return d.max().item()


def variant(model, cls, edit):
    """Same weights, config edited by `edit(config)`, eager attention."""
    cfg = copy.deepcopy(model.config)
    edit(cfg)
    m = cls._from_config(cfg, attn_implementation="eager", torch_dtype=torch.float32)
    missing, unexpected = m.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all("lm_head" in k for k in missing), (missing, unexpected)
    m.tie_weights()
    return m.eval()


def key_layout(path):
    with safetensors.safe_open(path, "pt") as f:
        keys = sorted(f.keys())
        meta = f.metadata()
        info = {}
        for k in keys:
            s = f.get_slice(k)
            info[k] = [s.get_dtype(), list(s.get_shape())]
    return info, meta


# ----------------------------------------------------------------------------------------------
# Model specifications
# ----------------------------------------------------------------------------------------------

def rope_llama3_regimes(config):
    """How llama3 scaling treats each rotary frequency: kept, interpolated (smoothed) or divided."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rs = config.rope_scaling
    inv = 1.0 / (config.rope_theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    wl = 2 * np.pi / inv
    low_wl = rs["original_max_position_embeddings"] / rs["low_freq_factor"]
    high_wl = rs["original_max_position_embeddings"] / rs["high_freq_factor"]
    regimes = ["kept" if w < high_wl else "divided" if w > low_wl else "smoothed" for w in wl]
    return {"wavelengths": [rnd(w, 5) for w in wl], "regimes": regimes,
            "high_freq_wavelen": high_wl, "low_freq_wavelen": low_wl}


def spec_llama():
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=MAX_POS,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 32})
    def checks(m):
        r = rope_llama3_regimes(m.config)
        assert set(r["regimes"]) == {"kept", "smoothed", "divided"}, r
        return {"llama3_rope_frequencies": r,
                "max_dlogit_without_rope_scaling": variant(m, LlamaForCausalLM,
                                                           lambda c: setattr(c, "rope_scaling", None))}
    return dict(cls=LlamaForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25, checks=checks,
                notes="GQA 4 q heads / 2 kv heads, llama3 rope scaling, untied lm_head.")


def spec_llama_linear_tied():
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=MAX_POS,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                      rope_scaling={"rope_type": "linear", "factor": 2.0})
    def checks(m):
        return {"max_dlogit_without_rope_scaling": variant(m, LlamaForCausalLM,
                                                           lambda c: setattr(c, "rope_scaling", None))}
    return dict(cls=LlamaForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25, checks=checks,
                notes="MQA (1 kv head), linear rope scaling x2, lm_head tied to embed_tokens (not saved).")


def spec_mistral():
    cfg = MistralConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=MAX_POS,
                        rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=8, tie_word_embeddings=False)
    def checks(m):
        return {"max_dlogit_without_sliding_window": variant(m, MistralForCausalLM,
                                                             lambda c: setattr(c, "sliding_window", None))}
    return dict(cls=MistralForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25, checks=checks,
                notes="GQA, sliding_window 8 on every layer (query i sees keys j with i - 8 < j <= i).")


def spec_qwen2():
    cfg = Qwen2Config(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=MAX_POS,
                      rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False)
    return dict(cls=Qwen2ForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25, save_dtype=torch.bfloat16,
                notes="q/k/v biases (random), o_proj without bias, tied embeddings. Saved in BF16; the "
                      "reference logits come from that BF16 checkpoint loaded back as F32.")


def spec_qwen3():
    cfg = Qwen3Config(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=MAX_POS,
                      rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False)
    return dict(cls=Qwen3ForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25,
                notes="q_norm/k_norm (RMSNorm over head_dim, before RoPE), head_dim 32 with hidden 64 and 4 "
                      "heads (q_proj is [128, 64], o_proj [64, 128]), untied.")


def gemma3_text_config(**over):
    kw = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
              sliding_window=8, max_position_embeddings=MAX_POS, rms_norm_eps=1e-6,
              layer_types=["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"],
              rope_theta=1000000.0, rope_local_base_freq=10000.0,
              rope_scaling={"rope_type": "linear", "factor": 2.0},
              tie_word_embeddings=True, hidden_activation="gelu_pytorch_tanh")
    kw.update(over)
    return Gemma3TextConfig(**kw)


def gemma3_checks(cls):
    def text_cfg(c):
        return c.get_text_config()

    def checks(m):
        def sliding_off(c):
            text_cfg(c).sliding_window = 10_000
        def scalar_is_head_dim(c):
            text_cfg(c).query_pre_attn_scalar = text_cfg(c).head_dim
        def no_rope_scaling(c):
            text_cfg(c).rope_scaling = None
        def local_base_is_global(c):
            text_cfg(c).rope_local_base_freq = text_cfg(c).rope_theta
        return {"max_dlogit_without_sliding_window": variant(m, cls, sliding_off),
                "max_dlogit_query_pre_attn_scalar_eq_head_dim": variant(m, cls, scalar_is_head_dim),
                "max_dlogit_without_rope_scaling": variant(m, cls, no_rope_scaling),
                "max_dlogit_local_rope_base_eq_global": variant(m, cls, local_base_is_global)}
    return checks


GEMMA3_NOTES = ("Layers 0,1,3 sliding (window 8, local rope base 10000, no rope scaling), layer 2 global "
                "(rope_theta 1e6 with linear scaling x2). Attention scale query_pre_attn_scalar**-0.5 = 24**-0.5. "
                "Embeddings are multiplied by sqrt(hidden) = 8 (exact in BF16 too, so the embed-scale dtype "
                "question is moot at hidden 64). Norms use (1 + w). Tied lm_head.")


def spec_gemma3():
    return dict(cls=Gemma3ForCausalLM, config=gemma3_text_config(), lin_std=0.2, emb_std=0.2,
                checks=gemma3_checks(Gemma3ForCausalLM), notes=GEMMA3_NOTES)


def spec_gemma3_bf16():
    return dict(cls=Gemma3ForCausalLM, config=gemma3_text_config(), lin_std=0.2, emb_std=0.2,
                save_dtype=torch.bfloat16, checks=gemma3_checks(Gemma3ForCausalLM),
                notes=GEMMA3_NOTES + " Saved in BF16; reference logits from the BF16 checkpoint loaded as F32.")


def spec_gemma3_conditional():
    text = gemma3_text_config(num_hidden_layers=2, layer_types=["sliding_attention", "full_attention"])
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                image_size=28, patch_size=14, num_channels=3)
    cfg = Gemma3Config(text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4)
    return dict(cls=Gemma3ForConditionalGeneration, config=cfg, lin_std=0.2, emb_std=0.2,
                checks=gemma3_checks(Gemma3ForConditionalGeneration),
                notes="Gemma3ForConditionalGeneration with a 1-layer SigLIP vision tower (image 28, patch 14, "
                      "4 tokens per image); text model: 2 layers [sliding, full], otherwise as gemma3. Reference "
                      "logits: the full model on text-only input_ids (no pixel_values, no token_type_ids). "
                      "image_token_index keeps its default (262144 >= vocab), so no id in [1, 256) is an image token. "
                      "Key layout written by save_pretrained (4.57.6 reverses _checkpoint_conversion_mapping on "
                      "save, so the legacy layout): language_model.model.{embed_tokens,layers.N.*,norm}.weight, "
                      "vision_tower.vision_model.*, multi_modal_projector.*; lm_head is tied and NOT saved (no "
                      "language_model.lm_head.weight, no lm_head.weight). In memory (and accepted on load) the same "
                      "tensors are model.language_model.*, model.vision_tower.*, model.multi_modal_projector.*, "
                      "lm_head.")


def spec_gemma2():
    cfg = Gemma2Config(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
                       sliding_window=8, max_position_embeddings=MAX_POS, rms_norm_eps=1e-6, rope_theta=10000.0,
                       attn_logit_softcapping=3.0, final_logit_softcapping=5.0,
                       hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True)
    def checks(m):
        return {"max_dlogit_without_attn_softcapping": variant(m, Gemma2ForCausalLM,
                                                               lambda c: setattr(c, "attn_logit_softcapping", None)),
                "max_dlogit_without_final_softcapping": variant(m, Gemma2ForCausalLM,
                                                                lambda c: setattr(c, "final_logit_softcapping", None)),
                "max_dlogit_without_sliding_window": variant(m, Gemma2ForCausalLM,
                                                             lambda c: setattr(c, "sliding_window", 10_000)),
                "max_dlogit_query_pre_attn_scalar_eq_head_dim": variant(
                    m, Gemma2ForCausalLM, lambda c: setattr(c, "query_pre_attn_scalar", c.head_dim))}
    return dict(cls=Gemma2ForCausalLM, config=cfg, lin_std=0.2, emb_std=0.2, checks=checks,
                notes="Layer 0 sliding (window 8), layer 1 global. attn softcap 3.0 (scores -> 3 tanh(s/3) after "
                      "scaling, before mask), final softcap 5.0 (logits -> 5 tanh(x/5)). Embeddings times "
                      "sqrt(hidden) = 8 in the activation dtype. Norms use (1 + w). Tied lm_head.")


def spec_gpt2():
    cfg = GPT2Config(vocab_size=VOCAB, n_embd=HIDDEN, n_head=4, n_layer=2, n_positions=MAX_POS,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True)
    return dict(cls=GPT2LMHeadModel, config=cfg, lin_std=0.2, emb_std=0.25,
                notes="Conv1D weights stored [in, out] (c_attn [64, 192] = q|k|v, c_proj, c_fc, mlp.c_proj); "
                      "learned position embeddings wpe; LayerNorm with random weight and bias; gelu_new; tied "
                      "lm_head (not saved). Key layout written by save_pretrained: transformer.{wte,wpe}.weight, "
                      "transformer.h.N.{ln_1,attn.c_attn,attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}.{weight,bias}, "
                      "transformer.ln_f.{weight,bias} (with the transformer. prefix; no attn.bias/masked_bias "
                      "buffers; no lm_head.weight).")


def spec_exaone():
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=MAX_POS,
                      rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=False)
    return dict(cls=LlamaForCausalLM, config=cfg, lin_std=0.2, emb_std=0.25, exaone=True,
                notes="transformers has no EXAONE 3.0 code: a tiny LlamaForCausalLM (GQA 4/2, untied) whose "
                      "logits are the reference, saved under EXAONE 3.0's tensor names and config keys.")


MODELS = [
    ("llama", spec_llama),
    ("llama_linear_tied", spec_llama_linear_tied),
    ("mistral", spec_mistral),
    ("qwen2", spec_qwen2),
    ("qwen3", spec_qwen3),
    ("gemma3", spec_gemma3),
    ("gemma3_bf16", spec_gemma3_bf16),
    ("gemma3_conditional", spec_gemma3_conditional),
    ("gemma2", spec_gemma2),
    ("gpt2", spec_gpt2),
    ("exaone", spec_exaone),
]


# ----------------------------------------------------------------------------------------------
# EXAONE
# ----------------------------------------------------------------------------------------------

def exaone_name(k):
    simple = {"model.embed_tokens.weight": "transformer.wte.weight", "model.norm.weight": "transformer.ln_f.weight",
              "lm_head.weight": "lm_head.weight"}
    if k in simple:
        return simple[k]
    parts = k.split(".")
    assert parts[:2] == ["model", "layers"], k
    n, rest = parts[2], ".".join(parts[3:])
    sub = {"input_layernorm.weight": "ln_1.weight", "post_attention_layernorm.weight": "ln_2.weight",
           "self_attn.q_proj.weight": "attn.attention.q_proj.weight",
           "self_attn.k_proj.weight": "attn.attention.k_proj.weight",
           "self_attn.v_proj.weight": "attn.attention.v_proj.weight",
           "self_attn.o_proj.weight": "attn.attention.out_proj.weight",
           "mlp.gate_proj.weight": "mlp.c_fc_0.weight", "mlp.up_proj.weight": "mlp.c_fc_1.weight",
           "mlp.down_proj.weight": "mlp.c_proj.weight"}
    return f"transformer.h.{n}.{sub[rest]}"


def exaone_config(c):
    return {
        "activation_function": "silu",
        "architectures": ["ExaoneForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "embed_dropout": 0.0,
        "eos_token_id": 2,
        "hidden_size": c.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": c.intermediate_size,
        "layer_norm_epsilon": c.rms_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "model_type": "exaone",
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "num_layers": c.num_hidden_layers,
        "pad_token_id": 0,
        "rope_scaling": None,
        "rope_theta": c.rope_theta,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }


def write_exaone(loaded, d, ids, mask, logits, single, logits_single):
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    sd = {exaone_name(k): v.detach().clone().contiguous() for k, v in loaded.state_dict().items()}
    safetensors.torch.save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(exaone_config(loaded.config), f, indent=2, sort_keys=True)
        f.write("\n")
    # Round trip: map the names back into a fresh Llama and check the logits are bit-identical.
    inv = {exaone_name(k): k for k in loaded.state_dict()}
    back = safetensors.torch.load_file(os.path.join(d, "model.safetensors"))
    m2 = LlamaForCausalLM._from_config(copy.deepcopy(loaded.config), attn_implementation="eager",
                                       torch_dtype=torch.float32)
    m2.load_state_dict({inv[k]: v for k, v in back.items()}, strict=True)
    m2.eval()
    assert torch.equal(run(m2, ids, mask).logits, logits)
    assert torch.equal(run(m2, single).logits, logits_single)


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def key_patterns(layout):
    """Tensor names with layer indices replaced by N, deduplicated, in first-seen sorted order."""
    out = []
    for k in layout:
        pat = ".".join("N" if part.isdigit() else part for part in k.split("."))
        if pat not in out:
            out.append(pat)
    return out


def config_highlights(cfg):
    keys = ["model_type", "vocab_size", "hidden_size", "n_embd", "intermediate_size", "num_hidden_layers", "n_layer",
            "num_attention_heads", "n_head", "num_key_value_heads", "head_dim", "max_position_embeddings",
            "n_positions", "rms_norm_eps", "layer_norm_epsilon", "rope_theta", "rope_local_base_freq", "rope_scaling",
            "sliding_window", "use_sliding_window", "layer_types", "query_pre_attn_scalar", "attn_logit_softcapping",
            "final_logit_softcapping", "hidden_act", "hidden_activation", "activation_function",
            "tie_word_embeddings", "attention_bias", "mm_tokens_per_image", "image_token_index"]
    out = {}
    for k in keys:
        if hasattr(cfg, k):
            out[k] = getattr(cfg, k)
    if hasattr(cfg, "text_config") and cfg.text_config is not cfg:
        out["text_config"] = config_highlights(cfg.text_config)
        v = cfg.vision_config
        out["vision_config"] = {k: getattr(v, k) for k in ["model_type", "hidden_size", "intermediate_size",
                                                           "num_hidden_layers", "num_attention_heads", "image_size",
                                                           "patch_size"]}
    return out


def generate(name, index, spec_fn, out_root):
    spec = spec_fn()
    seed = SEED + 1000 * index
    cls, cfg = spec["cls"], spec["config"]
    save_dtype = spec.get("save_dtype", torch.float32)
    model_type = cfg.model_type

    torch.manual_seed(seed)
    model = cls._from_config(cfg, attn_implementation="eager", torch_dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    text_type = cfg.get_text_config().model_type
    one_plus = (lambda n: ("vision_tower" not in n)) if text_type in ONE_PLUS_NORM_TYPES else (lambda n: False)
    randomize(model, gen, spec["lin_std"], spec["emb_std"], one_plus)
    model.eval()
    ids, mask, single = make_inputs(torch.Generator().manual_seed(seed + 1))

    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    tmp = None
    save_dir = d
    if spec.get("exaone"):
        tmp = tempfile.mkdtemp(prefix="tuna-exaone-")
        save_dir = tmp
    model.to(save_dtype).save_pretrained(save_dir, safe_serialization=True)

    loaded = cls.from_pretrained(save_dir, dtype=torch.float32, attn_implementation="eager").eval()
    assert loaded.config._attn_implementation == "eager"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())

    logits = run(loaded, ids, mask).logits.float().contiguous()
    logits_single = run(loaded, single).logits.float().contiguous()
    assert logits.shape == (2, T, VOCAB) and logits_single.shape == (1, T, VOCAB)
    assert torch.isfinite(logits).all() and torch.isfinite(logits_single).all()

    std_min_b, std_mean_b = logit_stats(logits, mask)
    std_min_s, std_mean_s = logit_stats(logits_single, None)
    assert min(std_min_b, std_min_s) >= MIN_LOGIT_STD, (name, std_min_b, std_min_s)

    # Right padding must not change the valid positions of row 1: compare with row 1 run alone.
    n_valid = T - PAD_LEN
    alone = run(loaded, ids[1:, :n_valid]).logits
    pad_dev = (alone - logits[1:, :n_valid]).abs().max().item()
    assert pad_dev < 1e-4, (name, pad_dev)

    checks = {"max_abs_dlogit_row1_padded_vs_unpadded": rnd(pad_dev, 3),
              "attn_max_prob_mean": attn_stats(loaded, single)}
    if "checks" in spec:
        for k, v in spec["checks"](loaded).items():
            if isinstance(v, torch.nn.Module):
                v = max(max_valid_diff(run(v, ids, mask).logits, logits, mask),
                        max_valid_diff(run(v, single).logits, logits_single, None))
                assert v > 1e-2, (name, k, v)  # the golden must be able to see this feature
                v = rnd(v, 4)
            checks[k] = v

    num_params = loaded.num_parameters()
    highlights = config_highlights(loaded.config)

    if spec.get("exaone"):
        write_exaone(loaded, d, ids, mask, logits, single, logits_single)
        shutil.rmtree(tmp)
        highlights = {"llama_equivalent": highlights, "exaone_config": exaone_config(loaded.config)}

    safetensors.torch.save_file(
        {"input_ids": ids, "attention_mask": mask, "logits": logits,
         "input_ids_single": single, "logits_single": logits_single},
        os.path.join(d, "io.safetensors"), metadata={"format": "pt"})

    layout, st_meta = key_layout(os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "config.json")) as f:
        saved_config = json.load(f)

    entry = {
        "architecture": saved_config["architectures"][0],
        "reference_class": cls.__name__,
        "model_type": saved_config.get("model_type", model_type),
        "seed": seed,
        "inputs_seed": seed + 1,
        "weights_dtype_on_disk": "bfloat16" if save_dtype == torch.bfloat16 else "float32",
        "init": {"linear_std": spec["lin_std"], "embedding_std": spec["emb_std"], "bias_std": 0.1,
                 "norm_weight": "U(-0.5, 0.5) used as (1 + w)" if text_type in ONE_PLUS_NORM_TYPES
                 else "U(0.5, 1.5)"},
        "config": highlights,
        "num_parameters": num_params,
        "logits_std_over_vocab": {"batch_valid_min": rnd(std_min_b, 4), "batch_valid_mean": rnd(std_mean_b, 4),
                                  "single_min": rnd(std_min_s, 4), "single_mean": rnd(std_mean_s, 4)},
        "checks": checks,
        "notes": spec["notes"],
        "safetensors_metadata": st_meta,
        "key_patterns": key_patterns(layout),
        "lm_head_saved": any(k.endswith("lm_head.weight") for k in layout),
        "tensors": layout,
        "files": {f: sha256_file(os.path.join(d, f)) for f in sorted(os.listdir(d))},
    }
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="regenerate only these models (manifest entries of the others kept)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    transformers.logging.set_verbosity_error()

    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    old = {}
    if args.only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old = json.load(f).get("models", {})

    models = {}
    for i, (name, fn) in enumerate(MODELS):
        if args.only and name not in args.only:
            if name in old:
                models[name] = old[name]
            continue
        print(f"[make_goldens] {name}", file=sys.stderr, flush=True)
        models[name] = generate(name, i, fn, args.out)
        e = models[name]
        print(f"  params={e['num_parameters']} std={e['logits_std_over_vocab']} checks="
              f"{ {k: v for k, v in e['checks'].items() if not isinstance(v, dict)} }", file=sys.stderr)

    manifest = {
        "description": "Forward-pass goldens for tiny random models (DESIGN.md §4, §8). See README.md.",
        "command": "tools/reference/regenerate.sh",
        "script": "tools/reference/make_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "safetensors": safetensors.__version__,
                     "numpy": np.__version__},
        "seed": SEED,
        "seed_rule": "model i (in the order below) uses seed SEED + 1000*i for weights (torch.manual_seed and a "
                     "torch.Generator) and SEED + 1000*i + 1 for the input ids",
        "settings": {"dtype": "float32", "attn_implementation": "eager", "torch_num_threads": 1,
                     "deterministic_algorithms": True},
        "io": {"T": T, "vocab_size": VOCAB, "pad_id": PAD_ID, "pad_len_row1": PAD_LEN,
               "tensors": {"input_ids": "I64 [2, T]; ids in [1, V); row 1 positions T-7.. are pad id 0",
                           "attention_mask": "I64 [2, T]; row 0 all 1, row 1 last 7 are 0 (right padding)",
                           "logits": "F32 [2, T, V]; model(input_ids, attention_mask), default position ids "
                                     "(0..T-1 for both rows); logits at padded positions are what transformers "
                                     "returns there (pad queries attend to the valid keys only) and should not be "
                                     "compared",
                           "input_ids_single": "I64 [1, T]; different ids, no padding",
                           "logits_single": "F32 [1, T, V]; model(input_ids_single) without attention_mask"}},
        "min_logit_std": MIN_LOGIT_STD,
        "models": models,
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(manifest_path)


if __name__ == "__main__":
    main()
