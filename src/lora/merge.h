// Merging LoRA into base weights as PEFT's lora.Linear.merge / unmerge do:
// delta = transpose(B·A, fan_in_fan_out) · s computed in F32 (the adapter is F32); merge rounds
// W + delta once to an F16/BF16 weight's dtype (`weight.data += delta`), unmerge rounds the delta
// to that dtype first and then W - delta (`weight.data -= delta.to(dtype)`); an F32 weight adds
// in F32. A bitsandbytes NF4/FP4 weight is dequantized, the F32 delta added, and the result
// quantized again with the same parameters (peft/tuners/lora/bnb.py Linear4bit.merge). GGUF
// block weights are dequantized and the merged weight is kept in F32 (re-quantizing to GGUF
// blocks is export's job).
#pragma once

#include "core/tensor.h"
#include "model/lora_adapter.h"

namespace tuna {

// delta [out, in] F32 (GPT-2 Conv1D: [in, out]) = (B·A) · s; each element sums over r in order
// with fused multiply-adds, as MKL's small-k SGEMM kernel does.
Tensor lora_delta(const LoraAdapter& a);

// `base` with the adapter merged: same shape; dtype F32/F16/BF16 as base, NF4/FP4 re-quantized,
// GGUF blocks -> F32. A shape mismatch is a user error.
Tensor merge_lora_weight(const Tensor& base, const LoraAdapter& a);
// The inverse (PEFT's unmerge): W - delta with the same rounding; NF4/FP4 re-quantized.
Tensor unmerge_lora_weight(const Tensor& merged, const LoraAdapter& a);

}  // namespace tuna
