"""Peer side of bench/prompt: llama.cpp (through llama-cpp-python) prompt processing on a GGUF —
tokens/s of evaluating one prompt of N tokens (seeded random ids, BOS first), same thread count as
tuna, flash attention off. --logits all asks for logits at every position (scoring) instead of
the last one only (llama.cpp's default prompt processing). Prints one JSON line."""
import argparse
import json
import random
import resource
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--logits", choices=["last", "all"], default="last")
    a = ap.parse_args()
    import llama_cpp
    llm = llama_cpp.Llama(model_path=a.model, n_ctx=a.tokens + 8, n_batch=a.tokens, n_ubatch=a.tokens,
                          n_threads=a.threads, n_threads_batch=a.threads, logits_all=a.logits == "all",
                          flash_attn=False, verbose=False)
    rng = random.Random(1234)
    ids = [2] + [rng.randrange(1000, 200000) for _ in range(a.tokens - 1)]
    llm.reset()
    llm.eval(ids)  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.repeat):
        llm.reset()
        llm.eval(ids)
    secs = (time.perf_counter() - t0) / a.repeat
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "llama.cpp", "llama_cpp_python": llama_cpp.__version__, "model": a.model,
                      "logits": a.logits, "tokens": a.tokens, "threads": a.threads,
                      "seconds_per_prompt": round(secs, 6), "tokens_per_second": round(a.tokens / secs, 2),
                      "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
