"""Peer side of bench/forward: transformers (torch, CPU, F32, eager) forward throughput and peak
memory on the same model, batch and thread count as tuna's bench_forward. Also creates the
Gemma-3-270M-shaped random model both sides load (--make-model), stored in BF16 like the real
checkpoint. Prints one JSON line."""
import argparse
import json
import os
import resource
import time


def gemma3_270m_config():
    from transformers import Gemma3TextConfig
    layer_types = ["sliding_attention" if (i + 1) % 6 else "full_attention" for i in range(18)]
    return Gemma3TextConfig(
        vocab_size=262144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18,
        num_attention_heads=4, num_key_value_heads=1, head_dim=256, max_position_embeddings=32768,
        rms_norm_eps=1e-6, rope_theta=1_000_000.0, rope_local_base_freq=10_000.0, sliding_window=512,
        layer_types=layer_types, query_pre_attn_scalar=256, hidden_activation="gelu_pytorch_tanh",
        tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0)


def make_model(path):
    import torch
    from transformers import Gemma3ForCausalLM
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(gemma3_270m_config()).to(torch.bfloat16)
    model.save_pretrained(path, safe_serialization=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--make-model", action="store_true")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.make_model:
        make_model(a.model)
        return
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(a.threads)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(1, model.config.vocab_size, (a.batch, a.tokens), generator=g)
    with torch.inference_mode():
        model(ids)  # warm-up
        t0 = time.perf_counter()
        for _ in range(a.repeat):
            out = model(ids).logits
        secs = (time.perf_counter() - t0) / a.repeat
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "transformers", "version": __import__("transformers").__version__,
                      "torch": torch.__version__, "model": a.model, "batch": a.batch, "tokens": a.tokens,
                      "threads": torch.get_num_threads(), "seconds_per_forward": round(secs, 6),
                      "tokens_per_second": round(a.batch * a.tokens / secs, 2), "peak_rss_mb": round(peak_mb, 1),
                      "checksum": float(out[0, 0, 0])}))


if __name__ == "__main__":
    main()
