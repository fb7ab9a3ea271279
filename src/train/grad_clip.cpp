// Gradient norm and clipping. See grad_clip.h.
#include "train/grad_clip.h"

#include <algorithm>
#include <cstdint>

#include "ops/grad_norm.h"

namespace tuna {

namespace {

std::vector<Tensor> grads_of(const std::vector<TrainableParam>& params) {
  std::vector<Tensor> grads;
  grads.reserve(params.size());
  for (const TrainableParam& p : params) grads.push_back(p.grad);
  return grads;
}

// The global L2 norm of `params`' gradients: one op over `flat` when they lie back to back in
// one buffer (the flat gradient store), else tensor by tensor; the same value either way.
float total_norm(const std::vector<TrainableParam>& params, const Tensor& flat) {
  std::vector<int64_t> sizes;
  sizes.reserve(params.size());
  for (const TrainableParam& p : params) sizes.push_back(p.grad.numel());
  if (flat.defined()) return grad_norm(flat, sizes);
  std::vector<double> sum_sq(params.size(), 0.0);
  for (size_t i = 0; i < params.size(); ++i)
    grad_sum_squares(params[i].grad.reshape({sizes[i]}), std::span(sizes).subspan(i, 1),
                     std::span(sum_sq).subspan(i, 1));
  return grad_norm_from_sum_squares(sum_sq);
}

}  // namespace

float grad_total_norm(const std::vector<TrainableParam>& params) {
  return total_norm(params, Tensor::span_of(grads_of(params)));
}

float clip_grad_norm(std::vector<TrainableParam>& params, double max_norm) {
  Tensor flat = Tensor::span_of(grads_of(params));
  const float total = total_norm(params, flat);
  if (!(max_norm > 0)) return total;
  // clip_coef = max_norm / (total_norm + 1e-6) in F32, clamped to 1.0; torch multiplies even
  // when the coefficient is 1 (a no-op) and lets NaN/inf through.
  const float denom = total + static_cast<float>(1e-6);
  float coef = static_cast<float>(max_norm) / denom;
  coef = std::min(coef, 1.0f);  // NaN stays NaN, as torch.clamp
  if (flat.defined()) {
    grad_scale(flat, coef);
  } else {
    for (TrainableParam& tp : params) grad_scale(tp.grad, coef);
  }
  return total;
}

}  // namespace tuna
