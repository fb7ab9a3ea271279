// lora_merge_delta / lora_merge_apply: shape and dtype checks, device dispatch.
#include "ops/lora_merge.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

void lora_merge_delta(const Tensor& a, const Tensor& b, float scale, bool transposed,
                      Tensor& delta) {
  TUNA_ASSERT(a.dtype() == DType::F32 && b.dtype() == DType::F32, "LoRA A/B must be F32");
  TUNA_ASSERT(a.ndim() == 2 && b.ndim() == 2 && b.dim(1) == a.dim(0),
              "lora_merge: A [R, in], B [out, R], got " + a.shape().to_string() + ", " +
                  b.shape().to_string());
  const Shape want = transposed ? Shape{a.dim(1), b.dim(0)} : Shape{b.dim(0), a.dim(1)};
  TUNA_ASSERT(delta.shape() == want && delta.dtype() == DType::F32,
              "lora_merge: delta is " + want.to_string() + " F32");
  const Device device = op_device("lora_merge_delta", {&a, &b, &delta});
  if (device == Device::CPU) return cpu::lora_merge_delta(a, b, scale, transposed, delta);
  throw_no_kernel("lora_merge_delta", device);
}

void lora_merge_apply(const Tensor& w, const Tensor& delta, float sign, Tensor& out) {
  TUNA_ASSERT(w.dtype() == DType::F32 && delta.dtype() == DType::F32 &&
                  delta.shape() == w.shape() && out.shape() == w.shape(),
              "lora_merge: w and delta F32 of one shape, out like them");
  TUNA_ASSERT(out.dtype() == DType::F32 || out.dtype() == DType::F16 || out.dtype() == DType::BF16,
              "lora_merge: out is F32, F16 or BF16");
  TUNA_ASSERT(sign == 1.0f || sign == -1.0f, "lora_merge: sign is +1 (merge) or -1 (unmerge)");
  const Device device = op_device("lora_merge_apply", {&w, &delta, &out});
  if (device == Device::CPU) return cpu::lora_merge_apply(w, delta, sign, out);
  throw_no_kernel("lora_merge_apply", device);
}

}  // namespace tuna
