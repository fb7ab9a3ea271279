// Gradient clipping with torch.nn.utils.clip_grad_norm_ semantics (what the HF Trainer calls
// for max_grad_norm): the L2 norm over all gradients, then every gradient multiplied by
// min(max_norm / (norm + 1e-6), 1). The arithmetic is the ops/grad_norm.h op's: one call over
// the flat gradient buffer when the grads are views of one (train/param_buffer.h), one call per
// tensor otherwise, with the same result. Does not skip non-finite norms (torch's
// error_if_nonfinite=False behaviour).
#pragma once

#include <vector>

#include "train/optimizer.h"

namespace tuna {

// Total L2 norm of every param's grad, as torch computes it: a norm per tensor (rounded to
// F32), then the norm of those norms (rounded to F32).
float grad_total_norm(const std::vector<TrainableParam>& params);

// Clips in place when max_norm > 0 and returns the norm before clipping (the Trainer's
// logged grad_norm). max_norm <= 0 only measures.
float clip_grad_norm(std::vector<TrainableParam>& params, double max_norm);

}  // namespace tuna
