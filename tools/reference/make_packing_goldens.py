#!/usr/bin/env python3
"""Packing goldens: TRL's pack_dataset + DataCollatorForLanguageModeling on token-id rows.

Writes tests/golden/packing/:
  packing.json   {"cases": [...]}: each case has
      strategy      "bfd" | "wrapped"
      max_length    the seq_length given to trl.pack_dataset
      rows          [{"input_ids": [...], "completion_mask": [...]}]  the tokenised rows, in order
      packed        [{"input_ids", "labels", "position_ids"?, "seq_lengths"?}]  one per packed
                    sequence: pack_dataset's rows, then DataCollatorForLanguageModeling applied to
                    that one sequence the way SFTTrainer builds it (completion_only_loss=True;
                    padding_free=True for bfd — TRL turns it on with bfd packing — which brings
                    position_ids and labels[position_ids == 0] = -100; padding_free=False for
                    wrapped, which has no seq_lengths)
  manifest.json  command, versions, seed, sha256 of every file

The rows mix lengths (1 token, exactly max_length, longer than max_length, many equal lengths so
the stable descending sort and the FIFO among equal free spaces matter) and masks (prompt /
completion splits, all-ones text rows).

Usage: python make_packing_goldens.py [--out DIR]   (normally via regenerate.sh packing)
"""

import argparse
import hashlib
import json
import os
import platform
import random
import sys

import datasets
import torch
import trl
from trl.data_utils import pack_dataset
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "tests", "golden", "packing")


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_rows(rng, n, max_len):
    rows = []
    for i in range(n):
        length = rng.choice([1, 2, 3, 3, 3, 5, 5, max_len // 2, max_len - 1, max_len, max_len + 3,
                             2 * max_len + 1, rng.randint(1, max_len)])
        ids = [rng.randint(3, 999) for _ in range(length)]
        if i % 4 == 3:
            mask = [1] * length  # plain text row
        else:
            prompt = rng.randint(0, max(0, length - 1))
            mask = [0] * prompt + [1] * (length - prompt)
        rows.append({"input_ids": ids, "completion_mask": mask})
    return rows


def run_case(rows, strategy, max_length):
    ds = datasets.Dataset.from_list(rows)
    packed = pack_dataset(ds, max_length, strategy)
    collator = DataCollatorForLanguageModeling(
        pad_token_id=0, completion_only_loss=True, padding_free=(strategy == "bfd"))
    out = []
    for ex in packed:
        batch = collator.torch_call([ex])
        entry = {"input_ids": batch["input_ids"][0].tolist(), "labels": batch["labels"][0].tolist()}
        if "position_ids" in batch:
            entry["position_ids"] = batch["position_ids"][0].tolist()
        if "seq_lengths" in ex:
            entry["seq_lengths"] = ex["seq_lengths"]
        out.append(entry)
    return {"strategy": strategy, "max_length": max_length, "rows": rows, "packed": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    cases = []
    for max_length, n in [(16, 40), (7, 25), (64, 30)]:
        rows = make_rows(rng, n, max_length)
        for strategy in ["bfd", "wrapped"]:
            cases.append(run_case(rows, strategy, max_length))
    # TRL's own docstring example.
    doc_rows = [{"input_ids": [1, 2, 3], "completion_mask": [1, 1, 0]},
                {"input_ids": [4, 5], "completion_mask": [1, 0]},
                {"input_ids": [6, 7, 8], "completion_mask": [1, 0, 0]},
                {"input_ids": [9], "completion_mask": [1]}]
    cases.append(run_case(doc_rows, "bfd", 4))
    cases.append(run_case(doc_rows, "wrapped", 4))
    with open(os.path.join(args.out, "packing.json"), "w") as f:
        json.dump({"cases": cases}, f, separators=(",", ":"))
    files = sorted(f for f in os.listdir(args.out) if f != "manifest.json")
    manifest = {
        "description": "TRL pack_dataset (bfd, wrapped) + SFT collator on token rows. See the script's docstring.",
        "command": "tools/reference/regenerate.sh packing",
        "script": "tools/reference/make_packing_goldens.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "trl": trl.__version__, "datasets": datasets.__version__},
        "seed": SEED,
        "sha256": {f: sha256_file(os.path.join(args.out, f)) for f in files},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(os.path.join(args.out, "packing.json"))


if __name__ == "__main__":
    sys.exit(main())
