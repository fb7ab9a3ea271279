#!/usr/bin/env bash
# bench/tokenize: encode throughput (MB/s) of the Gemma 3 tokenizer on a ≈ 10 MB Korean + English
# corpus, tuna vs HF tokenizers (Rust), single thread and all threads, in one run.
#   usage: bench/tokenize/run.sh [megabytes=10]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mb="${1:-10}"
venv="$("$root/tools/reference/setup_venv.sh")"
py="$venv/bin/python"
work="${TUNA_BENCH_DIR:-$HOME/.cache/tuna/bench/tokenize}"
mkdir -p "$work"
gzip -dc "$root/tests/golden/tokenizer/gemma3/tokenizer.json.gz" > "$work/tokenizer.json"
gzip -dc "$root/tests/golden/tokenizer/gemma3/tokenizer_config.json.gz" > "$work/tokenizer_config.json"
corpus="$work/corpus_${mb}mb.txt"
[[ -f "$corpus" ]] || "$py" "$root/tools/reference/bench_tokenize_peer.py" x "$corpus" \
  --make-corpus "$root/tests/golden/tokenizer" --megabytes "$mb"
t="$("${TUNA_BENCH_BIN:-$root/build/bin/bench_tokenize}" "$work/tokenizer.json" "$corpus" "$work/tokenizer_config.json")"
p1="$(RAYON_NUM_THREADS=1 "$py" "$root/tools/reference/bench_tokenize_peer.py" "$work/tokenizer.json" "$corpus")"
pn="$("$py" "$root/tools/reference/bench_tokenize_peer.py" "$work/tokenizer.json" "$corpus")"
echo "$t"; echo "$p1"; echo "$pn"
"$py" - "$t" "$p1" "$pn" <<'PY'
import json, sys
t, p1, pn = (json.loads(x) for x in sys.argv[1:4])
print(json.dumps({"bench": "tokenize", "ratio_1_thread": round(t["mb_per_s_1_thread"] / p1["mb_per_s"], 3),
                  "ratio_all_threads": round(t["mb_per_s_all_threads"] / pn["mb_per_s"], 3)}))
PY
