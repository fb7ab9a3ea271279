#!/usr/bin/env python3
"""bitsandbytes goldens (issue 5 item 3; DESIGN.md §8 "NF4 / double quant: bit-identical"): what
bitsandbytes' CPU backend produces for 4-bit NF4/FP4 (with and without double quantization) and
8-bit blockwise dynamic quantization, for tests/ops/test_quant_bnb.cpp.

Writes tests/golden/bnb/:
  blockwise.safetensors
      per case <name>: its input (F32; BF16/F16 cases hold values exact in that dtype; the
      manifest names it, as cases with the same values share one),
      <name>.packed / <name>.q (U8), <name>.absmax (F32), and for double quantization
      <name>.nested_q (U8), <name>.nested_absmax (F32), <name>.offset (F32 [1]); <name>.dequant
      is bitsandbytes' dequantize output as F32. Also dynamic_map.signed / .unsigned (pristine
      create_dynamic_map) and .signed_cpu / .unsigned_cpu (as the CPU kernel leaves them).
      model_<folder>_<qt>[_dq].logits: transformers' logits for a tiny golden model loaded with
      BitsAndBytesConfig(load_in_4bit=True, ...) on CPU, and .<module>.packed for two weights.
  mean.json
      torch.Tensor.mean() of formula-generated float32 arrays (see formula_input) at several
      lengths and torch thread counts: the double-quant offset's summation order.
  manifest.json
      command, versions (bitsandbytes + backend, torch), seed, every case's parameters, sha256
      of every output file.

Usage: "$(tools/reference/setup_venv.sh)/bin/python" tools/reference/make_bnb_goldens.py [--out DIR]
Deterministic: running it twice gives identical files.
"""

import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np
import torch

import bitsandbytes
import bitsandbytes.functional as F
from safetensors.torch import save_file

SEED = 20261125
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ties_input(code, absmax=1.0):
    """Exact midpoints of neighbouring code values (F32) and their F32 neighbours, in blocks
    whose first element is `absmax` so x * (1 / absmax) == x."""
    c = np.unique(np.asarray(code, dtype=np.float32))
    mids = ((c[:-1].astype(np.float64) + c[1:]) / 2).astype(np.float32)
    vals = np.concatenate([mids, np.nextafter(mids, np.float32(2)), np.nextafter(mids, np.float32(-2)), c])
    return vals[np.abs(vals) <= 1].astype(np.float32)


