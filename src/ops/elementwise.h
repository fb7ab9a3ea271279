// Element-wise F32 helpers of the decoder block: the residual adds and the column copies that
// split a fused q|k|v projection (GPT-2's c_attn) and join its gradient. Forward only: each is
// its own backward (an add passes the gradient through; put_columns undoes copy_columns).
// Dimension letters: N rows, W columns of the wide tensor, width the copied columns.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

// x += y. x, y: any shape, same element count, F32.
void add_inplace(Tensor& x, const Tensor& y);
// out = a + b. a, b, out: same element count, F32 (out may alias a or b).
void add_into(const Tensor& a, const Tensor& b, Tensor& out);
// Copies columns [c0, c0 + width) of src [N, W] into dst [N, width]; both F32.
void copy_columns(const Tensor& src, int64_t c0, Tensor& dst);
// Writes src [N, width] into columns [c0, c0 + width) of dst [N, W]; both F32.
void put_columns(const Tensor& src, int64_t c0, Tensor& dst);

namespace cpu {
void add_inplace(Tensor& x, const Tensor& y);
void add_into(const Tensor& a, const Tensor& b, Tensor& out);
void copy_columns(const Tensor& src, int64_t c0, Tensor& dst);
void put_columns(const Tensor& src, int64_t c0, Tensor& dst);
}  // namespace cpu

#ifdef TUNA_HAVE_CUDA
namespace cuda {
void add_inplace(Tensor& x, const Tensor& y);
void add_into(const Tensor& a, const Tensor& b, Tensor& out);
}  // namespace cuda
#endif

}  // namespace tuna
