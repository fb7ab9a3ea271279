"""Peer side of bench/train_step: one LoRA training step (forward + backward + AdamW step) of PEFT +
torch on the real Gemma 3 270M — the GGUF loaded by transformers (dequantised to F32, eager
attention), LoRA r=8 alpha=16 dropout 0 on q,k,v,o,gate,up,down, batch B of T seeded random
tokens (all labelled), torch.optim.AdamW (fused on CPU as the Trainer's default adamw_torch_fused),
same thread count as tuna. --qlora loads the base in 4-bit NF4 with double quantisation
(bitsandbytes CPU backend, compute dtype float32): transformers refuses a quantization_config
together with gguf_file, so the GGUF is first dequantised to an F32 safetensors directory (once,
cached next to the GGUF, in a child process so its memory is not counted) and that directory is
loaded with BitsAndBytesConfig — the seven projections become Linear4bit, the tied
embedding/LM head stays F32. No prepare_model_for_kbit_training (it would turn on gradient
checkpointing; neither side checkpoints). --full trains every weight of the F32 model instead
(no PEFT: all parameters require grad, the tied embedding/LM head once, AdamW over all of them,
weight decay 0 as TrainingArguments' default). --bf16 runs the forward and the loss under
torch.autocast("cpu", dtype=torch.bfloat16), as the HF Trainer does with bf16=True on a CPU
(accelerate's CPU autocast; the backward outside it, F32 weights and optimizer), and with --qlora
sets bnb_4bit_compute_dtype=torch.bfloat16. Prints one JSON line: seconds per step, tokens/s,
peak RSS.""" 
import argparse
import json
import os
import resource
import subprocess
import sys
import time


def f32_dir_for(gguf):
    """The F32 Hugging Face directory dequantised from `gguf`, written on first use."""
    d, f = os.path.split(os.path.abspath(gguf))
    out = os.path.join(os.path.expanduser("~/.cache/tuna/bench"), os.path.splitext(f)[0] + "-f32")
    if not os.path.exists(os.path.join(out, "config.json")):
        code = ("import sys, torch; from transformers import AutoModelForCausalLM; "
                "m = AutoModelForCausalLM.from_pretrained(sys.argv[1], gguf_file=sys.argv[2], "
                "dtype=torch.float32); m.save_pretrained(sys.argv[3])")
        subprocess.run([sys.executable, "-c", code, d, f, out], check=True)
    return out


def _bnb_version():
    try:
        import bitsandbytes
        return bitsandbytes.__version__
    except ImportError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="GGUF file")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--qlora", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    import peft
    import transformers
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    d, f = os.path.split(os.path.abspath(a.model))
    kw = dict(gguf_file=f, dtype=torch.float32, attn_implementation="eager")
    if a.qlora:
        d, kw = f32_dir_for(a.model), dict(dtype=torch.float32, attn_implementation="eager")
        kw["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                       bnb_4bit_use_double_quant=True,
                                                       bnb_4bit_compute_dtype=torch.bfloat16
                                                       if a.bf16 else torch.float32)
    model = AutoModelForCausalLM.from_pretrained(d, **kw)
    n4 = sum(1 for m in model.modules() if type(m).__name__ == "Linear4bit")
    if a.qlora:
        assert n4 > 0, "no Linear4bit module: the base was not quantised"
    cfg = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    if not a.full:
        model = peft.get_peft_model(model, cfg)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True)
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(1000, 200000, (a.batch, a.seq), generator=g)
    ids[:, 0] = 2

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(out.loss)

    step()  # warm-up (allocations, optimizer state)
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    secs = (time.perf_counter() - t0) / a.steps
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "peft", "peft": peft.__version__, "torch": torch.__version__,
                      "transformers": transformers.__version__, "qlora": a.qlora, "full": a.full,
                      "bf16": a.bf16, "linear4bit": n4,
                      "bitsandbytes": _bnb_version(), "batch": a.batch,
                      "seq": a.seq, "threads": a.threads, "seconds_per_step": round(secs, 4),
                      "tokens_per_second": round(a.batch * a.seq / secs, 2), "loss": round(loss, 4),
                      "trainable": sum(p.numel() for p in params), "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
