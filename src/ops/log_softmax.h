// Row-wise log-sum-exp of logits, the normaliser of log-softmax: log_softmax(z)[n, i] =
// z[n, i] − lse[n]. Used for scoring (per-token log-probabilities); training's loss uses the
// fused LM head (ops/cross_entropy.h). Does not check the logits are finite (the caller does).
// Dimension letters: N rows, V vocabulary.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace tuna {

// logits: [N, V] F32, V > 0 -> lse [N] on the host: max + log Σ exp(z − max), the max in F32
// and the sum of exponentials in double.
std::vector<double> log_softmax_lse(const Tensor& logits);

namespace cpu {
std::vector<double> log_softmax_lse(const Tensor& logits);
}  // namespace cpu

#ifdef TUNA_HAVE_CUDA
namespace cuda {
std::vector<double> log_softmax_lse(const Tensor& logits);
}  // namespace cuda
#endif

}  // namespace tuna
