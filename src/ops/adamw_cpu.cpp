// CPU multi-tensor AdamW (see adamw.h): every segment's 8-lane body is cut into fixed chunks and
// its scalar tail is one more work item; all items of all segments run in one parallel loop.
// Built with -fno-math-errno (src/CMakeLists.txt), which only drops errno for sqrt of negatives:
// sqrt and division stay correctly rounded and the loop vectorises.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "ops/adamw.h"

namespace tuna::cpu {

namespace {

// Elements per work item; updates are elementwise, so this only sets granularity.
constexpr int64_t kUpdateChunk = 1 << 14;
// torch's fused CPU AdamW runs Vectorized<float> in 8-lane steps (the AVX2 kernel), then a
// scalar loop, per tensor.
constexpr int64_t kTorchVecWidth = 8;

// Per-step constants, rounded to float where torch rounds them.
struct AdamCoeffs {
  float decay;       // 1 − lr·wd
  float lerp_coeff;  // exp_avg.lerp_(grad, 1 − β1): one FMA from the nearer end
  bool lerp_small;
  float sq_coeff, beta2, bc2_sqrt, eps, neg_step_size;
};

AdamCoeffs coeffs_of(const AdamwHyper& h) {
  const double step = static_cast<double>(h.step);
  const double bias_correction1 = 1 - std::pow(h.beta1, step);
  const double bias_correction2 = 1 - std::pow(h.beta2, step);
  const float lerp_weight = static_cast<float>(1 - h.beta1);
  AdamCoeffs k;
  k.decay = static_cast<float>(1 - h.lr * h.weight_decay);
  k.lerp_small = std::fabs(lerp_weight) < 0.5f;
  k.lerp_coeff = k.lerp_small ? lerp_weight : lerp_weight - 1.0f;
  k.sq_coeff = static_cast<float>(1 - h.beta2);
  k.beta2 = static_cast<float>(h.beta2);
  k.bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  k.eps = static_cast<float>(h.eps);
  k.neg_step_size = static_cast<float>(-(h.lr / bias_correction1));
  return k;
}

// Elements [b, e) of the flat buffers. kScalarTail: the kernel's scalar loop over a tensor's
// last n % 8 elements, where the compiler contracted the other product of exp_avg_sq's update.
// kDecays and kLerpSmall as template arguments, so the loop has no branch and vectorises.
template <bool kScalarTail, bool kDecays, bool kLerpSmall>
void update_range(const AdamCoeffs& k, float* p, const float* g, float* m, float* v, int64_t b,
                  int64_t e) {
  for (int64_t j = b; j < e; ++j) {
    float pj = p[j];
    const float gj = g[j];
    if (kDecays) pj = pj * k.decay;  // decoupled weight decay, before the update
    const float mj = std::fma(k.lerp_coeff, gj - m[j], kLerpSmall ? m[j] : gj);
    const float vj = kScalarTail ? std::fma(v[j], k.beta2, (k.sq_coeff * gj) * gj)
                                 : std::fma(k.sq_coeff * gj, gj, v[j] * k.beta2);
    const float denom = std::sqrt(vj) / k.bc2_sqrt + k.eps;
    m[j] = mj;
    v[j] = vj;
    p[j] = pj + (k.neg_step_size * mj) / denom;
  }
}

struct WorkItem {
  int64_t begin, end;
  bool tail, decays;
};

template <bool kLerpSmall>
void run_item(const AdamCoeffs& k, const WorkItem& w, float* p, const float* g, float* m,
              float* v) {
  if (w.tail)
    w.decays ? update_range<true, true, kLerpSmall>(k, p, g, m, v, w.begin, w.end)
             : update_range<true, false, kLerpSmall>(k, p, g, m, v, w.begin, w.end);
  else
    w.decays ? update_range<false, true, kLerpSmall>(k, p, g, m, v, w.begin, w.end)
             : update_range<false, false, kLerpSmall>(k, p, g, m, v, w.begin, w.end);
}

}  // namespace

void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  std::span<const AdamwSegment> segments, const AdamwHyper& hyper) {
  const AdamCoeffs k = coeffs_of(hyper);
  std::vector<WorkItem> items;
  int64_t offset = 0;
  for (const AdamwSegment& s : segments) {
    const bool decays = s.decays && hyper.weight_decay != 0;
    const int64_t body_end = offset + s.numel - s.numel % kTorchVecWidth;
    for (int64_t b = offset; b < body_end; b += kUpdateChunk)
      items.push_back({b, std::min(body_end, b + kUpdateChunk), false, decays});
    if (body_end < offset + s.numel) items.push_back({body_end, offset + s.numel, true, decays});
    offset += s.numel;
  }
  float* p = param.data_mut<float>();
  const float* g = grad.data<float>();
  float* m = exp_avg.data_mut<float>();
  float* v = exp_avg_sq.data_mut<float>();
  // Threads only when there is more than one chunk's work (a lone small tensor stays serial).
  const int64_t count = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(static) if (offset > kUpdateChunk)
  for (int64_t i = 0; i < count; ++i)
    k.lerp_small ? run_item<true>(k, items[i], p, g, m, v)
                 : run_item<false>(k, items[i], p, g, m, v);
}

}  // namespace tuna::cpu
