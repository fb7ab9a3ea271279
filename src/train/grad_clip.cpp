// Gradient norm and clipping. See grad_clip.h.
#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tuna {

namespace {

// Elements per partial sum: fixed, so the summation order depends on shapes only.
constexpr int64_t kNormChunk = 1 << 12;

struct ChunkRef {
  size_t param;
  int64_t begin, end;
};

}  // namespace

float grad_total_norm(const std::vector<TrainableParam>& params) {
  std::vector<ChunkRef> chunks;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].grad.numel();
    for (int64_t b = 0; b < n; b += kNormChunk)
      chunks.push_back({i, b, std::min(n, b + kNormChunk)});
  }
  std::vector<double> partial(chunks.size(), 0.0);
  const int64_t count = static_cast<int64_t>(chunks.size());
#pragma omp parallel for schedule(static) if (count > 1)
  for (int64_t c = 0; c < count; ++c) {
    const float* g = params[chunks[c].param].grad.data<float>();
    double sum = 0.0;
    for (int64_t j = chunks[c].begin; j < chunks[c].end; ++j) {
      const double x = g[j];
      sum += x * x;
    }
    partial[c] = sum;
  }
  std::vector<double> per_tensor(params.size(), 0.0);
  for (size_t c = 0; c < chunks.size(); ++c) per_tensor[chunks[c].param] += partial[c];
  double total = 0.0;
  for (double sq : per_tensor) {
    const double norm = static_cast<float>(std::sqrt(sq));  // torch: one F32 norm per tensor
    total += norm * norm;
  }
  return static_cast<float>(std::sqrt(total));
}

float clip_grad_norm(std::vector<TrainableParam>& params, double max_norm) {
  const float total = grad_total_norm(params);
  if (!(max_norm > 0)) return total;
  // clip_coef = max_norm / (total_norm + 1e-6) in F32, clamped to 1.0; torch multiplies even
  // when the coefficient is 1 (a no-op) and lets NaN/inf through.
  const float denom = total + static_cast<float>(1e-6);
  float coef = static_cast<float>(max_norm) / denom;
  coef = std::min(coef, 1.0f);  // NaN stays NaN, as torch.clamp
  for (TrainableParam& tp : params) {
    float* g = tp.grad.data_mut<float>();
    const int64_t n = tp.grad.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t j = 0; j < n; ++j) g[j] = g[j] * coef;
  }
  return total;
}

}  // namespace tuna
