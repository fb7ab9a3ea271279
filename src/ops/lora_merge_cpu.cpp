// CPU LoRA merge arithmetic (moved from lora/merge.cpp): the same loops, element by element, so
// merged weights match PEFT's bit for bit.
#include <cmath>

#include "ops/lora_merge.h"

namespace tuna::cpu {

void lora_merge_delta(const Tensor& a, const Tensor& b, float scale, bool transposed,
                      Tensor& delta) {
  const int64_t R = a.dim(0), in = a.dim(1), out = b.dim(0);
  const float* A = a.data<float>();  // [R, in]
  const float* B = b.data<float>();  // [out, R]
  float* d = delta.data_mut<float>();
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) {
      float acc = 0.0f;
      for (int64_t k = 0; k < R; ++k) acc = std::fma(B[o * R + k], A[k * in + i], acc);
      const float v = acc * scale;
      if (transposed)
        d[i * out + o] = v;
      else
        d[o * in + i] = v;
    }
  }
}

// For an F32 out, round_to is the identity and −d equals sign·d: the same values as the plain
// w + sign·d a quantized base's merge computed before its requantization.
void lora_merge_apply(const Tensor& w_t, const Tensor& delta, float sign, Tensor& out) {
  const float* w = w_t.data<float>();
  const float* d = delta.data<float>();
  const int64_t n = w_t.numel();
  const DType dt = out.dtype();
  for (int64_t i = 0; i < n; ++i) {
    // merge: `weight.data += delta` (F32 delta, one rounding); unmerge:
    // `weight.data -= delta.to(dtype)` (the delta rounded first).
    const float v = round_to_dtype(dt, w[i] + (sign > 0 ? d[i] : -round_to_dtype(dt, d[i])));
    if (dt == DType::F32)
      out.data_mut<float>()[i] = v;
    else if (dt == DType::BF16)
      out.data_mut<uint16_t>()[i] = f32_to_bf16(v);
    else
      out.data_mut<uint16_t>()[i] = f32_to_f16(v);
  }
}

}  // namespace tuna::cpu
