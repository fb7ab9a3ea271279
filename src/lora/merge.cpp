// LoRA merge / unmerge with PEFT's rounding. See merge.h.
#include "lora/merge.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/quant_bnb4.h"

namespace tuna {

namespace {

float round_to(DType dtype, float v) {
  if (dtype == DType::BF16) return bf16_to_f32(f32_to_bf16(v));
  if (dtype == DType::F16) return f16_to_f32(f32_to_f16(v));
  return v;
}

Tensor apply_delta(const Tensor& base, const LoraAdapter& a, float sign) {
  const bool t = a.fan_in_fan_out;
  const Shape want = t ? Shape{a.in, a.out} : Shape{a.out, a.in};
  if (base.shape() != want)
    throw_user_error("lora",
                     "adapter " + a.module + " has shape " + want.to_string() +
                         " but the base weight is " + base.shape().to_string(),
                     "the adapter was trained for a different base model");
  const Tensor delta = lora_delta(a);
  const float* d = delta.data<float>();
  const int64_t rows = base.dim(0), cols = base.dim(1), n = rows * cols;
  std::vector<float> w(static_cast<size_t>(n));
  dequantize_rows(base, 0, rows, w.data());
  const DType dt = base.dtype();
  if (dt == DType::F32 || dt == DType::F16 || dt == DType::BF16) {
    Tensor out = Tensor::empty(base.shape(), dt);
    for (int64_t i = 0; i < n; ++i) {
      // merge: `weight.data += delta` (F32 delta, one rounding); unmerge:
      // `weight.data -= delta.to(dtype)` (the delta rounded first).
      const float v = round_to(dt, w[i] + (sign > 0 ? d[i] : -round_to(dt, d[i])));
      if (dt == DType::F32)
        out.data_mut<float>()[i] = v;
      else if (dt == DType::BF16)
        out.data_mut<uint16_t>()[i] = f32_to_bf16(v);
      else
        out.data_mut<uint16_t>()[i] = f32_to_f16(v);
    }
    return out;
  }
  Tensor merged = Tensor::empty(base.shape(), DType::F32);
  float* m = merged.data_mut<float>();
  for (int64_t i = 0; i < n; ++i) m[i] = w[i] + sign * d[i];
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
  const int64_t R = a.r, in = a.in, out = a.out;
  const float* A = a.a.data<float>();  // [R, in]
  const float* B = a.b.data<float>();  // [out, R]
  Tensor delta = a.fan_in_fan_out ? Tensor::empty({in, out}, DType::F32)
                                  : Tensor::empty({out, in}, DType::F32);
  float* d = delta.data_mut<float>();
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) {
      float acc = 0.0f;
      for (int64_t k = 0; k < R; ++k) acc = std::fma(B[o * R + k], A[k * in + i], acc);
      const float v = acc * a.scale;
      if (a.fan_in_fan_out)
        d[i * out + o] = v;
      else
        d[o * in + i] = v;
    }
  }
  return delta;
}

Tensor merge_lora_weight(const Tensor& base, const LoraAdapter& a) {
  return apply_delta(base, a, 1.0f);
}

Tensor unmerge_lora_weight(const Tensor& merged, const LoraAdapter& a) {
  return apply_delta(merged, a, -1.0f);
}

}  // namespace tuna
