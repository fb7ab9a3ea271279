"""Peer side of bench/decode's deviation study (bench_deviation): llama.cpp (llama-cpp-python) on
the same GGUF and the same token ids. For each record of bench_deviation's OUT.json — the prompt
ids, tuna's exact-path (F32) greedy continuation and its log-probs — llama.cpp (a) continues the
prompt greedily on its own (the tokens it shares with the exact continuation before the first
difference) and (b) is fed the exact continuation one token at a time (teacher forcing, as
decoding feeds it): |Δ log-prob| of each exact token against the exact path's. llama.cpp rounds
activations to 8 bits in its quantized dot products, so these are its deviation from F32 on the
same inputs. Prints one JSON line."""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("records", help="bench_deviation's OUT.json")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import llama_cpp
    import numpy as np
    records = json.load(open(a.records))
    n_ctx = max(len(r["prompt_ids"]) + len(r["exact_ids"]) for r in records) + 8
    llm = llama_cpp.Llama(model_path=a.model, n_ctx=n_ctx, n_batch=n_ctx, n_threads=a.threads,
                          n_threads_batch=a.threads, flash_attn=False, verbose=False)
    n_vocab = llm.n_vocab()

    def last_logits():
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,)).astype(np.float64)

    def log_prob(logits, i):
        m = logits.max()
        return float(logits[i] - m - np.log(np.exp(logits - m).sum()))

    agree, identical, deltas = [], 0, []
    for r in records:
        prompt, exact, lp_exact = r["prompt_ids"], r["exact_ids"], r["exact_logprobs"]
        n = len(exact)
        llm.reset()
        llm.eval(prompt)
        own = []
        for s in range(n):
            own.append(int(np.argmax(last_logits())))
            if s + 1 < n:
                llm.eval([own[-1]])
        same = 0
        while same < n and own[same] == exact[same]:
            same += 1
        agree.append(same / n)
        identical += same == n
        llm.reset()
        llm.eval(prompt)
        for s in range(n):
            deltas.append(abs(log_prob(last_logits(), exact[s]) - lp_exact[s]))
            if s + 1 < n:
                llm.eval([exact[s]])
    print(json.dumps({"impl": "llama.cpp vs tuna exact", "llama_cpp_python": llama_cpp.__version__,
                      "prompts": len(records), "new_tokens": len(records[0]["exact_ids"]),
                      "greedy_agree_prefix_mean": round(sum(agree) / len(agree), 4),
                      "greedy_identical_prompts": identical,
                      "max_abs_dlogprob": round(max(deltas), 4),
                      "mean_abs_dlogprob": round(sum(deltas) / len(deltas), 5)}))


if __name__ == "__main__":
    main()
