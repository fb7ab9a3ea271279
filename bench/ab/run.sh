#!/usr/bin/env bash
# bench/ab: tuna against tuna — two builds (A = before, B = after) on the real Gemma 3 270M GGUF,
# alternating A, B, A, B, ... so drift on a shared machine hits both alike. Measures the LoRA
# training step (bench_train_step), prompt processing (bench_forward, last-position logits) and
# greedy decoding (`tuna generate`'s tokens/s line), and prints each run and the medians as JSON.
# For "did this refactor make tuna slower?"; the peer comparisons are the other bench/ scripts.
#   usage: bench/ab/run.sh BUILD_A BUILD_B [rounds=3] [threads=2]
#   (BUILD_* are build directories holding bin/tuna, bin/bench_train_step, bin/bench_forward)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
a="${1:?usage: run.sh BUILD_A BUILD_B [rounds] [threads]}" b="${2:?usage: run.sh BUILD_A BUILD_B}"
rounds="${3:-3}" threads="${4:-2}"
model="$("$root/scripts/fetch_model.sh")"
export OMP_NUM_THREADS="$threads"
load="$(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }' &&
  echo "ab: warning: the machine is busy (load $load); timings are unreliable" >&2
results=()
one() {  # label build
  local label="$1" dir="$2" t f g
  t="$("$dir/bin/bench_train_step" "$model" 4 256 2 "$threads" 0 0 0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])')"
  f="$("$dir/bin/bench_forward" "$model" 1 512 2 "$threads" last | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])')"
  g="$("$dir/bin/tuna" generate -m "$model" -p 'The capital of France is' -n 64 2>&1 >/dev/null |
       sed -n 's/.*, \([0-9.]*\) tokens\/s\]$/\1/p' | tail -1)"
  echo "{\"build\": \"$label\", \"train_step_tokens_per_s\": $t, \"prompt512_tokens_per_s\": $f, \"decode_tokens_per_s\": ${g:-null}}"
}
for ((r = 1; r <= rounds; r++)); do
  results+=("$(one A "$a")"); echo "${results[-1]}"
  results+=("$(one B "$b")"); echo "${results[-1]}"
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(s) for s in sys.argv[1:]]
out = {"bench": "ab", "rounds": len(rows) // 2}
for key in ("train_step_tokens_per_s", "prompt512_tokens_per_s", "decode_tokens_per_s"):
    med = {b: statistics.median([r[key] for r in rows if r["build"] == b and r[key] is not None])
           for b in ("A", "B")}
    out[key] = {"A": med["A"], "B": med["B"], "B_over_A": round(med["B"] / med["A"], 3)}
print(json.dumps(out))
PY
