// Normalisations over the last dim: RMSNorm (Llama: w · x̂; Gemma: (1 + w) · x̂, both in F32,
// which is exactly their cast order when activations are F32) and LayerNorm (GPT-2).
// Statistics accumulate in F32 over the row. Backward sits beside them in the training issue.
#pragma once

#include "core/tensor.h"

namespace tuna {

enum class RmsNormKind { LLAMA, GEMMA };  // GEMMA multiplies by (1 + w)

// x: [N, C] F32   w: [C] (any float dtype)   y: [N, C] F32 (may alias x)
void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y);

// x: [N, C] F32   w, b: [C]   y: [N, C] F32 (may alias x)
void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y);

namespace cpu {
void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y);
void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y);
}  // namespace cpu

}  // namespace tuna
