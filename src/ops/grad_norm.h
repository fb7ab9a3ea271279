// The total L2 norm of many gradient tensors held back to back in one flat F32 buffer, as
// torch.nn.utils.clip_grad_norm_ computes it (a norm per tensor rounded to F32, then the norm of
// those norms), and the clipping multiply. Sums of squares run in double over chunks fixed by
// each tensor's size (never by the thread count) and are combined in a fixed order.
// Not here: when to clip and the clip coefficient (train/grad_clip.h).
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace tuna {

// grad: [N] F32; segment_numel: [S] sizes of the tensors in the buffer, in order (Σ = N) →
// sum_sq: [S], Σ grad² over each segment in double.
void grad_sum_squares(const Tensor& grad, std::span<const int64_t> segment_numel,
                      std::span<double> sum_sq);
// torch's total norm from the per-tensor sums of squares: √(Σ_s F32(√sum_sq[s])²) in F32.
float grad_norm_from_sum_squares(std::span<const double> sum_sq);
// grad: [N] F32; segments as above → the total norm (grad_sum_squares, then the combination).
float grad_norm(const Tensor& grad, std::span<const int64_t> segment_numel);
// grad: [N] F32, in place: grad = grad · coef (F32 products; NaN and inf pass through).
void grad_scale(Tensor& grad, float coef);

namespace cpu {
void grad_sum_squares(const Tensor& grad, std::span<const int64_t> segment_numel,
                      std::span<double> sum_sq);
void grad_scale(Tensor& grad, float coef);
}  // namespace cpu

}  // namespace tuna
