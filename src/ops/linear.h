// Linear layer: y = x · Wᵀ (+ b), the matmul every projection goes through. W is a weight in
// any stored format ([out, in] like nn.Linear, or [in, out] like GPT-2's Conv1D when
// `transposed`); non-F32 weights are dequantized tile by tile into scratch, never as a whole.
// F32 weights go straight to OpenBLAS SGEMM. Backward (dX, dW) sits beside it in the training
// issue.
#pragma once

#include "core/tensor.h"

namespace tuna {

// Non-F32 weights are dequantized in tiles of about this many F32 elements (whole rows).
constexpr int64_t kLinearTileElements = int64_t{1} << 20;

// x: [N, in] F32   w: [out, in] (or [in, out] if transposed)   bias: [out] or undefined
// y: [N, out] F32, overwritten.
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed = false);

namespace cpu {
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed);
}

}  // namespace tuna
