#!/usr/bin/env python3
"""LoRA goldens from PEFT (DESIGN.md §4, §8): what get_peft_model targets and counts, the files
save_pretrained writes, and what merge / unmerge produce.

Writes tests/golden/lora/:
  targets.json     per tiny model (tests/golden/models) x config: the adapted module names, the
                   print_trainable_parameters line, adapter_config.json as PEFT saved it (or the
                   error PEFT raised); Gemma 3 270M (from_config on the meta device, counts only);
                   load_in_4bit (NF4) tiny models for the Params4bit x 2 count.
  adapters/<model>/ adapter_model.safetensors + adapter_config.json saved by PEFT from a tiny model
                   with random non-zero lora_B (seeded), and merge.safetensors: for every adapted
                   module "<module>.merged" (merge_and_unload) and "<module>.unmerged" (merge then
                   unmerge) in the base dtype, plus "logits" of the PeftModel (F32 eager).
  manifest.json    command, versions, seed, sha256 of every file.

--check-tuna DIR MODEL  loads a tuna-written adapter DIR on tests/golden/models/MODEL in PEFT and
                   prints max |logits - PEFT's own logits for adapters/MODEL|.

EXAONE: transformers has no EXAONE 3.0 code; a PreTrainedModel with EXAONE's module names
(transformer.h.N.attn.attention.{q,k,v,out}_proj, mlp.c_fc_0/c_fc_1/c_proj, lm_head) and
model_type "exaone" stands in for the targeting goldens.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile

import peft
import safetensors
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, PretrainedConfig, PreTrainedModel

SEED = 20261201
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS_DIR = os.path.join(REPO, "tests", "golden", "models")
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "lora")

TINY = ["llama", "llama_linear_tied", "mistral", "qwen2", "qwen3", "gemma3", "gemma3_bf16",
        "gemma3_conditional", "gemma2", "gpt2", "exaone"]
ALL7 = ["q_proj", "o_proj", "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj"]
NAMES7 = {"gpt2": ["c_attn", "c_proj", "c_fc"],
          "exaone": ["q_proj", "k_proj", "v_proj", "out_proj", "c_fc_0", "c_fc_1", "c_proj"]}
LAYERS_PATTERN = {"gpt2": "h", "exaone": "h"}


def configs(model):
    seven = NAMES7.get(model, ALL7)
    qv = ["c_attn"] if model == "gpt2" else ["q_proj", "v_proj"]
    return {
        "default": dict(),
        "seed001": dict(r=8, target_modules=seven, task_type="CAUSAL_LM"),
        "seed002": dict(r=16, lora_alpha=32, target_modules=["k_proj", "v_proj"] if model != "gpt2"
                        else ["c_attn"], lora_dropout=0.05, task_type="CAUSAL_LM"),
        "all_linear": dict(r=4, lora_alpha=16, lora_dropout=0.05, target_modules="all-linear"),
        "regex": dict(r=4, use_rslora=True, target_modules=r".*\.(q_proj|v_proj|c_attn|c_fc)"),
        "layers": dict(r=2, target_modules=qv, layers_to_transform=[1],
                       layers_pattern=LAYERS_PATTERN.get(model, "layers"), bias="all",
                       modules_to_save=["lm_head"]),
        "layers_int": dict(r=2, target_modules=seven, layers_to_transform=0),
        "exclude": dict(r=4, target_modules="all-linear", exclude_modules=["down_proj", "c_proj"],
                        bias="lora_only", init_lora_weights="gaussian"),
        "exclude_regex": dict(r=3, lora_alpha=5, target_modules=seven,
                              exclude_modules=r".*\.1\..*"),
    }


# --- EXAONE stand-in ------------------------------------------------------------------------------
class ExaoneConfig(PretrainedConfig):
    model_type = "exaone"


class _Norm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))


class _Inner(nn.Module):
    def __init__(self, c, kv):
        super().__init__()
        self.q_proj, self.k_proj = nn.Linear(c, c, bias=False), nn.Linear(c, kv, bias=False)
        self.v_proj, self.out_proj = nn.Linear(c, kv, bias=False), nn.Linear(c, c, bias=False)


class _Attn(nn.Module):
    def __init__(self, c, kv):
        super().__init__()
        self.attention = _Inner(c, kv)


class _Mlp(nn.Module):
    def __init__(self, c, f):
        super().__init__()
        self.c_fc_0, self.c_fc_1 = nn.Linear(c, f, bias=False), nn.Linear(c, f, bias=False)
        self.c_proj = nn.Linear(f, c, bias=False)


class _Block(nn.Module):
    def __init__(self, c, kv, f):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = _Norm(c), _Attn(c, kv), _Norm(c), _Mlp(c, f)


class _Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg.hidden_size
        kv = c // cfg.num_attention_heads * cfg.num_key_value_heads
        self.wte = nn.Embedding(cfg.vocab_size, c)
        self.h = nn.ModuleList([_Block(c, kv, cfg.intermediate_size) for _ in range(cfg.num_layers)])
        self.ln_f = _Norm(c)


class ExaoneForCausalLM(PreTrainedModel):
    config_class = ExaoneConfig

    def __init__(self, cfg):
        super().__init__(cfg)
        self.transformer = _Transformer(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def get_output_embeddings(self):
        return self.lm_head

    def prepare_inputs_for_generation(self, *args, **kwargs):  # PeftModelForCausalLM looks it up
        raise NotImplementedError


def load_tiny(name, dtype=torch.float32, **kw):
    path = os.path.join(MODELS_DIR, name)
    if name == "exaone":
        cfg = ExaoneConfig(**json.load(open(os.path.join(path, "config.json"))))
        m = ExaoneForCausalLM(cfg)
        m.load_state_dict(safetensors.torch.load_file(os.path.join(path, "model.safetensors")))
        m.name_or_path = path
        return m
    if name == "gemma3_conditional":
        return transformers.Gemma3ForConditionalGeneration.from_pretrained(path, dtype=dtype, **kw)
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager", **kw)


def rel(path):
    return os.path.relpath(path, REPO)


def peft_record(model, cfg_kwargs, base_name, weights=True):
    """get_peft_model + print_trainable_parameters + save_pretrained's adapter_config.json."""
    try:
        pm = get_peft_model(model, LoraConfig(**cfg_kwargs))
    except Exception as e:  # noqa: BLE001 - the error is the golden
        return {"error": f"{type(e).__name__}: {e}"}
    t, a = pm.get_nb_trainable_parameters()
    line = f"trainable params: {t:,d} || all params: {a:,d} || trainable%: {100 * t / a:.4f}"
    mods = sorted(n[len("base_model.model."):-len(".lora_A")] for n, _ in pm.named_modules()
                  if n.endswith(".lora_A"))
    keys = []
    with tempfile.TemporaryDirectory() as d:
        if weights:
            pm.save_pretrained(d)
            with safetensors.safe_open(os.path.join(d, "adapter_model.safetensors"), "pt") as f:
                keys = sorted(f.keys())
        else:  # meta-device model: what save_pretrained writes for the config
            pm.peft_config["default"].inference_mode = True
            pm.peft_config["default"].save_pretrained(d)
        adapter_config = json.load(open(os.path.join(d, "adapter_config.json")))
    tm = adapter_config["target_modules"]
    if isinstance(tm, list):
        adapter_config["target_modules"] = sorted(tm)  # a set in PEFT: order is hash order
    return {"line": line, "trainable": t, "all": a, "modules": mods, "adapter_config": adapter_config,
            "saved_keys": keys, "base_model_name_or_path": base_name}


