"""Peer side of bench/tokenize: HF tokenizers (Rust) encode throughput on the same corpus, one
line per text, add_special_tokens=False — encode_batch with RAYON_NUM_THREADS=1 (set by the
caller for the 1-thread figure) and with all threads. Also writes the corpus (--make-corpus):
≈ 10 MB of Korean + English lines built deterministically from the committed tokenizer golden
corpus (generated text). Prints one JSON line."""
import argparse
import gzip
import json
import os
import time


def make_corpus(golden_dir, out, megabytes):
    texts = []
    with gzip.open(os.path.join(golden_dir, "corpus.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t = r.get("text")
            if isinstance(t, str) and t and "\n" not in t and "\ufffd" not in t:
                texts.append(t)
    target = megabytes * 1_000_000
    size = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        i = 0
        while size < target:
            t = texts[i % len(texts)]
            f.write(t + "\n")
            size += len(t.encode("utf-8")) + 1
            i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer_json")
    ap.add_argument("corpus")
    ap.add_argument("--make-corpus", metavar="GOLDEN_DIR")
    ap.add_argument("--megabytes", type=int, default=10)
    a = ap.parse_args()
    if a.make_corpus:
        make_corpus(a.make_corpus, a.corpus, a.megabytes)
        return
    import tokenizers
    tok = tokenizers.Tokenizer.from_file(a.tokenizer_json)
    lines = open(a.corpus, encoding="utf-8", newline="").read().split("\n")[:-1]
    nbytes = sum(len(l.encode("utf-8")) + 1 for l in lines)
    tok.encode_batch(lines[:2000], add_special_tokens=False)  # warm-up
    t0 = time.perf_counter()
    enc = tok.encode_batch(lines, add_special_tokens=False)
    secs = time.perf_counter() - t0
    print(json.dumps({"impl": "hf-tokenizers", "version": tokenizers.__version__,
                      "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "all"),
                      "corpus_mb": round(nbytes / 1e6, 2), "tokens": sum(len(e.ids) for e in enc),
                      "mb_per_s": round(nbytes / 1e6 / secs, 2)}))


if __name__ == "__main__":
    main()
