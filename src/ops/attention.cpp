// attention_forward: argument checks and device dispatch.
#include "ops/attention.h"

#include "core/error.h"

namespace tuna {

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out) {
  TUNA_ASSERT(q.ndim() == 4 && k.ndim() == 4 && v.shape() == k.shape() && out.shape() == q.shape(),
              "attention: q [B,T,H,D], k/v [B,T,K,D], out like q");
  TUNA_ASSERT(q.dim(0) == k.dim(0) && q.dim(1) == k.dim(1) && q.dim(3) == k.dim(3),
              "attention: dims");
  TUNA_ASSERT(k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0, "attention: H must be a multiple of K");
  TUNA_ASSERT(!key_valid.defined() ||
                  (key_valid.dtype() == DType::I32 && key_valid.numel() == q.dim(0) * q.dim(1)),
              "attention: key_valid is [B, T] I32");
  TUNA_ASSERT(params.window >= 0 && params.softcap >= 0.0f, "attention: params");
  if (q.device() == Device::CPU) return cpu::attention_forward(q, k, v, key_valid, params, out);
  throw_internal_error("attention", "no CUDA backend in this build");
}

}  // namespace tuna
