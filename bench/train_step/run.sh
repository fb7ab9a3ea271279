#!/usr/bin/env bash
# bench/train_step: one LoRA training step (forward + backward + AdamW) on the real Gemma 3 270M
# GGUF, r=8 alpha=16 on q,k,v,o,gate,up,down, batch B × sequence T, tuna vs PEFT + torch
# (transformers' GGUF loader, F32, eager) with the same thread count, in one run. Prints both
# JSON lines and the ratios (tuna ÷ PEFT). tuna trains against the stored Q4_K/Q5_0/Q8_0 blocks
# (dequantised tile by tile); PEFT trains against the F32 dequantisation of the same file.
# mode 1 (qlora): both sides train against that F32 dequantisation with the seven projections
# quantised to NF4 + double quant at load (tuna: quantize_base_4bit; PEFT: bitsandbytes' CPU
# backend). mode full: full fine-tuning, every weight trained (tuna: use_peft: false's F32
# masters; the peer: the transformers model without PEFT), AdamW over all of them.
# runs > 1 repeats the pair (tuna, then the peer) that many times and ends with the median and
# range of the ratios: on a shared VM either side's throughput moves 10-20 % between identical runs.
# precision bf16: tuna with bf16 compute (BF16 GEMMs, bench_train_step's bf16 argument) vs the peer
# under torch's CPU autocast to bfloat16, as the HF Trainer runs bf16=True on a CPU.
# A warning goes to stderr when the machine is already busy (1-minute load ≥ 0.5) at the start.
#   usage: bench/train_step/run.sh [batch=4] [seq=256] [steps=3] [threads=2] [mode=0|1|full] [runs=1]
#                                  [precision=f32|bf16]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
batch="${1:-4}" seq="${2:-256}" steps="${3:-3}" threads="${4:-2}" mode="${5:-0}" runs="${6:-1}"
precision="${7:-f32}"
bf16=0
case "$precision" in
  f32) ;;
  bf16) bf16=1 ;;
  *) echo "run.sh: precision is f32 or bf16, not '$precision'" >&2; exit 2 ;;
esac
qlora=0 full=0 peer_flags=()
case "$mode" in
  0 | lora) ;;
  1 | qlora) qlora=1 peer_flags+=(--qlora) ;;
  full) full=1 peer_flags+=(--full) ;;
  *) echo "run.sh: mode is 0 (LoRA), 1 (QLoRA) or full, not '$mode'" >&2; exit 2 ;;
esac
# PEER=current: the peers' newest releases (tools/reference/requirements-current.txt) instead of
# the pinned reference toolchain.
venv_flags=()
[[ "${PEER:-pinned}" == current ]] && venv_flags=(--current)
venv="$("$root/tools/reference/setup_venv.sh" "${venv_flags[@]}")"
py="$venv/bin/python"
model="$("$root/scripts/fetch_model.sh")"
load="$(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }' &&
  echo "run.sh: warning: the machine is busy (load $load); OpenMP timings on shared cores are unreliable" >&2
ratios=()
for ((run = 1; run <= runs; run++)); do
  t="$(OMP_NUM_THREADS="$threads" "${TUNA_BENCH_BIN:-$root/build/bin/bench_train_step}" "$model" "$batch" "$seq" "$steps" "$threads" 0 "$qlora" "$full" "$bf16")"
  p="$(OMP_NUM_THREADS="$threads" "$py" "$root/tools/reference/bench_train_step_peer.py" "$model" --batch "$batch" \
        --seq "$seq" --steps "$steps" --threads "$threads" "${peer_flags[@]}" \
        $( ((bf16)) && echo --bf16) 2>/dev/null | tail -1)"
  echo "$t"
  echo "$p"
  r="$("$py" - "$t" "$p" <<'PY'
import json, sys
t, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert t["trainable"] == p["trainable"], (t["trainable"], p["trainable"])
assert t["qlora"] == p["qlora"], (t["qlora"], p["qlora"])
assert t["full"] == p["full"], (t["full"], p["full"])
assert t["bf16"] == p["bf16"], (t["bf16"], p["bf16"])
print(json.dumps({"bench": "train_step", "qlora": t["qlora"], "full": t["full"], "bf16": t["bf16"], "batch": t["batch"], "seq": t["seq"], "threads": t["threads"],
                  "speed_ratio_tuna_over_peft": round(t["tokens_per_second"] / p["tokens_per_second"], 3),
                  "memory_ratio_tuna_over_peft": round(t["peak_rss_mb"] / p["peak_rss_mb"], 3)}))
PY
)"
  echo "$r"
  ratios+=("$r")
done
if ((runs > 1)); then
  "$py" - "${ratios[@]}" <<'PY'
import json, statistics, sys
rs = [json.loads(a) for a in sys.argv[1:]]
speed = [r["speed_ratio_tuna_over_peft"] for r in rs]
memory = [r["memory_ratio_tuna_over_peft"] for r in rs]
print(json.dumps({"bench": "train_step", "runs": len(rs), "qlora": rs[0]["qlora"], "full": rs[0]["full"], "bf16": rs[0]["bf16"],
                  "speed_ratio_median": statistics.median(speed), "speed_ratio_min": min(speed),
                  "speed_ratio_max": max(speed), "memory_ratio_median": statistics.median(memory)}))
PY
fi
