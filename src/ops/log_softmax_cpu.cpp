// CPU log-sum-exp per row (moved from cli/cmd_score.cpp): one sequential pass for the max, one
// for the sum in double, in index order — rows are independent, so they run in parallel.
#include <algorithm>
#include <cmath>

#include "ops/log_softmax.h"

namespace tuna::cpu {

std::vector<double> log_softmax_lse(const Tensor& logits_t) {
  const int64_t N = logits_t.dim(0), V = logits_t.dim(1);
  std::vector<double> lse(static_cast<size_t>(N));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* logits = logits_t.data<float>() + n * V;
    float mx = logits[0];
    for (int64_t i = 1; i < V; ++i) mx = std::max(mx, logits[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
    lse[static_cast<size_t>(n)] = mx + std::log(sum);
  }
  return lse;
}

}  // namespace tuna::cpu
