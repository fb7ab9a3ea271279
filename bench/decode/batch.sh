#!/usr/bin/env bash
# bench/decode, batched: `tuna generate --prompts` on bench/decode/prompts16.jsonl (16 prompts,
# `new` greedy tokens each) at batch 1 and batch 8, against llama.cpp doing the same through its
# batch API (tools/reference/bench_decode_batch_peer.py: each prompt prefilled in its own
# sequence, one llama_decode per step for all active sequences), same threads, `runs` alternating
# rounds. Throughput = generated tokens / wall time of the whole job (prefills included). Prints
# every JSON line, then the medians and the ratios: batch 8 ÷ batch 1 for each, tuna ÷ llama.cpp
# at each batch size. TUNA_GENERATE_FLAGS adds flags to tuna's side (e.g. --exact).
#   usage: bench/decode/batch.sh [runs=3] [threads=2] [new=64]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-3}" threads="${2:-2}" new="${3:-64}"
venv="$("$root/tools/reference/setup_venv.sh")"
py="$venv/bin/python"
model="$("$root/scripts/fetch_model.sh")"
prompts="$root/bench/decode/prompts16.jsonl"
tuna="${TUNA_BIN:-$root/build/bin/tuna}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lines=()
for ((i = 0; i < runs; i++)); do
  for b in 1 8; do
    # tuna's closing stderr line: "[16 prompts, 1024 generated tokens in 3.5 s: 294.1 tokens/s, batch 8]"
    summary="$("$tuna" generate -m "$model" --prompts "$prompts" --batch-size "$b" \
      --max-new-tokens "$new" --greedy -t "$threads" ${TUNA_GENERATE_FLAGS:-} -o "$tmp/out.jsonl" 2>&1 \
      | grep -o '[0-9]* generated tokens in [0-9.]* s' | tail -1)"
    read -r tokens _ _ _ secs _ <<<"$summary"
    t="{\"impl\": \"tuna\", \"batch\": $b, \"generated_tokens\": $tokens, \"seconds\": $secs, \"tokens_per_second\": $(awk "BEGIN {print $tokens / $secs}")}"
    p="$("$py" "$root/tools/reference/bench_decode_batch_peer.py" "$model" "$prompts" --batch "$b" \
          --new "$new" --threads "$threads" 2>/dev/null)"
    echo "$t"
    echo "$p"
    lines+=("$t" "$p")
  done
done
"$py" - "${lines[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(s) for s in sys.argv[1:]]
def med(impl, b):
    return statistics.median(r["tokens_per_second"] for r in rows if r["impl"] == impl and r["batch"] == b)
t1, t8, p1, p8 = med("tuna", 1), med("tuna", 8), med("llama.cpp", 1), med("llama.cpp", 8)
print(json.dumps({"bench": "decode_batch", "runs": len(rows) // 4, "tuna_b1": t1, "tuna_b8": t8,
                  "llamacpp_b1": p1, "llamacpp_b8": p8,
                  "tuna_b8_over_b1": round(t8 / t1, 3), "llamacpp_b8_over_b1": round(p8 / p1, 3),
                  "tuna_over_llamacpp_b1": round(t1 / p1, 3), "tuna_over_llamacpp_b8": round(t8 / p8, 3)}))
PY
