// Normalisations over the last dim: RMSNorm (Llama: w · x̂; Gemma: (1 + w) · x̂, both in F32,
// which is exactly their cast order when activations are F32) and LayerNorm (GPT-2).
// Statistics accumulate in F32 over the row. Backward: dx (written), dw/db (added into F32).
#pragma once

#include "core/tensor.h"

namespace tuna {

enum class RmsNormKind { LLAMA, GEMMA };  // GEMMA multiplies by (1 + w)

// x: [N, C] F32   w: [C] (any float dtype)   y: [N, C] F32 (may alias x)
void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y);

// x: [N, C] F32   w, b: [C]   y: [N, C] F32 (may alias x)
void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y);

// Backward of rms_norm_forward. x, w, eps, kind as in the forward; dy: [N, C] F32.
// dx: [N, C] F32 (written; must not alias dy)   dw: [C] F32 += Σ_n dy ⊙ x̂ (nullptr: frozen)
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind,
                       const Tensor& dy, Tensor& dx, Tensor* dw);

// Backward of layer_norm_forward. dx: [N, C] (written; must not alias dy)
// dw: [C] += Σ_n dy ⊙ x̂   db: [C] += Σ_n dy   (either nullptr: frozen)
void layer_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db);

namespace cpu {
void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y);
void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y);
void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind,
                       const Tensor& dy, Tensor& dx, Tensor* dw);
void layer_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db);
}  // namespace cpu

}  // namespace tuna
