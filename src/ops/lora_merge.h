// The arithmetic of merging a LoRA adapter into its base weight, with PEFT's rounding:
// delta = s·B·A, then W ± delta rounded to the base's dtype. lora/merge.h owns the adapter-level
// API (shape checks against the base, dequantizing and requantizing the weight).
// Dimension letters: R rank, in / out the base linear's input and output widths.
#pragma once

#include "core/tensor.h"

namespace tuna {

// a: [R, in] F32  b: [out, R] F32 -> delta: [out, in] F32 ([in, out] when transposed, PEFT's
// fan_in_fan_out) = scale·B·A, each element one F32 fma chain over R.
void lora_merge_delta(const Tensor& a, const Tensor& b, float scale, bool transposed,
                      Tensor& delta);

// w: [rows, cols] F32 (the base weight in F32)  delta: like w, F32  out: like w, F32, F16 or
// BF16 (the base's dtype; F32 for quantized bases, requantized by the caller).
// sign > 0 (merge): out = round(w + delta), PEFT's `weight.data += delta`;
// sign < 0 (unmerge): out = round(w − round(delta)), PEFT's `weight.data -= delta.to(dtype)`.
void lora_merge_apply(const Tensor& w, const Tensor& delta, float sign, Tensor& out);

namespace cpu {
void lora_merge_delta(const Tensor& a, const Tensor& b, float scale, bool transposed,
                      Tensor& delta);
void lora_merge_apply(const Tensor& w, const Tensor& delta, float sign, Tensor& out);
}  // namespace cpu

}  // namespace tuna