def in_blocks(vals, blocksize, lead):
    """vals spread over blocks of `blocksize` whose element 0 is `lead`; block b is scaled by
    2^(b % 4 - 1) (exact), so the absmax differ between blocks (double quantization of all-equal
    absmax crashes bitsandbytes' CPU kernel) while x * (1 / absmax) stays the unscaled value."""
    per = blocksize - 1
    nb = -(-len(vals) // per)
    out = np.zeros((nb, blocksize), dtype=np.float32)
    out[:, 0] = lead
    flat = np.zeros(nb * per, dtype=np.float32)
    flat[: len(vals)] = vals
    out[:, 1:] = flat.reshape(nb, per)
    out *= (2.0 ** (np.arange(nb) % 4 - 1)).astype(np.float32)[:, None]
    return out.reshape(-1)


def four_bit_inputs(rng):
    """(name, shape, values F32, dtype) for the 4-bit cases."""
    cases = []
    normal = lambda *s: rng.standard_normal(s).astype(np.float32)
    cases.append(("normal_64x128", (64, 128), normal(64, 128), "F32"))
    cases.append(("normal_7x38", (7, 38), normal(7, 38), "F32"))  # 266: partial last block
    cases.append(("normal_3x1000", (3, 1000), normal(3, 1000) * 0.02, "F32"))
    cases.append(("normal_1x2", (1, 2), normal(1, 2), "F32"))
    cases.append(("normal_5x62", (5, 62), normal(5, 62), "F32"))
    # No odd element counts: bitsandbytes' CPU quantize_4bit fails on them (the packing
    # q[::2] << 4 | q[1::2] has mismatched lengths).
    cases.append(("bf16_9x70", (9, 70), normal(9, 70), "BF16"))
    cases.append(("f16_9x70", (9, 70), normal(9, 70), "F16"))
    # Constant blocks (absmax == |x|: scaled exactly ±1), a zero block, random rest.
    c = normal(16, 64)
    c[1] = 0.5
    c[2] = -3.0
    c[3, :32] = 0.0
    c[3, 32:] = 7.0
    c[5] = 0.0
    cases.append(("constant_blocks_16x64", (16, 64), c, "F32"))
    # Magnitudes: huge, tiny, subnormal (1 / absmax overflows to Inf), and mixed in one block.
    m = normal(8, 64)
    m[0] *= np.float32(1e30)
    m[1] *= np.float32(1e-30)
    m[2] *= np.float32(1e-39)
    m[3, ::2] *= np.float32(1e20)
    m[4] = np.float32(3.4e38) * np.sign(m[4])
    cases.append(("magnitudes_8x64", (8, 64), m, "F32"))
    return cases


def four_bit(rng, tensors, manifest):
    base = four_bit_inputs(rng)
    specs = []
    for qt in ("nf4", "fp4"):
        code = bitsandbytes.backends.utils.CODE[qt].numpy()
        ties = in_blocks(np.tile(ties_input(code), 4), 64, 1.0)
        ties_neg = in_blocks(np.tile(ties_input(code), 4), 64, -1.0)
        for dq in (False, True):
            for name, shape, x, dt in base:
                if dq and x.size <= 64:
                    continue  # one block: absmax - offset == 0, which crashes bitsandbytes' CPU kernel
                specs.append((f"{qt}{'_dq' if dq else ''}_{name}", qt, dq, 64, shape, x, dt))
            specs.append((f"{qt}{'_dq' if dq else ''}_ties", qt, dq, 64, (len(ties) // 64, 64), ties, "F32"))
            specs.append((f"{qt}{'_dq' if dq else ''}_ties_neg", qt, dq, 64, (len(ties_neg) // 64, 64),
                          ties_neg, "F32"))
            for bs in (32, 128, 256, 1024, 4096):
                shape = (5, 998) if bs == 4096 else (3, 350)  # at least 2 blocks
                x = rng.standard_normal(shape).astype(np.float32)
                specs.append((f"{qt}{'_dq' if dq else ''}_bs{bs}_{shape[0]}x{shape[1]}", qt, dq, bs, shape, x, "F32"))
        # All zeros: without double quant only (bitsandbytes' CPU 8-bit kernel segfaults on the
        # all-zero block that absmax - offset becomes).
        specs.append((f"{qt}_zeros_4x64", qt, False, 64, (4, 64), np.zeros((4, 64), np.float32), "F32"))
    # Enough blocks for a multi-level cascade in the offset sum (1,300 blocks).
    x = rng.standard_normal((650, 128)).astype(np.float32)
    specs.append(("nf4_dq_normal_650x128", "nf4", True, 64, (650, 128), x, "F32"))

    input_names = {}  # id(x) -> tensor name: cases that share an input store it once
    for name, qt, dq, bs, shape, x, dt in specs:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(shape)).to(DTYPES[dt])
        packed, st = F.quantize_4bit(t, blocksize=bs, quant_type=qt, compress_statistics=dq)
        deq = F.dequantize_4bit(packed, st)
        input_name = input_names.setdefault(id(x), f"{name}.input")
        tensors.setdefault(input_name, t.float().clone())
        tensors[f"{name}.packed"] = packed.reshape(-1).contiguous()
        tensors[f"{name}.dequant"] = deq.float().contiguous()
        if dq:
            tensors[f"{name}.nested_q"] = st.absmax.contiguous()
            tensors[f"{name}.nested_absmax"] = st.state2.absmax.contiguous()
            tensors[f"{name}.offset"] = st.offset.reshape(1).float()
            assert torch.equal(st.state2.code, F.name2qmap["dynamic"]), "nested code book"
        else:
            tensors[f"{name}.absmax"] = st.absmax.contiguous()
        manifest["cases"].append({"name": name, "kind": "4bit", "quant_type": qt, "double_quant": dq,
                                  "blocksize": bs, "shape": list(shape), "dtype": dt,
                                  "input": input_name})


def eight_bit(rng, tensors, manifest):
    for signed in (True, False):
        tag = "signed" if signed else "unsigned"
        code = F.create_dynamic_map(signed=signed)
        tensors[f"dynamic_map.{tag}"] = code.clone()
        cpu_code = code.clone()
        specs = []
        sign = (lambda v: v) if signed else np.abs
        specs.append((f"q8_{tag}_normal_4x300", (4, 300), sign(rng.standard_normal((4, 300))) * 3, 256))
        specs.append((f"q8_{tag}_normal_1000", (1000,), sign(rng.standard_normal(1000)) * 1e-3, 256))
        specs.append((f"q8_{tag}_bs64_7x50", (7, 50), sign(rng.standard_normal((7, 50))), 64))
        specs.append((f"q8_{tag}_bs4096_2x3000", (2, 3000), sign(rng.standard_normal((2, 3000))), 4096))
        mag = sign(rng.standard_normal((4, 256)))
        mag[0] *= 1e30
        mag[1] *= 1e-30
        mag[2] *= 1e-39  # subnormal absmax
        mag[3, ::3] *= 1e15
        specs.append((f"q8_{tag}_magnitudes_4x256", (4, 256), mag, 256))
        # Ties against the code book as the CPU kernel uses it (entry 0 = -1).
        patched = code.clone()
        patched[0] = -1.0
        ties = ties_input(patched.numpy())
        if not signed:
            ties = ties[ties >= 0]
        ties = in_blocks(ties, 256, 1.0)
        specs.append((f"q8_{tag}_ties", (len(ties),), ties, 256))
        for name, shape, x, bs in specs:
            t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(shape))
            q, absmax = torch.ops.bitsandbytes.quantize_blockwise.default(t, cpu_code, bs)
            deq = torch.ops.bitsandbytes.dequantize_blockwise.default(q, absmax, cpu_code, bs, torch.float32)
            tensors[f"{name}.input"] = t
            tensors[f"{name}.q"] = q.reshape(-1).contiguous()
            tensors[f"{name}.absmax"] = absmax.contiguous()
            tensors[f"{name}.dequant"] = deq.contiguous()
            manifest["cases"].append({"name": name, "kind": "8bit", "map": tag, "blocksize": bs,
                                      "shape": list(shape), "dtype": "F32", "input": f"{name}.input"})
        tensors[f"dynamic_map.{tag}_cpu"] = cpu_code.clone()  # the kernel wrote -1.0 into entry 0


# Tiny golden models loaded by transformers with BitsAndBytesConfig(load_in_4bit=True) on CPU:
# (model folder under tests/golden/models, quant type, double quant). dtype float32 and
# bnb_4bit_compute_dtype float32, so only the quantized weights differ from the F32 goldens.
MODELS = [("llama", "nf4", True), ("gemma3", "fp4", False), ("qwen2", "nf4", False)]
SAMPLED_WEIGHTS = ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj"]


def models(tensors, manifest):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    import transformers
    manifest["versions"]["transformers"] = transformers.__version__
    for folder, qt, dq in MODELS:
        d = os.path.join(ROOT, "tests", "golden", "models", folder)
        io = load_file(os.path.join(d, "io.safetensors"))
        cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=qt, bnb_4bit_use_double_quant=dq,
                                 bnb_4bit_compute_dtype=torch.float32)
        m = AutoModelForCausalLM.from_pretrained(d, quantization_config=cfg, dtype=torch.float32,
                                                 device_map="cpu", attn_implementation="eager")
        m.eval()
        name = f"model_{folder}_{qt}{'_dq' if dq else ''}"
        with torch.no_grad():
            tensors[f"{name}.logits"] = m(input_ids=io["input_ids"], attention_mask=io["attention_mask"],
                                          use_cache=False).logits.float().contiguous()
        converted = sorted(n for n, mod in m.named_modules() if type(mod).__name__ == "Linear4bit")
        for w in SAMPLED_WEIGHTS:
            tensors[f"{name}.{w}.packed"] = m.get_submodule(w).weight.data.reshape(-1).contiguous()
        manifest["models"].append({"name": name, "model": f"tests/golden/models/{folder}",
                                   "quant_type": qt, "double_quant": dq, "dtype": "F32",
                                   "compute_dtype": "F32", "converted_modules": len(converted),
                                   "lm_head_converted": "lm_head" in converted,
                                   "sampled_weights": SAMPLED_WEIGHTS,
                                   "inputs": "io.safetensors input_ids + attention_mask of that model"})


def formula_input(n):
    """float32 inputs both sides compute exactly: ((i * 2654435761) % 1000003 + 1) / 1000003."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 2654435761) % 1000003 + 1).astype(np.float64) / 1000003.0).astype(np.float32)


def means():
    out = []
    for threads in (1, 2, 3):
        torch.set_num_threads(threads)
        for n in list(range(1, 41)) + [63, 64, 100, 255, 1000, 1300, 4097, 20000, 32767, 32768,
                                        32769, 50000, 100003, 300000]:
            m = torch.from_numpy(formula_input(n)).mean().item()
            out.append({"n": n, "threads": threads, "mean": float(np.float32(m)).hex()})
    torch.set_num_threads(1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "bnb"))
    args = ap.parse_args()
    torch.set_num_threads(1)  # the double-quant offset's sum is thread-count dependent above 32,768 blocks
    rng = np.random.default_rng(SEED)
    tensors = {}
    manifest = {
        "command": "tools/reference/regenerate.sh bnb",
        "generator": "tools/reference/make_bnb_goldens.py",
        "versions": {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "backend": "cpu (4-bit: backends/default/ops.py torch ops; 8-bit F32: libbitsandbytes_cpu "
                   "cquantize_blockwise_cpu_fp32 / cdequantize_blockwise_cpu_fp32)",
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": 1,
        "seed": SEED,
        "inputs": "numpy default_rng(seed) normal draws in the order of the cases; ties and "
                  "formula inputs are constructed (see the generator)",
        "cases": [],
        "models": [],
    }
    four_bit(rng, tensors, manifest)
    eight_bit(rng, tensors, manifest)
    models(tensors, manifest)
    os.makedirs(args.out, exist_ok=True)
    st_path = os.path.join(args.out, "blockwise.safetensors")
    save_file(tensors, st_path)
    mean_path = os.path.join(args.out, "mean.json")
    with open(mean_path, "w") as f:
        json.dump({"formula": "((i * 2654435761) % 1000003 + 1) / 1000003 in float64, cast to float32",
                   "means": means()}, f, indent=1)
        f.write("\n")
    manifest["files"] = {os.path.basename(p): sha256_file(p) for p in (st_path, mean_path)}
    manifest["input_sha256"] = hashlib.sha256(
        b"".join(tensors[k].numpy().tobytes() for k in sorted(tensors) if k.endswith(".input"))).hexdigest()
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(manifest['cases'])} cases to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
