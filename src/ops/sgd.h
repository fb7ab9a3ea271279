// The multi-tensor SGD update (torch.optim.SGD, single-tensor path, maximize=False) over flat F32
// buffers that hold many parameter tensors back to back: one call updates every parameter.
// Each element's arithmetic follows torch's CPU kernels operation by operation, so results do
// not depend on how elements are split across threads.
// Not here: state allocation, names and files (train/optimizer.h), AdamW (ops/adamw.h).
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace tuna {

// One parameter tensor inside the flat buffers: segments tile [0, N) in order.
struct SgdSegment {
  int64_t numel = 0;
  bool decays = true;  // in the weight-decay group (HF's decay_parameters)
  // The momentum buffer has no history yet (torch creates it at the first step as a copy of
  // the gradient): this step sets it to d instead of updating it.
  bool momentum_fresh = false;
};

// Hyper-parameters of one step. Weight decay is coupled (added to the gradient) and applies
// to decaying segments where weight_decay != 0.
struct SgdHyper {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

// param, momentum_buffer: [N] F32, updated in place; grad: [N] F32; Σ segments.numel = N.
// momentum_buffer is undefined exactly when hyper.momentum == 0 (torch keeps no buffer then).
// Per element, with torch's vectorised fmadd for every add(x, alpha=a):
//   d ← g + p·wd (decaying segments);
//   with momentum: b ← d (fresh) or b ← b·μ + d·(1 − dampening); d ← d + b·μ (nesterov) or b;
//   p ← p + d·(−lr).
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                std::span<const SgdSegment> segments, const SgdHyper& hyper);

namespace cpu {
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                std::span<const SgdSegment> segments, const SgdHyper& hyper);
}  // namespace cpu

}  // namespace tuna
