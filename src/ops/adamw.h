// The multi-tensor AdamW update (torch.optim.AdamW, amsgrad=False, maximize=False) over flat F32
// buffers that hold many parameter tensors back to back: one call updates every parameter. Each
// element's arithmetic follows torch 2.9's fused CPU kernel (what adamw_torch_fused runs)
// operation by operation, so results do not depend on how elements are split across threads.
// Not here: state allocation, names and files (train/optimizer.h), 8-bit AdamW.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace tuna {

// One parameter tensor inside the flat buffers: segments tile [0, N) in order. The kernel needs
// the boundaries because torch's fused kernel runs per tensor (8-lane body, then a scalar tail
// whose contraction differs), and `decays` because weight decay applies per parameter group.
struct AdamwSegment {
  int64_t numel = 0;
  bool decays = true;  // in the weight-decay group (HF's decay_parameters)
};

// Hyper-parameters of one step; `step` is the 1-based count including this update.
struct AdamwHyper {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  int64_t step = 1;
};

// param, exp_avg, exp_avg_sq: [N] F32, updated in place; grad: [N] F32; Σ segments.numel = N.
// Per element: p ← p·(1 − lr·wd) (decaying segments, wd ≠ 0), m ← lerp(m, g, 1 − β1),
// v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps).
void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  std::span<const AdamwSegment> segments, const AdamwHyper& hyper);

namespace cpu {
void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  std::span<const AdamwSegment> segments, const AdamwHyper& hyper);
}  // namespace cpu

}  // namespace tuna
