// lm_head_cross_entropy and count_loss_tokens: shape and dtype checks, device dispatch (the
// kernels read the labels: their values are data).
#include "ops/cross_entropy.h"

#include <string>

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/dispatch.h"

namespace tuna {

namespace {

struct LabelDims {
  int64_t B, T;
};

LabelDims label_dims(const Tensor& labels) {
  TUNA_ASSERT(labels.dtype() == DType::I32 && (labels.ndim() == 1 || labels.ndim() == 2),
              "cross_entropy: labels are [B, T] or [T] I32");
  return labels.ndim() == 2 ? LabelDims{labels.dim(0), labels.dim(1)} : LabelDims{1, labels.dim(0)};
}

}  // namespace

int64_t count_loss_tokens(const Tensor& labels) {
  label_dims(labels);
  const Device device = op_device("count_loss_tokens", {&labels});
  if (device == Device::CPU) return cpu::count_loss_tokens(labels);
  throw_no_kernel("count_loss_tokens", device);
}

int64_t lm_head_loss_scratch_bytes(int64_t tokens, int64_t vocab, int64_t hidden,
                                   bool head_trained) {
  return cpu::lm_head_loss_scratch_bytes(tokens, vocab, hidden, head_trained);
}

LmHeadLossResult lm_head_cross_entropy(const Tensor& hidden, const Tensor& w, const Tensor& labels,
                                       float final_softcap, float grad_scale, Tensor* d_hidden,
                                       Tensor* d_w) {
  const LabelDims d = label_dims(labels);
  TUNA_ASSERT(hidden.dtype() == DType::F32 && hidden.ndim() == labels.ndim() + 1,
              "cross_entropy: hidden is [B, T, C] (or [T, C]) F32 matching labels");
  TUNA_ASSERT(hidden.numel() == d.B * d.T * hidden.dim(-1), "cross_entropy: hidden vs labels " +
                                                                hidden.shape().to_string() + " " +
                                                                labels.shape().to_string());
  TUNA_ASSERT(w.ndim() == 2 && w.dim(1) == hidden.dim(-1),
              "cross_entropy: head weight is [V, C], got " + w.shape().to_string());
  TUNA_ASSERT(final_softcap >= 0.0f, "cross_entropy: softcap >= 0");
  TUNA_ASSERT(d_hidden == nullptr ||
                  (d_hidden->shape() == hidden.shape() && d_hidden->dtype() == DType::F32),
              "cross_entropy: d_hidden shaped like hidden");
  TUNA_ASSERT(d_w == nullptr || (d_w->shape() == w.shape() && d_w->dtype() == DType::F32),
              "cross_entropy: d_w shaped like w, F32");
  TUNA_ASSERT(d_w == nullptr || w.dtype() == DType::F32,
              "cross_entropy: a trainable head is F32 (quantized heads are frozen)");
  if (!weight_format_supported(w.dtype())) dequantize_rows(w, 0, 0, nullptr);  // throws
  const Device device = op_device("lm_head_cross_entropy", {&hidden, &w, &labels, d_hidden, d_w});
  if (device == Device::CPU)
    return cpu::lm_head_cross_entropy(hidden, w, labels, final_softcap, grad_scale, d_hidden, d_w);
  throw_no_kernel("lm_head_cross_entropy", device);
}

}  // namespace tuna
