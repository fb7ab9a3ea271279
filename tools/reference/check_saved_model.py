#!/usr/bin/env python3
"""transformers loads a model directory tuna wrote (export/save_hf_model.h) and scores token ids:
writes {"config_sha256", "model_sha256", "ids", "logprobs"} (natural-log probability of each
token given the ones before it; the first is null) so a C++ test can compare tuna's reload and
check that the golden belongs to the very bytes tuna writes.
Usage: python check_saved_model.py DIR IDS_FILE OUT_JSON
"""

import hashlib
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    d, ids_file, out = sys.argv[1:4]
    ids = [int(t) for t in open(ids_file).read().split()]
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    lp = torch.log_softmax(logits, dim=-1)
    logprobs = [None] + [float(lp[i - 1, ids[i]]) for i in range(1, len(ids))]
    res = {"architecture": model.config.architectures[0], "config_sha256": sha256(d + "/config.json"),
           "model_sha256": sha256(d + "/model.safetensors"), "ids": ids, "logprobs": logprobs}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(res["architecture"], logprobs[:5])


if __name__ == "__main__":
    main()
