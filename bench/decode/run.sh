#!/usr/bin/env bash
# bench/decode: greedy decoding (tokens/s of the decoding steps, prefill excluded) on the real
# Gemma 3 270M GGUF, tuna vs llama.cpp (llama-cpp-python from the reference toolchain) and
# transformers (the GGUF dequantized to F32, torch), same threads, in one run: `runs` alternating
# rounds (tuna, llama.cpp, transformers), each the mean of `repeat` decodes of `new` tokens after
# a `prompt`-token prefill. Prints every JSON line, then the medians and the ratios (tuna ÷ peer;
# memory is peak RSS). The machine's ceiling: build/bin/bench_matvec MODEL (read bandwidth, the
# bytes a step reads, the per-op profile).
#   usage: bench/decode/run.sh [runs=5] [threads=2] [prompt=32] [new=64] [repeat=3]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-5}" threads="${2:-2}" prompt="${3:-32}" new="${4:-64}" repeat="${5:-3}"
venv="$("$root/tools/reference/setup_venv.sh")"
py="$venv/bin/python"
model="$("$root/scripts/fetch_model.sh")"
lines=()
for ((i = 0; i < runs; i++)); do
  t="$(OMP_NUM_THREADS="$threads" "${TUNA_BENCH_BIN:-$root/build/bin/bench_decode}" "$model" \
        "$prompt" "$new" "$repeat" "$threads")"
  p="$("$py" "$root/tools/reference/bench_decode_peer.py" "$model" --prompt "$prompt" --new "$new" \
        --threads "$threads" --repeat "$repeat")"
  h="$("$py" "$root/tools/reference/bench_decode_hf.py" "$model" --prompt "$prompt" --new "$new" \
        --threads "$threads" --repeat "$repeat" 2>/dev/null)"
  echo "$t"
  echo "$p"
  echo "$h"
  lines+=("$t" "$p" "$h")
done
"$py" - "${lines[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(s) for s in sys.argv[1:]]
def med(impl, key):
    return statistics.median(r[key] for r in rows if r["impl"] == impl)
t, p, h = (med(i, "tokens_per_second") for i in ("tuna", "llama.cpp", "transformers"))
tm, pm, hm = (med(i, "peak_rss_mb") for i in ("tuna", "llama.cpp", "transformers"))
print(json.dumps({"bench": "decode", "runs": len(rows) // 3, "tuna_tokens_per_second": t,
                  "llamacpp_tokens_per_second": p, "transformers_tokens_per_second": h,
                  "speed_ratio_tuna_over_llamacpp": round(t / p, 3),
                  "speed_ratio_tuna_over_transformers": round(t / h, 3),
                  "tuna_peak_rss_mb": tm, "llamacpp_peak_rss_mb": pm, "transformers_peak_rss_mb": hm,
                  "memory_ratio_tuna_over_llamacpp": round(tm / pm, 3),
                  "memory_ratio_tuna_over_transformers": round(tm / hm, 3)}))
PY
