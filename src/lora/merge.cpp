// LoRA merge / unmerge with PEFT's rounding. See merge.h.
#include "lora/merge.h"

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/lora_merge.h"
#include "ops/quant_bnb4.h"

namespace tuna {

namespace {

Tensor apply_delta(const Tensor& base, const LoraAdapter& a, float sign) {
  const bool t = a.fan_in_fan_out;
  const Shape want = t ? Shape{a.in, a.out} : Shape{a.out, a.in};
  if (base.shape() != want)
    throw_user_error("lora",
                     "adapter " + a.module + " has shape " + want.to_string() +
                         " but the base weight is " + base.shape().to_string(),
                     "the adapter was trained for a different base model");
  const Tensor delta = lora_delta(a);
  const int64_t rows = base.dim(0);
  Tensor w = Tensor::empty(base.shape(), DType::F32);
  dequantize_rows(base, 0, rows, w.data_mut<float>());
  const DType dt = base.dtype();
  // F32/F16/BF16 bases keep their dtype; other formats merge in F32 and are requantized.
  const bool float_base = dt == DType::F32 || dt == DType::F16 || dt == DType::BF16;
  Tensor merged = Tensor::empty(base.shape(), float_base ? dt : DType::F32);
  lora_merge_apply(w, delta, sign, merged);
  if (float_base) return merged;
  if (dtype_is_bnb4(dt)) {
    const auto* state = dynamic_cast<const Bnb4bitState*>(base.quant_state());
    TUNA_ASSERT(state != nullptr, "NF4/FP4 weight without its Bnb4bitState");
    return quantize_weight_4bit(merged, state->params);
  }
  return merged;
}

}  // namespace

Tensor lora_delta(const LoraAdapter& a) {
  TUNA_ASSERT(a.a.dtype() == DType::F32 && a.b.dtype() == DType::F32, "LoRA A/B must be F32");
  Tensor delta = a.fan_in_fan_out ? Tensor::empty({a.in, a.out}, DType::F32)
                                  : Tensor::empty({a.out, a.in}, DType::F32);
  lora_merge_delta(a.a, a.b, a.scale, a.fan_in_fan_out, delta);
  return delta;
}

Tensor merge_lora_weight(const Tensor& base, const LoraAdapter& a) {
  return apply_delta(base, a, 1.0f);
}

Tensor unmerge_lora_weight(const Tensor& merged, const LoraAdapter& a) {
  return apply_delta(merged, a, -1.0f);
}

}  // namespace tuna
