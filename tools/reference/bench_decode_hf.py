"""Python users' peer of bench/decode: transformers greedy decoding of the same GGUF (loaded with
`from_pretrained(dir, gguf_file=...)`, which dequantizes to F32 — how transformers runs a GGUF),
torch with the same thread count: prefill a prompt of P seeded random ids (BOS first; not
timed), then N steps of one token through the KV cache (past_key_values), each the argmax of
the last logits. Tokens/s of the decoding steps only. Prints one JSON line."""
import argparse
import json
import os
import random
import resource
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import torch
    import transformers
    torch.set_num_threads(a.threads)
    path = os.path.abspath(a.model)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32)
    model.eval()
    rng = random.Random(1234)
    prompt = torch.tensor([[2] + [rng.randrange(1000, 200000) for _ in range(a.prompt - 1)]])

    @torch.inference_mode()
    def run():
        out = model(prompt, use_cache=True)
        past, logits = out.past_key_values, out.logits[:, -1, :]
        ids = []
        t0 = time.perf_counter()
        for _ in range(a.new):
            nxt = logits.argmax(dim=-1, keepdim=True)
            ids.append(int(nxt))
            out = model(nxt, past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[:, -1, :]
        return time.perf_counter() - t0, ids

    run()  # warm-up
    times = [run()[0] for _ in range(a.repeat)]
    secs = sum(times) / len(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "transformers", "transformers": transformers.__version__,
                      "torch": torch.__version__, "model": a.model, "prompt_tokens": a.prompt,
                      "new_tokens": a.new, "threads": a.threads,
                      "seconds_per_token": round(secs / a.new, 6),
                      "tokens_per_second": round(a.new / secs, 2),
                      "best_tokens_per_second": round(a.new / min(times), 2),
                      "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
