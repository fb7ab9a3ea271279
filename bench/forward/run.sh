#!/usr/bin/env bash
# bench/forward: forward throughput and peak memory, tuna vs transformers (torch, CPU, F32,
# eager), same Gemma-3-270M-shaped model (random weights, BF16 on disk), same batch and threads,
# in one run. Prints both JSON lines and the ratios (tuna ÷ transformers).
#   usage: bench/forward/run.sh [batch=1] [tokens=512] [threads=2] [repeat=3]
# Needs the reference toolchain (tools/reference/setup_venv.sh builds it on first use) and a
# built tuna (scripts/setup.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
batch="${1:-1}" tokens="${2:-512}" threads="${3:-2}" repeat="${4:-3}"
venv="$("$root/tools/reference/setup_venv.sh")"
py="$venv/bin/python"
model="${TUNA_BENCH_MODEL:-$HOME/.cache/tuna/bench/gemma3-270m-random}"
CUDA_VISIBLE_DEVICES="" "$py" "$root/tools/reference/bench_forward_peer.py" "$model" --make-model
tuna_json="$(OMP_NUM_THREADS="$threads" "${TUNA_BENCH_BIN:-$root/build/bin/bench_forward}" "$model" "$batch" "$tokens" "$repeat" "$threads")"
peer_json="$(CUDA_VISIBLE_DEVICES="" OMP_NUM_THREADS="$threads" "$py" "$root/tools/reference/bench_forward_peer.py" \
  "$model" --batch "$batch" --tokens "$tokens" --repeat "$repeat" --threads "$threads")"
echo "$tuna_json"
echo "$peer_json"
"$py" - "$tuna_json" "$peer_json" <<'PY'
import json, sys
t, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "forward", "speed_ratio_tuna_over_transformers": round(t["tokens_per_second"] / p["tokens_per_second"], 3),
                  "memory_ratio_tuna_over_transformers": round(t["peak_rss_mb"] / p["peak_rss_mb"], 3)}))
PY
