"""Peer side of bench/decode/batch.sh: llama.cpp (llama-cpp-python's low-level API) generating
greedily for many prompts, `batch` sequences at a time — each prompt prefilled alone in its own
sequence, then one llama_decode per step feeding every active sequence's last token (the way
llama.cpp's server batches) — `new` tokens each, same threads as tuna. Throughput = generated
tokens / wall time of the whole job (prefills included), as `tuna generate --prompts` reports it.
Prints one JSON line."""
import argparse
import json
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("prompts", help="JSONL with a \"prompt\" per line (tuna generate --prompts)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import llama_cpp as L
    import numpy as np
    texts = [json.loads(s)["prompt"] for s in open(a.prompts) if s.strip()]
    llm = L.Llama(model_path=a.model, n_ctx=64, n_threads=a.threads, verbose=False)
    prompts = [llm.tokenize(t.encode(), add_bos=True, special=False) for t in texts]
    per_seq = max(len(p) for p in prompts) + a.new + 8
    cp = L.llama_context_default_params()
    cp.n_seq_max = a.batch
    cp.n_ctx = per_seq * a.batch
    cp.n_batch = cp.n_ubatch = max(per_seq, a.batch)
    cp.n_threads = cp.n_threads_batch = a.threads
    cp.flash_attn_type = 0  # disabled, as bench_decode_peer.py
    cp.kv_unified = False
    ctx = L.llama_init_from_model(llm._model.model, cp)
    n_vocab = llm.n_vocab()
    mem = L.llama_get_memory(ctx)
    batch = L.llama_batch_init(cp.n_batch, 0, 1)

    def decode(items):  # items: (token, pos, seq, want_logits)
        batch.n_tokens = len(items)
        for i, (tok, pos, seq, want) in enumerate(items):
            batch.token[i], batch.pos[i] = tok, pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = want
        if L.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    def argmax(i):
        return int(np.argmax(np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(n_vocab,))))

    generated = 0
    t0 = time.perf_counter()
    for g0 in range(0, len(prompts), a.batch):
        group = prompts[g0:g0 + a.batch]
        L.llama_memory_clear(mem, True)
        nxt, pos = [], []
        for s, p in enumerate(group):  # each prompt prefilled alone, in its own sequence
            decode([(t, i, s, i == len(p) - 1) for i, t in enumerate(p)])
            nxt.append(argmax(len(p) - 1))
            pos.append(len(p))
        generated += len(group)
        for _ in range(a.new - 1):
            decode([(nxt[s], pos[s], s, True) for s in range(len(group))])
            for s in range(len(group)):
                nxt[s] = argmax(s)
                pos[s] += 1
            generated += len(group)
    secs = time.perf_counter() - t0
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    print(json.dumps({"impl": "llama.cpp", "llama_cpp_python": L.__version__, "prompts": len(prompts),
                      "batch": a.batch, "new_tokens": a.new, "threads": a.threads,
                      "generated_tokens": generated, "seconds": round(secs, 3),
                      "tokens_per_second": round(generated / secs, 2)}))


if __name__ == "__main__":
    main()