def make_targets(out):
    res = {"tiny": {}, "gemma3_270m": {}, "nf4": {}}
    for name in TINY:
        res["tiny"][name] = {}
        for cname, kw in configs(name).items():
            torch.manual_seed(SEED)
            r = peft_record(load_tiny(name), kw, rel(os.path.join(MODELS_DIR, name)))
            r["input"] = kw
            res["tiny"][name][cname] = r
    # Gemma 3 270M: the architecture of models/gemma-3-270m-q4_k_m.gguf (google/gemma-3-270m's config).
    g = transformers.Gemma3TextConfig(vocab_size=262144, hidden_size=640, intermediate_size=2048,
                                      num_hidden_layers=18, num_attention_heads=4, num_key_value_heads=1,
                                      head_dim=256, max_position_embeddings=32768, tie_word_embeddings=True)
    for cname, kw in {"unsloth_r128": dict(r=128, lora_alpha=128, target_modules=ALL7),
                      "seed001": dict(r=8, target_modules=ALL7, task_type="CAUSAL_LM"),
                      "default": dict()}.items():
        with torch.device("meta"):
            m = transformers.Gemma3ForCausalLM(g)
        r = peft_record(m, kw, "google/gemma-3-270m", weights=False)
        r.pop("saved_keys", None)
        r["input"] = kw
        r["modules"] = len(r.get("modules", []))
        res["gemma3_270m"][cname] = r
    # NF4 (load_in_4bit on CPU): PEFT counts Params4bit.numel() x 2.
    for name in ["llama", "qwen2", "gemma3"]:
        q = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                            bnb_4bit_use_double_quant=True)
        m = load_tiny(name, quantization_config=q)
        r = peft_record(m, dict(r=8, target_modules=ALL7, task_type="CAUSAL_LM"), "")
        res["nf4"][name] = {"line": r["line"], "trainable": r["trainable"], "all": r["all"]}
    path = os.path.join(out, "targets.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    return path


ADAPTER_CASES = {
    # model: LoraConfig; B random so the adapter is not a no-op.
    "llama": dict(r=4, lora_alpha=8, target_modules=ALL7, task_type="CAUSAL_LM"),
    "gpt2": dict(r=4, lora_alpha=16, target_modules=["c_attn", "c_proj", "c_fc"], task_type="CAUSAL_LM",
                 use_rslora=True),
    "qwen2": dict(r=4, lora_alpha=8, target_modules=ALL7, task_type="CAUSAL_LM"),
    "gemma3_bf16": dict(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"),
}


def base_dtype(name):
    cfg = json.load(open(os.path.join(MODELS_DIR, name, "config.json")))
    return {"bfloat16": torch.bfloat16}.get(cfg.get("torch_dtype") or cfg.get("dtype"), torch.float32)


def peft_logits(pm, name):
    io = safetensors.torch.load_file(os.path.join(MODELS_DIR, name, "io.safetensors"))
    with torch.no_grad():
        return pm(input_ids=io["input_ids_single"]).logits.float().contiguous()


def make_adapter(out, name, kw, seed):
    d = os.path.join(out, "adapters", name)
    shutil.rmtree(d, ignore_errors=True)
    dtype = base_dtype(name)
    gen = torch.Generator().manual_seed(seed)
    pm = get_peft_model(load_tiny(name, dtype=dtype), LoraConfig(**kw))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    pm.save_pretrained(d)
    os.remove(os.path.join(d, "README.md"))
    tensors = {"logits": peft_logits(pm, name)}
    merged = pm.merge_and_unload()
    lin = {n: m for n, m in merged.named_modules() if isinstance(m, (nn.Linear, transformers.pytorch_utils.Conv1D))}
    adapted = sorted(json.load(open(os.path.join(d, "adapter_config.json")))["target_modules"])
    names = sorted(k[len("base_model.model."):-len(".lora_A.weight")]
                   for k in safetensors.safe_open(os.path.join(d, "adapter_model.safetensors"), "pt").keys()
                   if k.endswith(".lora_A.weight"))
    for n in names:
        tensors[n + ".merged"] = lin[n].weight.detach().clone().contiguous()
    # unmerge: merge on a fresh PeftModel, then unmerge (PEFT keeps the LoRA layers).
    pm2 = PeftModel.from_pretrained(load_tiny(name, dtype=dtype), d)
    pm2.merge_adapter()
    pm2.unmerge_adapter()
    for n, m in pm2.named_modules():
        short = n[len("base_model.model."):]
        if short in names:
            tensors[short + ".unmerged"] = m.get_base_layer().weight.detach().clone().contiguous()
    mpath = os.path.join(d, "merge.safetensors")
    safetensors.torch.save_file(tensors, mpath, metadata={"format": "pt"})
    return {"model": name, "dtype": str(dtype), "config": kw, "modules": names, "b_seed": seed,
            "target_modules_saved": adapted}


def check_tuna(tuna_dir, name):
    dtype = base_dtype(name)
    pm = PeftModel.from_pretrained(load_tiny(name, dtype=dtype), tuna_dir)
    ref = safetensors.torch.load_file(os.path.join(DEFAULT_OUT, "adapters", name, "merge.safetensors"))["logits"]
    diff = (peft_logits(pm, name) - ref).abs().max().item()
    print(f"max |logits(tuna-written adapter) - logits(PEFT's adapter)| = {diff:g}")
    return diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check-tuna", nargs=2, metavar=("DIR", "MODEL"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.check_tuna:
        sys.exit(0 if check_tuna(*args.check_tuna) == 0.0 else 1)
    os.makedirs(args.out, exist_ok=True)
    manifest = {"command": "tools/reference/regenerate.sh lora",
                "generator": "tools/reference/make_lora_goldens.py",
                "versions": {"peft": peft.__version__, "transformers": transformers.__version__,
                             "torch": torch.__version__, "safetensors": safetensors.__version__,
                             "python": platform.python_version()},
                "seed": SEED, "torch_threads": 1, "adapters": []}
    files = [make_targets(args.out)]
    for i, (name, kw) in enumerate(ADAPTER_CASES.items()):
        manifest["adapters"].append(make_adapter(args.out, name, kw, SEED + 1 + i))
        for f in ("adapter_model.safetensors", "adapter_config.json", "merge.safetensors"):
            files.append(os.path.join(args.out, "adapters", name, f))
    manifest["files"] = {rel(p): hashlib.sha256(open(p, "rb").read()).hexdigest() for p in files}
    manifest["input_sha256"] = {n: hashlib.sha256(open(os.path.join(MODELS_DIR, n, "model.safetensors"), "rb")
                                                  .read()).hexdigest() for n in TINY}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"wrote {len(files)} files to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
