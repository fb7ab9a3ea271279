// attention_forward / attention_backward / attention_decode_forward: shape and dtype checks,
// device dispatch.
#include "ops/attention.h"

#include "core/error.h"
#include "ops/dispatch.h"

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
  }
  for (const Tensor* t : {&q, &k, &v, &out})
    TUNA_ASSERT(t->dtype() == DType::F32, "attention: F32 tensors");
}

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out, const Tensor& segment_start) {
  check_attention_args(q, k, v, key_valid, params, out, segment_start);
  const Device device =
      op_device("attention_forward", {&q, &k, &v, &key_valid, &out, &segment_start});
  if (device == Device::CPU)
    return cpu::attention_forward(q, k, v, key_valid, params, out, segment_start);
  throw_no_kernel("attention_forward", device);
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                        const AttentionParams& params, const Tensor& d_out, Tensor& dq, Tensor& dk,
                        Tensor& dv, const Tensor& segment_start) {
  check_attention_args(q, k, v, key_valid, params, d_out, segment_start);
  TUNA_ASSERT(dq.shape() == q.shape() && dk.shape() == k.shape() && dv.shape() == k.shape() &&
                  dq.dtype() == DType::F32 && dk.dtype() == DType::F32 && dv.dtype() == DType::F32,
              "attention backward: dq like q, dk/dv like k (F32)");
  const Device device = op_device("attention_backward",
                                  {&q, &k, &v, &key_valid, &d_out, &dq, &dk, &dv, &segment_start});
  if (device == Device::CPU)
    return cpu::attention_backward(q, k, v, key_valid, params, d_out, dq, dk, dv, segment_start);
  throw_no_kernel("attention_backward", device);
}

void attention_decode_forward(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                              int64_t p0, const AttentionParams& params, Tensor& out,
                              int64_t first) {
  TUNA_ASSERT(q.ndim() == 3 && k_cache.ndim() == 3 && v_cache.shape() == k_cache.shape() &&
                  out.shape() == q.shape(),
              "attention_decode: q [n,H,D], k/v cache [S,K,D], out like q");
  TUNA_ASSERT(q.dim(2) == k_cache.dim(2) && k_cache.dim(1) > 0 && q.dim(1) % k_cache.dim(1) == 0,
              "attention_decode: same D, H a multiple of K");
  TUNA_ASSERT(p0 >= 0 && first >= 0 && first <= p0 && k_cache.dim(0) == p0 + q.dim(0) - first,
              "attention_decode: S = p0 + n - first");
  TUNA_ASSERT(first == 0 || (params.window > 0 && first <= p0 - params.window + 1),
              "attention_decode: positions a query sees were dropped from the cache");
  TUNA_ASSERT(params.window >= 0 && params.softcap >= 0.0f, "attention_decode: params");
  TUNA_ASSERT(q.dtype() == DType::F32 && k_cache.dtype() == DType::F32 &&
                  v_cache.dtype() == DType::F32 && out.dtype() == DType::F32,
              "attention_decode: F32 tensors");
  const Device device = op_device("attention_decode_forward", {&q, &k_cache, &v_cache, &out});
  if (device == Device::CPU)
    return cpu::attention_decode_forward(q, k_cache, v_cache, p0, params, out, first);
  throw_no_kernel("attention_decode_forward", device);
}

}  // namespace tuna
