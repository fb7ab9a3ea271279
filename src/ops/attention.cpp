// attention_forward: argument checks and device dispatch.
#include "ops/attention.h"

#include "core/error.h"

namespace tuna {

static void check_attention_args(const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& key_valid, const AttentionParams& params,
                                 const Tensor& out, const Tensor& segment_start) {
  TUNA_ASSERT(q.ndim() == 4 && k.ndim() == 4 && v.shape() == k.shape() && out.shape() == q.shape(),
              "attention: q [B,T,H,D], k/v [B,T,K,D], out like q");
  TUNA_ASSERT(q.dim(0) == k.dim(0) && q.dim(1) == k.dim(1) && q.dim(3) == k.dim(3),
              "attention: dims");
  TUNA_ASSERT(k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0, "attention: H must be a multiple of K");
  TUNA_ASSERT(!key_valid.defined() ||
                  (key_valid.dtype() == DType::I32 && key_valid.numel() == q.dim(0) * q.dim(1)),
              "attention: key_valid is [B, T] I32");
  TUNA_ASSERT(params.window >= 0 && params.softcap >= 0.0f, "attention: params");
  if (segment_start.defined()) {
    TUNA_ASSERT(segment_start.dtype() == DType::I32 && segment_start.numel() == q.dim(0) * q.dim(1),
                "attention: segment_start is [B, T] I32");
    const int32_t* s = segment_start.data<int32_t>();
    for (int64_t i = 0, T = q.dim(1); i < segment_start.numel(); ++i)
      TUNA_ASSERT(s[i] >= 0 && s[i] <= i % T, "attention: segment_start[i] must lie in [0, i]");
  }
  for (const Tensor* t : {&q, &k, &v, &out})
    TUNA_ASSERT(t->dtype() == DType::F32, "attention: F32 tensors");
}

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out, const Tensor& segment_start) {
  check_attention_args(q, k, v, key_valid, params, out, segment_start);
  if (q.device() == Device::CPU)
    return cpu::attention_forward(q, k, v, key_valid, params, out, segment_start);
  throw_internal_error("attention", "no CUDA backend in this build");
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                        const AttentionParams& params, const Tensor& d_out, Tensor& dq, Tensor& dk,
                        Tensor& dv, const Tensor& segment_start) {
  check_attention_args(q, k, v, key_valid, params, d_out, segment_start);
  TUNA_ASSERT(dq.shape() == q.shape() && dk.shape() == k.shape() && dv.shape() == k.shape() &&
                  dq.dtype() == DType::F32 && dk.dtype() == DType::F32 && dv.dtype() == DType::F32,
              "attention backward: dq like q, dk/dv like k (F32)");
  if (q.device() == Device::CPU)
    return cpu::attention_backward(q, k, v, key_valid, params, d_out, dq, dk, dv, segment_start);
  throw_internal_error("attention", "no CUDA backend in this build");
}

}  // namespace tuna
