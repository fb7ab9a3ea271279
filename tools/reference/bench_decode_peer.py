"""Peer side of bench/decode: llama.cpp (through llama-cpp-python) greedy decoding on a GGUF —
prefill a prompt of P seeded random ids (BOS first; not timed), then decode N tokens one at a time
(each step evaluates the previous argmax token), same thread count as tuna, flash attention off.
Tokens/s of the decoding steps only. Prints one JSON line."""
import argparse
import json
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
    import llama_cpp
    import numpy as np
    llm = llama_cpp.Llama(model_path=a.model, n_ctx=a.prompt + a.new + 8, n_batch=max(a.prompt, 8),
                          n_threads=a.threads, n_threads_batch=a.threads, flash_attn=False,
                          verbose=False)
    rng = random.Random(1234)
    prompt = [2] + [rng.randrange(1000, 200000) for _ in range(a.prompt - 1)]

    n_vocab = llm.n_vocab()

    def last_logits():
        # Without logits_all llama-cpp-python keeps no scores: read the context's last row.
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,))

    def run():
        llm.reset()
        llm.eval(prompt)
        ids = []
        t0 = time.perf_counter()
        for _ in range(a.new):
            nxt = int(np.argmax(last_logits()))
            ids.append(nxt)
            llm.eval([nxt])
        return time.perf_counter() - t0, ids

    run()  # warm-up
    times = [run()[0] for _ in range(a.repeat)]
    secs = sum(times) / len(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "llama.cpp", "llama_cpp_python": llama_cpp.__version__, "model": a.model,
                      "prompt_tokens": a.prompt, "new_tokens": a.new, "threads": a.threads,
                      "seconds_per_token": round(secs / a.new, 6),
                      "tokens_per_second": round(a.new / secs, 2),
                      "best_tokens_per_second": round(a.new / min(times), 2),
                      "peak_rss_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
