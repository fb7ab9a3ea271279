// CPU gradient sums of squares and scaling (see grad_norm.h). Every segment is cut into fixed
// 4096-element chunks; all chunks of all segments run in one parallel loop and each segment's
// partial sums are added in chunk order, so the result depends on the segment sizes only.
#include <algorithm>
#include <vector>

#include "ops/grad_norm.h"

namespace tuna::cpu {

namespace {

// Elements per partial sum: fixed, so the summation order depends on shapes only.
constexpr int64_t kNormChunk = 1 << 12;

struct ChunkRef {
  size_t segment;
  int64_t begin, end;
};

}  // namespace

void grad_sum_squares(const Tensor& grad, std::span<const int64_t> segment_numel,
                      std::span<double> sum_sq) {
  std::vector<ChunkRef> chunks;
  int64_t offset = 0;
  for (size_t s = 0; s < segment_numel.size(); ++s) {
    const int64_t end = offset + segment_numel[s];
    for (int64_t b = offset; b < end; b += kNormChunk)
      chunks.push_back({s, b, std::min(end, b + kNormChunk)});
    offset = end;
  }
  const float* g = grad.data<float>();
  std::vector<double> partial(chunks.size(), 0.0);
  const int64_t count = static_cast<int64_t>(chunks.size());
#pragma omp parallel for schedule(static) if (count > 1)
  for (int64_t c = 0; c < count; ++c) {
    double sum = 0.0;
    for (int64_t j = chunks[c].begin; j < chunks[c].end; ++j) {
      const double x = g[j];
      sum += x * x;
    }
    partial[c] = sum;
  }
  std::fill(sum_sq.begin(), sum_sq.end(), 0.0);
  for (size_t c = 0; c < chunks.size(); ++c) sum_sq[chunks[c].segment] += partial[c];
}

void grad_scale(Tensor& grad, float coef) {
  float* g = grad.data_mut<float>();
  const int64_t n = grad.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t j = 0; j < n; ++j) g[j] = g[j] * coef;
}

}  // namespace tuna::cpu
