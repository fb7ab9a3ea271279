// Linear layer: y = x · Wᵀ (+ b), the matmul every projection goes through, and its backward
// (dX = dY · W, dW = dYᵀ · X, db = Σ dY). W is a weight in any stored format ([out, in] like
// nn.Linear, or [in, out] like GPT-2's Conv1D when `transposed`); non-F32 weights are
// dequantized tile by tile into scratch, never as a whole. F32 weights go straight to OpenBLAS
// SGEMM. Weight gradients exist for F32 weights only (trainable parameters are F32).
#pragma once

#include "core/tensor.h"

namespace tuna {

// Non-F32 weights are dequantized in tiles of about this many F32 elements (whole rows).
constexpr int64_t kLinearTileElements = int64_t{1} << 20;

// x: [N, in] F32   w: [out, in] (or [in, out] if transposed)   bias: [out] or undefined
// y: [N, out] F32, overwritten.
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed = false);

// dy: [N, out] F32   w: as in forward, any format   dx: [N, in] F32 = dy · W
// (accumulate: dx += dy · W, e.g. q/k/v projections reading the same input).
void linear_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, bool transposed = false,
                           bool accumulate = false);
// dy: [N, out]   x: [N, in]   dw: [out, in] (or [in, out] if transposed) F32; dw += dyᵀ · x.
void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, bool transposed = false);
// dy: [N, out]   dbias: [out] F32; dbias += Σ_n dy[n].
void linear_backward_bias(const Tensor& dy, Tensor& dbias);

namespace cpu {
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed);
void linear_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, bool transposed,
                           bool accumulate);
void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, bool transposed);
void linear_backward_bias(const Tensor& dy, Tensor& dbias);
}  // namespace cpu

}  // namespace tuna
